"""Disclosure-log entry ids and the entry's message form on the ``disclosures`` topic.

Entry ids: an act the worker can replay (a routed or rejected event) gets a deterministic id
from :func:`derived_entry_id`, so a replay is integrated once; any other act gets a random one.
"""

from __future__ import annotations

import hashlib
import secrets

from schemas.disclosures import LogEntry


def derived_entry_id(*parts: str) -> str:
    """A deterministic entry id: SHA-256 over the parts, unit-separated, as hex."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def random_entry_id() -> str:
    return secrets.token_hex(16)


def entry_message(entry: LogEntry) -> bytes:
    return entry.model_dump_json(exclude_none=True).encode("utf-8")


def parse_entry_message(value: bytes) -> LogEntry:
    return LogEntry.model_validate_json(value)
