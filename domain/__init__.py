"""Pure domain model: aggregates, value objects and rules. No I/O, no frameworks."""
