"""The stream processor: the faust app, its agents, and the pure pipeline steps they call."""
