"""Structured logs (structlog) with a redaction step that runs before anything is rendered.

Keys that name personal data are dropped whole; any string that looks like a CPR number is
masked. The redaction step has its own test (tests/unit/test_logs.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

PERSONAL_KEYS = frozenset({
    "cpr", "name", "address", "subject", "related_persons", "description", "necessity",
    "password", "token", "authorization", "key",
})
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}[- ]?\d{4}(?!\d)")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _CPR_LIKE.sub("[cpr]", value)
    if isinstance(value, Mapping):
        return {k: "[redacted]" if str(k).lower() in PERSONAL_KEYS else _scrub(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_scrub(v) for v in value) if not isinstance(value, tuple) \
            else tuple(_scrub(v) for v in value)
    return value


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]
           ) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure(level: str = "info") -> None:
    logging.basicConfig(format="%(message)s", level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
