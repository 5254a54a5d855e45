"""The Litestar HTTP interface: JSON API under /api/v1 and operational endpoints."""
