"""How a name is compared with the detectors' lists: folded, part by part.

Shared by the generator (which excludes every name the detectors know) and by
``tests/scrubber/test_unseen_disjoint.py`` (which re-checks that at test time).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

DETECTOR_DATA = Path(__file__).resolve().parents[3] / "core" / "privacy" / "scrubber" / "data"

# Particles of multi-part names: they belong to a gold span but are not names by themselves,
# so they are not required to be unknown to the detectors ("van der X", "Al-X", "Ó X").
PARTICLES = frozenset({
    "van", "der", "den", "de", "da", "dos", "das", "du", "la", "le", "di", "von", "al", "el",
    "o", "ni", "mac", "mc", "bin", "ibn", "abu", "ben",
})

_SPLIT = re.compile(r"[\s\-‐'’.]+")


def fold(word: str) -> str:
    """Lower case, æ→ae, ø→o, å/aa→a, accents stripped (``"Ó Dálaigh"`` → ``"o dalaigh"``)."""
    w = word.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a").replace("aa", "a")
    w = w.replace("ß", "ss").replace("ı", "i").replace("ł", "l").replace("đ", "d")
    w = "".join(c for c in unicodedata.normalize("NFKD", w) if not unicodedata.combining(c))
    return w.replace("aa", "a")


def name_parts(name: str) -> list[str]:
    """The folded parts of a name that must each be unknown: the whole and every part that is
    not a particle (``"Al-Tikriti"`` → ``["al-tikriti", "tikriti"]``)."""
    parts = [fold(p) for p in _SPLIT.split(name.strip()) if p]
    out = [fold(name.strip())]
    out += [p for p in parts if p not in PARTICLES]
    return out


def detector_words(directory: Path = DETECTOR_DATA) -> set[str]:
    """Every folded entry of every ``*.txt`` list in ``directory``: whole lines, whitespace
    tokens and hyphen/apostrophe parts (over-excluding is safe; missing one is not)."""
    words: set[str] = set()
    for path in sorted(directory.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words.add(fold(line))
            for token in line.split():
                words.add(fold(token))
                words.update(fold(p) for p in _SPLIT.split(token) if p)
    return words


def known_part(name: str, words: set[str]) -> str | None:
    """The first folded part of ``name`` that a detector list holds, or None."""
    for part in name_parts(name):
        if part in words:
            return part
    return None
