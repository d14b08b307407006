"""The web UI's Danish texts (``da.yaml``), loaded once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

TEXTS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent / "da.yaml").read_text(encoding="utf-8"))
TEXTS["kind"].update(TEXTS["foureyes"]["kind"])  # the four-eyes log entries' labels


def found_da(kinds: Sequence[str]) -> str:
    """What a free text was found to hold, in Danish: "et navn og et telefonnummer". A kind
    the texts do not know yet (a new detector) reads as "en personoplysning"."""
    labels = TEXTS["personal_data"]
    words = list(dict.fromkeys(labels.get(kind, labels["other"]) for kind in kinds))
    if len(words) <= 1:
        return "".join(words) or labels["other"]
    return f"{', '.join(words[:-1])} {TEXTS['and']} {words[-1]}"
