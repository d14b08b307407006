"""One repository per concern; :class:`core.store.Store` has them all."""
