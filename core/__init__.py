"""The shared core below the service (``hub``) and the worker (``streams``): parts both use.

``core.bus`` is the broker seam (a produce/consume/commit protocol with an aiokafka and an
in-memory implementation) and the ingest envelope that travels over it.
"""
