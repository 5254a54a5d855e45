"""Campaign delivery: the per-run message queue, throttling, and the worker that hands messages over."""
