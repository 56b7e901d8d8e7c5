"""The queue: job states, matching a worker to work (pure), the atomic claim, and the sweeps."""
