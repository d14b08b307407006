"""The Danish vocabulary: is a token an ordinary word, a place, or (by elimination) a name?

A token that is no Danish word, no known place and no allowed shop/organisation/loanword is a
suspect name and is redacted (fail safe): this generalises to names no list knows, in any case.

The words come from Debian's ``hunspell-da`` (Stavekontrolden, licence LGPL-2.1 / GPL-2 /
MPL-1.1; ``/usr/share/doc/hunspell-da/copyright``), read at start-up from
``/usr/share/hunspell/da_DK.{dic,aff}`` (installed by ``scripts/hunspell-da``, called from the
Makefile, and by the Dockerfile). Nothing is downloaded. In the ``.dic`` a lower-case entry is
a word; a capitalised entry with the place flag (``54``, the "Nord-/Syd-" prefix class) is a
place; any other capitalised entry is a proper noun, nearly always a person's name.

Hand-written rather than a hunspell binding: no maintained pure-Python hunspell with fast
look-ups exists on PyPI (``spylls`` is a reference implementation, ~ms per word), and the
scrubber needs only "is this a word form", which is the suffix rules applied in reverse plus a
two-part compound split with the Danish linking ``s``/``e``. Results are cached per token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

HUNSPELL_DIRS = (Path("/usr/share/hunspell"), Path("/usr/share/myspell/dicts"))
ALLOWED_FILE = Path(__file__).parent / "data" / "allowed_words.txt"
_PLACE_FLAG = 54
_FORBIDDEN_FLAG = 6
# Compound tails that make surnames, not words: "Karl-sen", "Niel-son".
_NAME_TAILS = frozenset(("sen", "son", "søn", "sson", "sdatter", "datter", "dóttir"))


class VocabularyMissingError(RuntimeError):
    """The Danish word list is not installed (the message says how to install it)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    strip: str
    flag: str  # ",5,": tested as a substring of the stem's flags
    then: str  # continuation flags of the produced form, ",8,46,4,": a second suffix may follow
    condition: re.Pattern[str] | None  # matched at the end of the stem; None: any stem


@dataclass
class Vocabulary:
    """Look-ups on lower-case tokens: :meth:`is_word`, :meth:`is_place`, :meth:`is_proper`."""

    stems: dict[str, str]  # lower-case entry -> its flags, ",5,10,39,"
    places: frozenset[str]
    proper: frozenset[str]
    person_like: frozenset[str]
    allowed: frozenset[str]
    rules: dict[str, tuple[_Rule, ...]]
    _max_add: int = 0
    _cache: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._max_add = max((len(add) for add in self.rules), default=0)
        self.is_word = lru_cache(maxsize=1 << 16)(self._is_word)  # type: ignore[method-assign]
        # The name recognizer asks this of capitalised short words in mid-sentence, per text;
        # unanswered, each question runs the suffix rules in reverse again.
        self.is_simple = lru_cache(maxsize=1 << 16)(self._is_form)  # type: ignore[method-assign]

    # ---- loading ---------------------------------------------------------------------------
    @classmethod
    @lru_cache(maxsize=1)
    def shared(cls) -> Vocabulary:
        """One vocabulary per process (loading takes ~0.6 s; look-ups are thread-safe)."""
        return cls.load()

    @classmethod
    def load(cls, directories: Iterable[Path] = HUNSPELL_DIRS) -> Vocabulary:
        for directory in directories:
            dic, aff = directory / "da_DK.dic", directory / "da_DK.aff"
            if dic.is_file() and aff.is_file():
                return cls.from_files(dic, aff, ALLOWED_FILE)
        raise VocabularyMissingError(
            "the scrubber needs Debian's Danish word list: run scripts/hunspell-da "
            "(apt-get install hunspell-da)"
        )

    @classmethod
    def from_files(cls, dic: Path, aff: Path, allowed: Path | None = None) -> Vocabulary:
        rules: dict[str, list[_Rule]] = {}
        conditions: dict[str, re.Pattern[str]] = {}
        with aff.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.startswith("SFX "):
                    continue
                parts = line.split()
                if len(parts) < 5 or not parts[1].isdigit():
                    continue
                flag, strip, cond = int(parts[1]), parts[2], parts[4]
                add, _, then = parts[3].partition("/")
                rules.setdefault("" if add == "0" else add, []).append(_Rule(
                    "" if strip == "0" else strip, f",{flag},", f",{then},",
                    None if cond == "." else conditions.setdefault(
                        cond, re.compile(f"(?:{cond})$"))))
        # stem -> its flags as ",5,10,39," (a substring test is cheaper than sets of ints)
        stems: dict[str, str] = {}
        places: set[str] = set()
        proper: set[str] = set()
        forbidden = f",{_FORBIDDEN_FLAG},"
        place = f",{_PLACE_FLAG},"
        with dic.open(encoding="utf-8") as fh:
            next(fh, None)  # the entry count
            for line in fh:
                head, _, rest = line.strip().partition(" ")
                word, _, flag_text = head.partition("/")
                if not word:
                    continue
                flags = f",{flag_text},"
                if forbidden in flags:
                    continue
                if word[0].isupper():
                    (places if place in flags else proper).add(word.lower())
                    continue
                word = word.lower()
                stems[word] = stems.get(word, ",") + flags[1:]
                if "al:" in rest:  # "al:roses": an allomorph, also a word
                    for extra in rest.split():
                        if extra.startswith("al:") and extra[3:4].islower():
                            stems.setdefault(extra[3:], ",")
        allowed_words = frozenset(_read_list(allowed)) if allowed is not None else frozenset()
        return cls(
            stems,
            frozenset(places),
            frozenset(proper - stems.keys()),
            frozenset(proper),
            allowed_words,
            {k: tuple(v) for k, v in rules.items()},
        )

    # ---- look-ups --------------------------------------------------------------------------
    def is_place(self, low: str) -> bool:
        return low in self.places

    def is_proper(self, low: str) -> bool:
        """A capitalised-only entry of the word list: nearly always a person's name."""
        return low in self.proper

    def is_person_like(self, low: str) -> bool:
        """Also written capitalised as a name in the word list (``per``, ``bo``, ``storm``)."""
        return low in self.person_like

    def is_allowed(self, low: str) -> bool:
        """A shop, organisation, local place or common loan/chat word: never a person. (The
        word list's places are not: many Danish surnames are towns, "fru Hvidbjerg".)"""
        return low in self.allowed

    def is_simple(self, low: str) -> bool:  # replaced by a cached version in __post_init__
        """A word of the list or one of its inflections, not a compound made here."""
        return self._is_form(low)

    def is_word(self, low: str) -> bool:  # replaced by a cached version in __post_init__
        return self._is_word(low)

    def _is_form(self, low: str) -> bool:
        """A dictionary entry or one of its suffixed forms: suffix rules applied in reverse, up
        to two deep (``hjem`` → ``hjemm`` → ``hjemmet``: a rule's form may take another)."""
        return low in self.stems or self._derived(low, "", 2)

    def _derived(self, low: str, need: str, depth: int) -> bool:
        """``low`` is made by one suffix rule (whose form may take flag ``need``) from an entry,
        or, with ``depth`` 2, from a form that is itself made so."""
        size = len(low)
        for cut in range(max(1, size - self._max_add), size + 1):
            rules = self.rules.get(low[cut:])
            if not rules:
                continue
            head = low[:cut]
            for rule in rules:
                if need and need not in rule.then:
                    continue
                stem = head + rule.strip
                if rule.condition is not None and not rule.condition.search(stem):
                    continue
                flags = self.stems.get(stem)
                if flags is not None and rule.flag in flags:
                    return True
                if depth > 1 and self._derived(stem, rule.flag, depth - 1):
                    return True
        return False

    def _is_word(self, low: str) -> bool:
        if self._is_form(low) or low in self.allowed:
            return True
        if "-" in low:
            return all(part and self._is_word(part) for part in low.split("-"))
        return self._compound(low, 0)

    def _compound(self, low: str, depth: int) -> bool:
        """``low`` is two (or three) known words, with an optional linking ``s`` or ``e``:
        ``skolegården``, ``fodboldtræningen``, ``ungdomsklubbens``."""
        size = len(low)
        if size < 7 or depth > 1:
            return False
        for cut in range(size - 3, 2, -1):  # the longest head first
            head, tail = low[:cut], low[cut:]
            if tail in _NAME_TAILS:  # "Hansen" is no "han" + "sen"
                continue
            if (cut < 4 or size - cut < 4) and size < 9:
                continue  # "Lobsang", "Samten", "Barkhad": no "lob" + "sang", "bark" + "had"
            if not (self._is_form(tail) or (depth == 0 and self._compound(tail, depth + 1))):
                continue
            if head in self.stems or self._is_form(head) or head in self.places:
                return True  # "skolegården", "Vordingborgskolen"
            if head[-1] in "se" and len(head) > 3 and head[:-1] in self.stems:
                return True
        return False


def _read_list(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [w.lower() for line in fh for w in line.split("#", 1)[0].split()]
