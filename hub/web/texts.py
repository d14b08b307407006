"""The web UI's Danish texts (``da.yaml``), loaded once, and the filters that turn the hub's
codes (reason codes, field names, rule ids, legal bases, relation roles, …) into Danish.

A code a person sees is always shown by its Danish label; where the code itself helps (the
security officer's log), it follows as a hint inside an element of class ``kode`` — the
marker tests/unit/test_untranslated_codes.py allows a code in."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from markupsafe import Markup

from hub.reasons import INVALID

TEXTS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent / "da.yaml").read_text(encoding="utf-8"))
HINT_CLASS = "kode"
TEXTS["kind"].update(TEXTS["foureyes"]["kind"])  # the four-eyes log entries' labels


def found_da(kinds: Sequence[str]) -> str:
    """What a free text was found to hold, in Danish: "et navn og et telefonnummer". A kind
    the texts do not know yet (a new detector) reads as "en personoplysning"."""
    labels = TEXTS["personal_data"]
    words = list(dict.fromkeys(labels.get(kind, labels["other"]) for kind in kinds))
    if len(words) <= 1:
        return "".join(words) or labels["other"]
    return f"{', '.join(words[:-1])} {TEXTS['and']} {words[-1]}"


def label(code: Any, group: str) -> str:
    """``code``'s Danish label in ``group`` of da.yaml, or the code itself if it has none."""
    if code is None or code == "":
        return ""
    text = str(code)
    if group == "reason_code" and text.startswith(INVALID):
        fields = [part.partition(":")[0] for part in text[len(INVALID):].split(",")]
        return str(TEXTS["reason_code"]["invalid"]).format(
            fields=", ".join(label(f, "field") for f in fields))
    return str(TEXTS.get(group, {}).get(text, text))


def hint(code: Any) -> Markup:
    """The code itself as a secondary hint: small, marked ``class="kode"``."""
    return Markup('<small class="{}">{}</small>').format(HINT_CLASS, code)


def with_code(code: Any, group: str) -> Markup:
    """The Danish label followed by its code as a hint (the code alone if it has no label)."""
    if code is None or code == "":
        return Markup("")
    shown = label(code, group)
    if shown == str(code):
        return hint(code)
    return Markup("{} {}").format(shown, hint(code))


def labels(codes: Iterable[Any] | None, group: str) -> str:
    """Several codes as their Danish labels, comma separated."""
    return ", ".join(label(code, group) for code in codes or ())


def titled(code: Any, group: str) -> Markup:
    """The Danish label, with the code as the element's title (hover) — for crowded tables."""
    if code is None or code == "":
        return Markup("")
    return Markup('<span title="{}">{}</span>').format(code, label(code, group))


FILTERS: dict[str, Callable[..., Any]] = {
    "label": label, "labels": labels, "with_code": with_code, "titled": titled, "hint": hint,
}
