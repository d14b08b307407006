"""Why an event was rejected or quarantined, in Danish and English (``hub/reasons.yaml``),
for the outcome an agency reads: the reason code stays the contract, the text explains it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

_FILE = Path(__file__).with_name("reasons.yaml")
INVALID = "invalid:"


@cache
def _texts() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = yaml.safe_load(_FILE.read_text(encoding="utf-8"))
    return loaded


def reason_text(code: str | None) -> dict[str, str] | None:
    """``{"da": …, "en": …}`` for a reason code, or None for no code or an unknown one. An
    ``invalid:<field>:<type>,…`` code (a quarantined event) names its fields and error types,
    which hold no value from the event."""
    if not code:
        return None
    texts = _texts()
    if code.startswith(INVALID):
        fields = ", ".join(
            f"{field} ({kind})" if kind else field
            for field, _, kind in (part.partition(":") for part in code[len(INVALID):].split(",")))
        return {lang: text.format(fields=fields) for lang, text in texts["invalid"].items()}
    found = texts.get(code)
    return dict(found) if found is not None else None
