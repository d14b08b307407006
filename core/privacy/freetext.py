"""One scrubber for every free text that people write (issue 12, item 3).

    from core.privacy.freetext import FreeText

    freetext = FreeText()                  # loads the scrubber once; thread-safe; one per process
    shown = freetext.scrub("Ring til Mikkel på 22 33 44 55", known_names=["Mikkel Hansen"])
    shown.text                 # "Ring til [person 1] på [TELEFON]": what a consultant sees
    freetext.text(typed, names)  # the same text only, for the worker's hot path
    shown.replacements         # (Replacement("[person 1]", "name", …), Replacement("[TELEFON]", …))

    refusal = freetext.refusal("note", typed)   # None, or a Refusal naming the kinds found

Every free text a person writes goes through this module and nothing else; a new form calls
:meth:`FreeText.scrub` (the text is kept, identifiers replaced) or :meth:`FreeText.refusal`
(the text is refused and the person rewrites it), and adds its field to :data:`FIELDS`:

=================  ===========================================================  ==========
field              where it comes from, where it goes                           handling
=================  ===========================================================  ==========
``description``    canonical event → case queues (streams/pipeline.py)          scrub
``necessity``      canonical event → case queues *and* the disclosure log       scrub
``reason``         re-identification (API and web UI) → the disclosure log     scrub
``note``           a consultant's case-status note (web UI) → the status table  refuse
``hold_reason``    ``ssp-hub retention hold --reason`` → the legal-hold table   refuse
=================  ===========================================================  ==========

Why refuse a note but scrub a reason: a note is the consultant's own words about the case and
is shown again to every consultant of the queue, so it must hold no personal data at all, and
the person who typed it can say it without names ("eleven", "moren"). A re-identification
reason must be kept as the justification of a disclosure, the identity is what is asked for,
and a refusal is itself logged with the reason; so the reason is stored scrubbed (knowing the
person's name from the vault, also when the request is refused; the caller never learns it) and
the request is judged both as typed and on what is left once scrubbed (hub/api.py).

A text is never logged, and a :class:`Refusal` or :class:`Replacement` carries kinds, offsets
and the detector's explanation only, never the removed value. Kinds the scrubber adds later
(``dob``, ``case_number``, …) pass through unchanged; user-facing texts fall back to a generic
label for a kind they do not know.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.privacy.scrubber import Finding, Scrubber
from schemas.cpr import CPR_SHAPED


class Handling(StrEnum):
    scrub = "scrub"    # kept, with identifiers replaced by typed placeholders
    refuse = "refuse"  # not accepted while it holds personal data; the person rewrites it


# Every free-text field and what happens to it (see the table in the module docstring).
FIELDS: dict[str, Handling] = {
    "description": Handling.scrub,
    "necessity": Handling.scrub,
    "reason": Handling.scrub,
    "note": Handling.refuse,
    "hold_reason": Handling.refuse,
}

# A safety net behind the scrubber: ten digits shaped like a CPR number, in any separator style
# (schemas.cpr, the one CPR-shape pattern the disclosure log checks too), are replaced even if
# no detector claimed them, and whether or not the first six digits make a date: fail safe.
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,40}\]")
SAFETY_NET = Finding("cpr", 0, 0, "freetext.cpr_shape",
                     "ten digits shaped like a CPR number (the safety net behind the scrubber)")


# Where the scrubber does not (yet) say which detector found a value and why, the kind's own
# detector and what it looks for, so that every replacement is explained. A detector's own
# explanation always wins.
FALLBACK_EXPLANATIONS: dict[str, tuple[str, str]] = {
    "cpr": ("patterns.cpr", "ten digits whose first six are a real date (a CPR number)"),
    "phone": ("patterns.phone", "a Danish phone number: 8 digits, optionally +45, grouped"),
    "email": ("patterns.email", "an e-mail address: name@domain"),
    "handle": ("patterns.handle", "a social-media handle: @name, or a name after a platform word"),
    "address": ("patterns.address", "a street name with a house number"),
    "plate": ("patterns.plate", "a Danish licence plate: two letters and five digits"),
    "name": ("names", "a person's name: a name the event carries, a name from the name "
                      "lists, or a word that context marks as a name"),
}


@dataclass(frozen=True, slots=True)
class Replacement:
    """One identifier replaced: the placeholder written, the kind, which detector found it and
    why, and its offsets ``[start, end)`` into the input. Never the value."""

    placeholder: str
    kind: str
    detector: str
    reason: str
    start: int
    end: int

    def as_json(self) -> dict[str, Any]:
        return {"placeholder": self.placeholder, "kind": self.kind, "detector": self.detector,
                "reason": self.reason, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """A free text as a consultant sees it, and what was replaced in it."""

    text: str
    replacements: tuple[Replacement, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds replaced, each once, in order of first appearance."""
        return tuple(dict.fromkeys(r.kind for r in self.replacements))

    def __repr__(self) -> str:  # keep reprs short in logs and tracebacks
        return f"Scrubbed(replacements={len(self.replacements)})"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A free text refused because it holds personal data: the field and the kinds found."""

    field: str
    kinds: tuple[str, ...]

    def as_error(self) -> dict[str, Any]:
        """The JSON error item (same shape as the API's validation errors, plus ``kinds``):
        names the field and the kinds found, never the value."""
        return {"field": self.field, "type": "personal_data", "kinds": list(self.kinds),
                "message": f"{self.field} holds personal data ({', '.join(self.kinds)}); "
                           "write it without names, numbers or addresses and send it again"}


class FreeText:
    """The one way a free text written by a person is made safe to keep or show."""

    def __init__(self, scrubber: Scrubber | None = None) -> None:
        self._scrubber = scrubber if scrubber is not None else Scrubber()

    def text(self, text: str, known_names: Sequence[str] = ()) -> str:
        """Only the scrubbed text (the worker's hot path): the same text as
        ``scrub(...).text``, without building the explanations when the safety net has
        nothing to add."""
        result = self._scrubber.scrub(text, known_names=list(known_names))
        if CPR_SHAPED.search(result.text) is None:
            return result.text
        return self.scrub(text, known_names).text

    def scrub(self, text: str, known_names: Sequence[str] = ()) -> Scrubbed:
        """``text`` with every identifier replaced by a typed placeholder; ``known_names``
        (the persons the text is about) become ``[person 1]``, ``[person 2]``, …"""
        result = self._scrubber.scrub(text, known_names=list(known_names))
        shown = _placeholders(text, result.text, result.findings)
        covered = bytearray(len(text))
        for finding, _label in shown:
            covered[finding.start:finding.end] = b"\x01" * (finding.end - finding.start)
        extra = [(Finding(SAFETY_NET.kind, m.start(), m.end(), SAFETY_NET.detector,
                          SAFETY_NET.reason), "[CPR]")
                 for m in CPR_SHAPED.finditer(text) if covered.find(1, m.start(), m.end()) < 0]
        if extra:
            shown = sorted([*shown, *extra], key=lambda pair: pair[0].start)
        out: list[str] = []
        pos = 0
        replacements = []
        for finding, label in shown:
            out.append(text[pos:finding.start])
            out.append(label)
            pos = finding.end
            detector, reason = finding.detector, finding.reason
            if not detector and not reason:
                detector, reason = FALLBACK_EXPLANATIONS.get(
                    finding.kind, ("scrubber", f"found as {finding.kind}"))
            replacements.append(Replacement(label, finding.kind, detector, reason,
                                            finding.start, finding.end))
        out.append(text[pos:])
        return Scrubbed("".join(out), tuple(replacements))

    def refusal(self, field: str, text: str, known_names: Sequence[str] = (),
                allow: Collection[str] = ()) -> Refusal | None:
        """None if ``text`` holds no personal data (kinds in ``allow`` do not count), else a
        :class:`Refusal` naming ``field`` and the kinds found."""
        kinds = tuple(k for k in self.scrub(text, known_names).kinds if k not in allow)
        return Refusal(field, kinds) if kinds else None


def _placeholders(source: str, rendered: str, findings: Sequence[Finding]
                  ) -> list[tuple[Finding, str]]:
    """Each finding with the placeholder the scrubber wrote for it, read off the rendered
    text (findings are disjoint; the text between them is copied unchanged). If the rendered
    text cannot be read that way, every finding gets a generic ``[KIND]`` label: the text is
    rendered here from the input and the offsets, so the values are removed either way."""
    ordered = sorted(findings, key=lambda f: f.start)
    out: list[tuple[Finding, str]] = []
    pos_in = pos_out = 0
    for index, finding in enumerate(ordered):
        pos_out += finding.start - pos_in
        following = ordered[index + 1].start if index + 1 < len(ordered) else len(source)
        match = _PLACEHOLDER.match(rendered, pos_out)
        if match is None or not rendered.startswith(source[finding.end:following], match.end()):
            return [(f, f"[{f.kind.upper()}]") for f in ordered]
        out.append((finding, match.group(0)))
        pos_out = match.end()
        pos_in = finding.end
    return out
