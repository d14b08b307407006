"""One scrubber for the whole test session (loading the gazetteer takes ~40 ms)."""

from __future__ import annotations

from functools import lru_cache

from core.privacy.scrubber import Scrubber


@lru_cache(maxsize=1)
def shared_scrubber() -> Scrubber:
    return Scrubber()


def scrubbed(text: str, known_names: tuple[str, ...] = ()) -> str:
    return shared_scrubber().scrub(text, known_names=known_names).text


def kinds(text: str, known_names: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(kind, matched text) for every finding."""
    result = shared_scrubber().scrub(text, known_names=known_names)
    return [(f.kind, text[f.start:f.end]) for f in result.findings]
