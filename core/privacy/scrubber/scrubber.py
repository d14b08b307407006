"""The scrubber: run every recognizer, settle overlaps, write typed placeholders.

    scrubber = Scrubber()                      # loads the gazetteer once; thread-safe
    result = scrubber.scrub(text, known_names=["Mikkel Østergård Sørensen"])
    result.text                                # "[person 1] har …"
    result.findings                            # [Finding("name", 0, 6), …]

A ``Scrubber`` holds only immutable state after construction, so one instance may serve many
threads. It never logs, and its errors never carry the text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.privacy.scrubber.compiled import (
    COMPILED_RECOGNIZERS,
    NATIVE,
    CompiledRecognizer,
    this_year,
)
from core.privacy.scrubber.gazetteer import Gazetteer
from core.privacy.scrubber.model import KINDS, PLACEHOLDERS, Finding, ScrubResult
from core.privacy.scrubber.names import NameRecognizer
from core.privacy.scrubber.patterns import Recognizer

_RANK = {kind: rank for rank, kind in enumerate(KINDS)}

# Characters that hide an identifier from a pattern without showing on screen: zero-width
# space/non-joiner/joiner, word joiner, soft hyphen, BOM, invisible separators. The detectors
# run on the text without them; offsets are mapped back, so a finding covers them too.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Spaces that are not " " (no-break, narrow no-break, thin, figure …): read as " " (same length).
_ODD_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


_Taken = tuple[int, int, str, str, str, str]  # start, end, kind, placeholder, detector, reason


def _merge(taken: list[_Taken], new: _Taken) -> list[_Taken]:
    """``taken`` with ``new`` and every finding it overlaps made one finding (the union of
    their spans, the kind of the longest)."""
    start, end = new[0], new[1]
    group = [new]
    rest: list[_Taken] = []
    for item in taken:
        (group if item[0] < end and start < item[1] else rest).append(item)
    longest = max(group, key=lambda item: item[1] - item[0])
    union = (min(item[0] for item in group), max(item[1] for item in group), *longest[2:])
    rest.append(union)
    return rest


# Either of the two above: one scan answers "nothing to do" for almost every text.
_ODD_OR_INVISIBLE = re.compile(
    "[\u00a0\u00ad\u1680\u180e\u2000-\u200f\u202a-\u202f\u205f-\u2064\u3000\ufeff]")


def _visible(text: str) -> tuple[str, list[int] | None]:
    """``text`` as the detectors read it, and for each of its characters the offset in
    ``text`` (None when nothing was removed)."""
    if _ODD_OR_INVISIBLE.search(text) is None:
        return text, None
    if _ODD_SPACES.search(text) is not None:
        text = _ODD_SPACES.sub(" ", text)
    if _INVISIBLE.search(text) is None:
        return text, None
    kept = [i for i, ch in enumerate(text) if _INVISIBLE.match(ch) is None]
    return "".join(text[i] for i in kept), kept


class Scrubber:
    """Replaces personal identifiers in Danish free text with typed placeholders."""

    def __init__(
        self,
        gazetteer: Gazetteer | None = None,
        recognizers: Sequence[Recognizer] = COMPILED_RECOGNIZERS,
    ) -> None:
        self._recognizers = tuple(recognizers)
        # What each recognizer's findings carry, looked up once, not once per text. The
        # compiled ones run in one call per text (by index); any other recognizer a caller
        # passes runs on its own.
        self._compiled = {
            r.index: (_RANK[r.kind], r.kind, PLACEHOLDERS[r.kind], r.detector, r.reason)
            for r in self._recognizers if isinstance(r, CompiledRecognizer)}
        self._plan = tuple(
            (r.find, _RANK[r.kind], r.kind, PLACEHOLDERS[r.kind], r.detector, r.reason)
            for r in self._recognizers if not isinstance(r, CompiledRecognizer))
        self._names = NameRecognizer(gazetteer if gazetteer is not None else Gazetteer.load())

    def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
        """``text`` with every identifier replaced; ``known_names`` (the event's subject and
        related persons) become ``[person 1]``, ``[person 2]``, … in the order given, other
        persons the next numbers in order of appearance."""
        if not isinstance(text, str):
            raise TypeError("scrub() needs the text as a str")
        if not text:
            return ScrubResult(text, [])
        original = text
        text, where = _visible(text)
        # (rank, -length, start, end, kind, placeholder, detector, reason)
        candidates: list[tuple[int, int, int, int, str, str, str, str]] = []
        if self._compiled:
            compiled = self._compiled
            for index, start, end in NATIVE.find_all(text, this_year()):
                if index in compiled:
                    rank, kind, label, detector, reason = compiled[index]
                    candidates.append(
                        (rank, start - end, start, end, kind, label, detector, reason))
        for find, rank, kind, label, detector, reason in self._plan:
            for start, end in find(text):
                if end > start:
                    candidates.append(
                        (rank, start - end, start, end, kind, label, detector, reason))
        name_rank = _RANK["name"]
        for span in self._names.find(text, known_names):
            candidates.append(
                (name_rank, span.start - span.end, span.start, span.end, "name",
                 f"[person {span.person}]", span.detector, span.reason)
            )
        if not candidates:
            return ScrubResult(original, [])
        if where is not None:  # back to offsets into the input (invisible characters inside)
            candidates = [
                (rank, where[start] - where[end - 1] - 1, where[start], where[end - 1] + 1,
                 kind, label, detector, reason)
                for rank, _n, start, end, kind, label, detector, reason in candidates
            ]
        text = original
        candidates.sort()
        taken: list[_Taken] = []
        # Characters already covered by a taken finding: a candidate overlaps a taken finding
        # exactly when its span holds a covered character (one C-level find, not a loop).
        covered = bytearray(len(text))
        for _rank, _neg, start, end, kind, label, detector, reason in candidates:
            if covered.find(1, start, end) < 0:
                covered[start:end] = b"\x01" * (end - start)
                taken.append((start, end, kind, label, detector, reason))
            elif covered.find(0, start, end) >= 0:
                # Overlaps a finding but reaches past it ("+45 26-06-99-17": a date inside a
                # phone number): fail safe, the two become one finding over both spans, of the
                # longer one's kind.
                taken = _merge(taken, (start, end, kind, label, detector, reason))
                covered[start:end] = b"\x01" * (end - start)
        taken.sort()
        out: list[str] = []
        pos = 0
        findings: list[Finding] = []
        for start, end, kind, label, detector, reason in taken:
            out.append(text[pos:start])
            out.append(label)
            findings.append(Finding(kind, start, end, detector, reason))
            pos = end
        out.append(text[pos:])
        return ScrubResult("".join(out), findings)
