"""The recognizer protocol, and the keyword scan the name recognizer uses.

The pattern and identifier recognizers themselves (CPR, phone, e-mail, handle, address, plate,
date of birth, case number, account, IP, link, id number, street + house number) are compiled
Rust: :mod:`.compiled` and the extension in ``native/`` (one source of truth for their
patterns, gates and validations). A recognizer a caller writes in Python (the ``Recognizer``
protocol below) runs next to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import ClassVar, Protocol

import ahocorasick_rs


class Recognizer(Protocol):
    """A detector: ``kind`` names what it finds; ``find`` yields ``(start, end)`` offsets;
    ``detector`` (a short id) and ``reason`` (a sentence for a data-protection officer, never
    the value) explain each finding."""

    @property
    def kind(self) -> str: ...

    @property
    def detector(self) -> str: ...

    @property
    def reason(self) -> str: ...

    def find(self, text: str) -> Iterator[tuple[int, int]]: ...


class Keywords:
    """Where any of some keywords starts in a lower-cased text: a cue pattern ("hedder",
    "kaldet") is then tried only there instead of at every character.

    All ``Keywords`` of the process share one Aho-Corasick automaton (ahocorasick-rs), built on
    first use: one pass over a text answers every group's question, cached per text. (The
    compiled recognizers have their own keyword groups, in ``native/src/patterns.rs``.)"""

    _groups: ClassVar[list[tuple[str, ...]]] = []

    def __init__(self, words: Iterable[str]) -> None:
        self._id = len(Keywords._groups)
        Keywords._groups.append(tuple(sorted(set(words))))
        _automaton.cache_clear()

    def starts(self, low: str) -> tuple[int, ...]:
        return _keyword_hits(low).get(self._id, ())


@lru_cache(maxsize=1)
def _automaton() -> tuple[ahocorasick_rs.AhoCorasick, list[tuple[int, ...]]]:
    """The one automaton over every group's words, and for each word the groups it is in."""
    owners: dict[str, list[int]] = {}
    for group, words in enumerate(Keywords._groups):
        for word in words:
            owners.setdefault(word, []).append(group)
    every = sorted(owners)
    # A DFA: about a third faster per text than the default NFA; the few hundred keywords keep
    # it small.
    automaton = ahocorasick_rs.AhoCorasick(every, implementation=ahocorasick_rs.Implementation.DFA)
    return automaton, [tuple(owners[w]) for w in every]


@lru_cache(maxsize=16)
def _keyword_hits(low: str) -> dict[int, tuple[int, ...]]:
    automaton, owners = _automaton()
    hits: dict[int, list[int]] = {}
    for index, start, _end in automaton.find_matches_as_indexes(low, overlapping=True):
        for group in owners[index]:
            if group in hits:
                hits[group].append(start)
            else:
                hits[group] = [start]
    # overlapping matches come in order of their end: sort, and drop a start found twice
    return {group: tuple(sorted(set(starts))) for group, starts in hits.items()}
