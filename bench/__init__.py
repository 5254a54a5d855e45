"""Benchmarks of the event store, projection replay and mapper (see bench/README.md)."""
