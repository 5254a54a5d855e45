"""One module per ESP; each exposes ``PROVIDER``. The registry finds them by scanning this package."""
