"""Use cases: one eventsourcing Application per capability, all writing to one shared event store."""
