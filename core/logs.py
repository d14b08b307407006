"""Structured logs (structlog) with a redaction step that runs before anything is rendered.

Keys that name personal data (the schema's marked fields, :mod:`schemas.personal`) or secrets
are dropped whole; any string that looks like a CPR number (in
any separator style) is masked. The redaction step has its own test (tests/unit/test_logs.py).

Libraries log through the standard library (aiokafka, faust, SQLAlchemy, uvicorn), around
structlog. :func:`configure` installs a log-record factory, so that **every** stdlib record is
redacted when it is made — its message formatted and masked, its traceback text masked —
whichever handler, formatter or logging config (faust's, uvicorn's) renders it later.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from pydantic import BaseModel

from schemas.cpr import mask_cpr_like
from schemas.events import CanonicalEvent
from schemas.personal import log_keys

# Keys that name secrets; the personal ones come from the schema's PersonalData marks.
SECRET_KEYS = frozenset({"password", "token", "authorization", "key"})


def personal_keys(model: type[BaseModel] = CanonicalEvent) -> frozenset[str]:
    """The mapping keys whose values are dropped: every field ``model`` marks as personal
    data, every field holding one (``subject``, ``related_persons``), and the secrets."""
    return log_keys(model) | SECRET_KEYS


PERSONAL_KEYS = personal_keys()


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_cpr_like(value)
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


_BASE_FACTORY = logging.getLogRecordFactory()


def _masked_arg(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_cpr_like(value if isinstance(value, str) else str(value))


def _redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """A stdlib log record with its message and traceback already redacted."""
    record = _BASE_FACTORY(*args, **kwargs)
    record.msg = mask_cpr_like(record.msg) if isinstance(record.msg, str) \
        else mask_cpr_like(str(record.msg))
    # Arguments stay arguments (uvicorn's access formatter unpacks them), each masked; an
    # object is replaced by its masked text, numbers stay numbers.
    if isinstance(record.args, Mapping):
        record.args = {k: _masked_arg(v) for k, v in record.args.items()}
    elif record.args:
        record.args = tuple(_masked_arg(a) for a in record.args)
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = mask_cpr_like("".join(traceback.format_exception(*record.exc_info))
                                        .rstrip("\n"))
    if record.stack_info:
        record.stack_info = mask_cpr_like(record.stack_info)
    return record


def redact_library_logs() -> None:
    """Make every stdlib log record go through the redaction (idempotent)."""
    logging.setLogRecordFactory(_redacted_record)


def configure(level: str = "info") -> None:
    logging.basicConfig(format="%(message)s", level=level.upper())
    redact_library_logs()
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
