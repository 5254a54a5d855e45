"""Read models built by following the event log; each tracks its position and can be rebuilt."""
