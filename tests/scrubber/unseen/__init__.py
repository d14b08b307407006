"""A held-apart evaluation of the scrubber on names no detector list knows (issue 12)."""
