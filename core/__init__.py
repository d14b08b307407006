"""The shared core below the service (hub/) and the worker (streams/): privacy, policy,
the disclosure log, the store and the bus (the broker seam and the ingest envelope)."""
