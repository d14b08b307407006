"""SSP Hub, the service: HTTP API, web UI, CLI, demo."""
