"""The name lists the scrubber matches against, loaded once from ``data/`` (no network).

Every list is a UTF-8 text file, one entry a line, ``#`` starts a comment. Entries are compared
in *folded* form (:func:`fold`): lower case, accents and Danish/Turkish/Polish letters reduced
to ASCII, ``aa`` read as ``å``, so ``Østergaard``, ``Østergård`` and ``OSTERGARD`` are one key,
and so are ``Yılmaz`` and ``Yilmaz``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

FIRST = 1
SURNAME = 2
WORD = 4  # also an ordinary Danish word: needs context before it counts as a name


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[code] = base.lower()
    table.update({ord(k): v for k, v in {
        "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ß": "ss", "ł": "l", "Ł": "l", "đ": "d",
        "Đ": "d", "ı": "i", "İ": "i", "’": "'",
    }.items()})
    return table


_FOLD = _fold_table()


def fold(word: str) -> str:
    """The comparison key of a word: ``"Østergård"`` → ``"ostergard"``."""
    return word.lower().replace("aa", "å").translate(_FOLD)


def read_list(path: Path) -> list[str]:
    """The entries of one list file: whitespace- or hyphen-separated words, ``#`` comments."""
    entries: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entries.extend(line.split("#", 1)[0].replace("-", " ").split())
    return entries


@dataclass(frozen=True)
class Gazetteer:
    """Folded name → flags (:data:`FIRST`, :data:`SURNAME`, :data:`WORD`)."""

    flags: dict[str, int]

    @classmethod
    def from_lists(
        cls,
        first_names: Sequence[str],
        surnames: Sequence[str],
        name_words: Iterable[str],
        not_words: Iterable[str] = (),
    ) -> Gazetteer:
        flags: dict[str, int] = {}
        for name in first_names:
            key = fold(name)
            flags[key] = flags.get(key, 0) | FIRST
        for name in surnames:
            key = fold(name)
            flags[key] = flags.get(key, 0) | SURNAME
        for word in name_words:
            key = fold(word)
            if key in flags:
                flags[key] |= WORD
        for word in not_words:
            key = fold(word)
            if key in flags:
                flags[key] &= ~WORD
        for key in flags:
            if len(key) <= 2:
                flags[key] |= WORD  # "Le", "Do", "Ha", "Al": too short to trust alone
        # The plain lower-case spelling too, so most look-ups need no folding.
        for name in (*first_names, *surnames):
            low = name.lower()
            if low not in flags:
                flags[low] = flags[fold(name)]
        return cls(flags)

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> Gazetteer:
        first = [n for p in sorted(directory.glob("first_names_*.txt")) for n in read_list(p)]
        last = [n for p in sorted(directory.glob("surnames_*.txt")) for n in read_list(p)]
        words = [w for p in sorted(directory.glob("name_words*.txt")) for w in read_list(p)]
        not_words = read_list(directory / "names_not_words.txt")
        return cls.from_lists(first, last, words, not_words)

    def __len__(self) -> int:
        return len(self.flags)
