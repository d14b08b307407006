"""SSP Hub: the FastAPI service, CLI, store, keys and projections."""
