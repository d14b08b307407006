"""Pattern recognizers: CPR, phone, e-mail, social-media handle, street address, plate.

Each recognizer is a small object with a ``kind`` and a ``find(text)`` that yields
``(start, end)`` offsets; :data:`PATTERN_RECOGNIZERS` is the registry the scrubber runs. All
regular expressions are compiled once at import. A recognizer never logs or raises with the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Protocol

import ahocorasick_rs
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError as StdnumValidationError


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


_HAS_DIGIT = re.compile(r"\d")


def _matches_at(
    pattern: re.Pattern[str], text: str, starts: Iterable[int]
) -> Iterator[re.Match[str]]:
    """Exactly the matches ``pattern.finditer(text)`` yields, but ``pattern`` is only tried at
    ``starts`` (ascending): a cheap pre-scan finds every position where a match *could* begin,
    so the expensive pattern is not run at every character. ``match(text, pos)`` still sees
    the text before ``pos``, so look-behinds and ``\\b`` behave as in ``finditer``."""
    resume = 0
    for start in starts:
        if start < resume:
            continue  # inside the previous match: finditer would not look here either
        m = pattern.match(text, start)
        if m is not None:
            resume = m.end()
            yield m


# Lower-cased text for finding the start of an IGNORECASE phrase with a plain pattern:
# IGNORECASE also lets "ı" match "i" and "ſ" match "s", so fold those too. ("İ" lower-cases to
# two characters, which would shift every offset: callers fall back to the full scan then.)
def _folded_for_search(low: str, text: str) -> str | None:
    """``low`` (``text.lower()``) with the two IGNORECASE extras folded; None if the offsets
    moved. (``str.replace`` is far cheaper here than ``str.translate`` with a dict.)"""
    if len(low) != len(text):
        return None
    if "ı" in low:
        low = low.replace("ı", "i")
    if "ſ" in low:
        low = low.replace("ſ", "s")
    return low


class Keywords:
    """Where any of some keywords starts in a lower-cased text: a label pattern ("sagsnr",
    "født", "tlf") is then tried only there (:func:`labelled`) instead of at every character.

    All ``Keywords`` of the process share one Aho-Corasick automaton (ahocorasick-rs), built on
    first use: one pass over a text answers every recognizer's question, cached per text."""

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


# Every recognizer of one scrub asks for the same text's lower-cased form and digit runs: a
# small cache computes each once per text (str hashes are cached, so a hit costs ~100 ns).
@lru_cache(maxsize=16)
def lowered(text: str) -> str | None:
    """``text`` lower-cased and folded for keyword search, or None if that moved offsets."""
    return _folded_for_search(text.lower(), text)


def labelled(pattern: re.Pattern[str], keywords: Keywords, text: str,
             low: str | None) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` (which begins with one of ``keywords``) in ``text``."""
    if low is None:
        yield from pattern.finditer(text)
        return
    starts = keywords.starts(low)
    if starts:
        yield from _matches_at(pattern, text, starts)


_DIGIT_RUN = re.compile(r"\d+")


@lru_cache(maxsize=16)
def digit_runs(text: str) -> tuple[tuple[int, int], ...]:
    """(start, length) of each run of digits: the only places a number pattern can start,
    and its length says which patterns can (a date starts with one or two digits, a long
    number with nine or more)."""
    return tuple([(start, end - start) for start, end in map(_SPAN, _DIGIT_RUN.finditer(text))])


_SPAN = re.Match.span


@lru_cache(maxsize=32)  # six length sets per text: a few texts at a time, as the caches above
def digit_starts(text: str, lengths: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """Where each run of digits begins (of one of ``lengths``, if given). Cached per text and
    lengths: about ten recognizers ask for the same text, some with the same lengths."""
    if lengths is None:
        return tuple([start for start, _size in digit_runs(text)])
    return tuple([start for start, size in digit_runs(text) if size in lengths])


matches_at = _matches_at


def char_positions(text: str, chars: str) -> list[int]:
    """Where each of ``chars`` stands in ``text`` (str.find, no Python loop over the text)."""
    found: list[int] = []
    for char in chars:
        at = text.find(char)
        while at >= 0:
            found.append(at)
            at = text.find(char, at + 1)
    return found


@dataclass(frozen=True)
class RegexRecognizer:
    """Every match of ``pattern`` (the named group ``v`` if present) is a finding."""

    kind: str
    pattern: re.Pattern[str]
    detector: str
    reason: str
    needs: str = ""  # a fast pre-check: "digit" or a character that must occur

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if self.needs == "digit":
            if _HAS_DIGIT.search(text) is None:
                return
        elif self.needs and self.needs not in text:
            return
        group = "v" if "v" in self.pattern.groupindex else 0
        for m in self.pattern.finditer(text):
            if m.start(group) >= 0:
                yield m.start(group), m.end(group)


# ---- CPR ---------------------------------------------------------------------------------
# Ten digits: the date part with one separator or none between its pairs ("150611",
# "15.06.11", "15 06 11", "15/06/11", "15-06-11"), then "-", "/", "." or a space or nothing,
# then four digits, also as two pairs ("41 23"). Invisible characters inside are dropped by the
# scrubber before any recognizer runs.
_CPR = re.compile(
    r"(?<!\d)(?<!\d[.,/-])(\d{2})((?:[^\w\s]|\s)?)(\d{2})\2(\d{2})"
    r"\s?(?:[^\w\s]|_)?\s?(\d{2})\s?(\d{2})(?![\d]|[.,]\d)"
)


class CprRecognizer:
    """Ten digits (``ddmmyy-ssss``, ``ddmmyyssss``, ``ddmmyy ssss``, ``15.06.11-4123``,
    ``150611/4123``, ``15 06 11 41 23``) whose date part is a real date under the CPR century
    rule (python-stdnum); modulus 11 is *not* required (it was dropped in 2007)."""

    kind = "cpr"
    detector = "cpr"
    reason = "ten digits (any separators) whose first six are a valid date: a CPR number"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        # A CPR number begins with a run of two digits ("15.06.11", "15 06 11"), six
        # ("150611-4123") or ten ("1506114123"): the pattern is tried only there.
        for m in _matches_at(_CPR, text, digit_starts(text, (2, 6, 10))):
            try:
                stdnum_cpr.get_birth_date(
                    m.group(1) + m.group(3) + m.group(4) + m.group(5) + m.group(6))
            except (StdnumValidationError, ValueError):
                continue
            yield m.start(), m.end()


# ---- phone -------------------------------------------------------------------------------
_PHONE = re.compile(
    r"(?=[\d+(])(?<![\w+])(?<!\d[ .-])"
    r"(?:(?:\+|00)\s?45[ .-]?|\(\s?(?:\+|00)?45\s?\)\s?)?"
    r"(?:\d{8}|\d{2}([ .-])\d{2}\1\d{2}\1\d{2}|\d{4}[ .]\d{4}|\d{2} \d{3} \d{3}|\d{3} \d{2} \d{3}"
    r"|\d{2} \d{2} \d{4}|\d{4} \d{2} \d{2})"
    r"(?!\w)(?![.,-]\d)(?! \d{2})"
)
# +45/0045 and eight digits in any spacing ("+45 2 233 4455", "+45-22-33-44-55"), and eight
# digits in any grouping after a phone word ("tlf 2233 4455", "mobil: 22-33-44-55",
# "MobilePay 22 334 455").
_PHONE_PREFIXED = re.compile(r"(?<![\w+])(?:\+|00)\s?45[\s.-]{0,2}(?:\d[\s.-]?){7}\d(?!\d)")
_PHONE_CUED = re.compile(
    r"\b(?:tlf|telefon|telefonnummer|telefonnr|tlf\.?\s?nr|mobil|mobilnr|mobilnummer|mob"
    r"|mobilepay|mp|sms|ring(?:e|ede|er)?(?:\s(?:til|på))?|nummer(?:et)?|phone|cell|whatsapp"
    r"|hjemmenummer|arbejdsnummer|privat|nr\.? til (?:mor|far))\.?\s*(?:er|på)?\s*[:.]?\s*"
    r"(?P<v>\d(?:[\s.-]?\d){7})(?![\d]|[.,]\d)",
    re.IGNORECASE,
)
_PHONE_KEYWORDS = Keywords((
    "tlf", "telefon", "mobil", "mob", "mp", "sms", "ring", "nummer", "phone", "cell", "whatsapp",
    "hjemmenummer", "arbejdsnummer", "privat", "nr",
))
# Case and journal numbers are not phone numbers.
_CASE_PREFIX = re.compile(
    r"(?:sags?\.?\s?nr|j\.?\s?nr|journal\s?(?:nr|nummer)|sagsnummer|reg\.?\s?nr|konto\s?nr"
    r"|kontonummer|ordre\s?nr|faktura\s?nr|id|sag)\.?:?\s*$",
    re.IGNORECASE,
)


_PHONE_RUN_SIZES = frozenset((2, 3, 4, 6, 7, 8, 12))


class PhoneRecognizer:
    """Danish numbers: optional ``+45``/``0045``/``(45)``, then 8 digits as ``12345678``,
    ``12 34 56 78``, ``12-34-56-78``, ``1234 5678``, ``12 345 678`` …; not after a case-number
    label (``sagsnr. 12345678``), not a date (``12-03-2026``: the groups must agree)."""

    kind = "phone"
    detector = "phone"
    reason = "eight digits in a Danish phone-number grouping, or after +45 or a phone word"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        runs = digit_runs(text)
        if not runs:
            return
        # A number begins at a digit run, a "+" or a "(": the pattern is tried only there. A
        # run it begins with has two, three, four or eight digits ("12 34 …", "123 45 678",
        # "1234 5678", "12345678"), or, from "0045" on, six, seven or twelve ("004512 …",
        # "0045123 …", "004512345678").
        starts = [at for at, size in runs if size in _PHONE_RUN_SIZES]
        if "+" in text or "(" in text:
            starts = sorted({*starts, *char_positions(text, "+(")})
        for m in _matches_at(_PHONE, text, starts):
            start = m.start()
            prefixed = m.group(0).startswith(("+", "00", "("))
            if not prefixed and _CASE_PREFIX.search(text, max(0, start - 20), start):
                continue
            yield start, m.end()
        if "45" in text:  # "+45 …" or "0045 …": tried at each "+" and each run from "00"
            begins = [at for at, _size in runs if text.startswith("00", at)]
            if "+" in text:
                begins = sorted({*begins, *char_positions(text, "+")})
            for m in _matches_at(_PHONE_PREFIXED, text, begins):
                yield m.span()
        for m in labelled(_PHONE_CUED, _PHONE_KEYWORDS, text, lowered(text)):
            yield m.span("v")


# ---- e-mail and handles ------------------------------------------------------------------
_HANDLE_AT = re.compile(r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
_PLATFORMS = (
    r"snap(?:chat)?|insta(?:gram)?|ig|tik\s?-?tok|discord|telegram|twitch|twitter|facebook|fb"
    r"|youtube|steam|psn|xbox|roblox|fortnite|minecraft|kik|signal|whatsapp|messenger|bereal"
    r"|reddit|threads|pinterest|spotify|epic(?:\s?games)?"
)
# Words after "snap er …" that say something about the platform, not a name.
_NOT_HANDLES = (
    r"(?:en|et|den|det|de|ikke|også|meget|mere|blevet|blev|slettet|lukket|hacket|væk|nede|min"
    r"|hans|hendes|deres|jo|bare|nok|en app|populær|farlig|sjov|godt|dårligt|privat|offentlig"
    r"|der|her|nu|tit|ofte|altid|aldrig|sikkert|stadig|kun|lige|helt|the|a|an|not|så)"
)
_HANDLE_VALUE = r"[A-Za-z0-9_.æøåÆØÅ-]{2,30}(?<![.-])"
_HANDLE_CONTEXT = re.compile(
    rf"\b(?:(?:{_PLATFORMS})(?:[- ]?(?:navn|navnet|profil|profilen|bruger|brugeren|brugernavn"
    r"|brugernavnet|konto|kontoen|kanal|kanalen|id|tag))?"
    r"|brugernavn(?:et)?|username|user|profilnavn(?:et)?|gamertag|gamer-?tag)"
    # a strong link ("snap: x", "insta = x", "min snap er x", "brugernavnet hedder x"): any name
    rf"(?:(?:\s*[:=]\s*|\s+(?:hedder|er|med navnet|med brugernavnet|under navnet)\s+)"
    rf"[\"'“”«]?(?!{_NOT_HANDLES}\b)(?P<v>{_HANDLE_VALUE})"
    # a weak one ("på snapchat som x_09", "snapchat kongen.07"): a digit, "_" or "." in it
    r"|\s+(?:som\s+)?[\"'“”«]?(?P<w>(?=[A-Za-z0-9_.æøåÆØÅ]*[0-9_.])[A-Za-z0-9_.æøåÆØÅ]{3,30}"
    r"(?<!\.)))",
    re.IGNORECASE,
)
# After a user-name label alone ("brugernavnet kongen", "gamertag x"), any name.
_HANDLE_LABEL = re.compile(
    rf"\b(?:brugernavn(?:et)?|username|profilnavn(?:et)?|gamertag|gamer-?tag|kaldenavn(?:et)?"
    rf"\s+på\s+nettet)\s+[\"'“”«]?(?P<v>{_HANDLE_VALUE})",
    re.IGNORECASE,
)
# A user name by its shape, wherever it stands: letters/digits joined by "_" ("kongen_09",
# "x_y_z"), or by "." with a part of three or more letters and no domain ending ("mikkel.k",
# "real.mikkel.07"); not an abbreviation ("bl.a.", "f.eks.", "kl.14").
_HANDLE_SHAPE = re.compile(
    r"(?<![\w.@/:-])_*[\w.]*[^\W_]_+(?:[\w.]*[^\W_])?_*(?![\w@])"
    r"|(?<![\w.@/:-])(?=[\w.]*[^\W\d_]{3})[^\W_]+(?:\.[^\W_]+)+(?![\w@]|\.[^\W_])"
)
# Letters then digits, "kongen09", "mikkel2010": a user name (not a product, a class, a unit).
_HANDLE_DIGITS = re.compile(r"(?<![\w.@/:-])[^\W\d_]{3,}\d{2,4}(?![\w@])")
_NOT_HANDLE_DIGITS = re.compile(
    r"(?i)(?:iphone|fifa|ps|covid|windows|galaxy|mp|top|uge|klasse|kl|nr|tlf|version|model|pixel"
    r"|note|xbox|nike|air|max|gta|cod|nba|pes|euro|em|vm|dk|sag|sagsnr|lokale|bus|linje|rute|tog"
    r"|u|år|aar|kr|dkk|eur|usd|km|kg|mg|ml|cm|mm|gb|mb|tb|hz|pct|nummer|kode)\d+"
)
_NOT_HANDLE_SHAPE = re.compile(
    r"(?i)(?:.*\.(?:dk|com|net|org|se|no|de|eu|info|io|me|nu|uk|co|php|html|jpg|png|pdf|docx?)"
    r"|(?:bl|f|fx|t|m|o|p|i|e|a|s|d|kl|nr|ca|pkt|str|st|kap|tlf|jf|ang|vedr|evt|inkl|mht|pga"
    r"|dvs|osv|ift|hhv|bla|eks|ex|vs|etc)\..*|.*\d+\.\d+.*)"
)
def _seams(text: str) -> list[int]:
    """Where a letter meets a digit ("kongen09"), a "_" stands, or a "." joins two word
    characters ("mikkel.k"): found with str.find and the cached digit runs, not a regex scan."""
    seams = [at for at in digit_starts(text) if at and text[at - 1].isalpha()]
    for char in "_.":
        at = text.find(char)
        while at >= 0:
            if char == "_" or (0 < at < len(text) - 1 and text[at - 1].isalnum()
                               and text[at + 1].isalnum()):
                seams.append(at)
            at = text.find(char, at + 1)
    return seams
_HANDLE_CHARS = frozenset("._")


def _word_start(text: str, at: int) -> int:
    """The start of the user-name-like token around ``at`` (letters, digits, "_", ".")."""
    while at > 0 and (text[at - 1].isalnum() or text[at - 1] in _HANDLE_CHARS):
        at -= 1
    return at


_PLATFORM_KEYWORDS = Keywords((
    "snap", "insta", "ig", "tik", "discord", "telegram", "twitch", "twitter", "facebook", "fb",
    "youtube", "steam", "psn", "xbox", "roblox", "fortnite", "minecraft", "kik", "signal",
    "whatsapp", "messenger", "bereal", "reddit", "threads", "pinterest", "spotify", "epic",
    "brugernavn", "username", "user", "profilnavn", "gamertag", "gamer-tag",
))
_LABEL_KEYWORDS = Keywords(("brugernavn", "username", "profilnavn", "gamer", "kaldenavn"))
# Where a _HANDLE_CONTEXT match can begin, searched in the folded lower-case text. (finditer
# does not report a platform word that starts inside another one, "psnap", but the \b of
# _HANDLE_CONTEXT rejects such a position anyway.)
_PLATFORM_AT = re.compile(
    r"snap|insta|ig|tik|discord|telegram|twitch|twitter|facebook|fb|youtube|steam|psn|xbox"
    r"|roblox|fortnite|minecraft|kik|signal|whatsapp|messenger|bereal|reddit|threads|pinterest"
    r"|spotify|epic|brugernavn|user|profilnavn|gamer"
)
# E-mail addresses written so a pattern for "@" misses them: "navn (at) domæne dk",
# "navn at domæne dot dk", "navn[at]domæne.dk", "navn snabel-a domæne.dk", "navn @ domæne . dk".
_OBF_AT = (
    r"(?:\s*[(\[{<]\s*(?:at|snabel[- ]?a|@)\s*[)\]}>]\s*|\s+(?:snabel[- ]?a|@)\s+"
    r"|\s*@\s+|\s+@\s*)"
)
_OBF_DOT = (
    r"(?:\s*[(\[{<]\s*(?:dot|punktum|prik)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+"
    r"|\s?\.\s?|\s)"
)
# After a bare " at " (also the Danish infinitive marker: "lovede at komme og de gik") every
# dot must be written: a "." or "dot"/"punktum"/"prik", not a mere space or ". " (a sentence
# end: "nåede at komme. De …").
_OBF_DOT_WRITTEN = (
    r"(?:\s*[(\[{<]\s*(?:dot|punktum|prik)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+|\.)"
)
_TLD = r"(?:dk|com|net|org|se|no|de|eu|info|io|me|nu|uk|co|fo|gl|is|fi|biz|online)"
_EMAIL_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])[\w.+-]+(?:{_OBF_AT}[\w-]+(?:{_OBF_DOT}[\w-]+)*?{_OBF_DOT}"
    rf"|\s+at\s+[\w-]+(?:{_OBF_DOT_WRITTEN}[\w-]+)*?{_OBF_DOT_WRITTEN}){_TLD}(?![\w])",
    re.IGNORECASE,
)
# A written-out "@" that is no Danish "at" ("at komme"), or a plain " at " with a domain ending
# near: only then is the (slow) obfuscated-address pattern run.
_OBF_MARKERS = ("(at", "[at", "{at", "<at", "snabel", " @", "@ ")
_OBF_AT_KEYWORDS = Keywords((" at ", "(at", "[at", "{at", "<at", "snabel", "@ ", " @"))
_TLD_KEYWORDS = Keywords((
    "dot", "punktum", "prik", *(f"{sep}{tld}" for sep in ". " for tld in (
        "dk", "com", "net", "org", "se", "no", "de", "eu", "info", "io", "me", "nu", "uk", "co",
        "fo", "gl", "is", "fi", "biz", "online"))
))

# ---- addresses ---------------------------------------------------------------------------
_SUFFIXES = (
    "vej|vejen|gade|gaden|allé|alle|alléen|vænge|vænget|stræde|strædet|plads|pladsen|torv|"
    "torvet|boulevard|parken|park|bakken|bakke|toften|toft|vangen|vang|stien|sti|marken|mark|"
    "løkken|løkke|hegnet|engen|eng|haven|have|lunden|lund|gården|gård|høj|højen|kær|kæret|"
    "mose|mosen|holm|holmen|skov|skoven|strand|stranden|bjerg|bjerget|dal|dalen|ager|agre|"
    "lyst|bro|broen|kaj|kajen|vold|volden|brink|brinken|linien|krog|krogen|huse|væld|gyde|"
    "passage|sving|svinget|banke|kvarter|kvarteret|tofte|rækken|hus|slette|sletten|"
    "vejle|dige|diget|parkvej|ring|ringen|buen|stykket|høje|dyssen|gærdet|hegn|lod|lodden|"
    "brynet|bryn|tved|lev|ved|næs|næsset|højen|vænge|hus"
)
_STREET_WORD = rf"[A-ZÆØÅ][a-zæøåéü]+(?:-[a-zæøåéü]+)?(?:{_SUFFIXES})"
_CAP = r"(?:[A-ZÆØÅ][a-zæøåéüA-ZÆØÅ'’]*\.?|[A-ZÆØÅ]\.(?:[A-ZÆØÅ]\.)*)"
_STREET_SEPARATE = (
    rf"(?:{_CAP}\s+){{1,3}}(?:Vej|Gade|Allé|Alle|Plads|Boulevard|Torv|Stræde|Vænge|Have|Park"
    r"|Landevej|Stationsvej|Kirkevej|Skolevej)"
)
_STREET_PREFIX = (
    r"(?:(?:Vester|Øster|Nørre|Søndre|Ny|Nye|Gammel|Gl\.|Store|Lille|Sankt|Skt\.|Lange|Kongens"
    r"|Dronning|Prins|Gamle|Nr\.|Sdr\.|Vestre|Østre|Nordre|Søndre)\s+)?"
)
_NUMBER = r"\s+\d{1,4}(?:\s?-\s?\d{1,4})?(?:[A-Za-zÆØÅæøå](?![\w])|\s[A-ZÆØÅ](?![\w]))?"
_SIDE = r"(?:tv|th|mf|t\.v|t\.h)\.?"
_FLOOR = (
    rf"(?:,?\s*(?:(?:st|kl|stuen|kælder)\.?|\d{{1,2}}\.\s?(?:sal\.?)?)"
    rf"(?:\s*,?\s*(?:{_SIDE}(?![\w])|(?:dør\s*)?\d{{1,3}}(?![\d.])))?"
    rf"|,?\s+{_SIDE}(?![\w]))?"
)
# A word after a postcode that is no town: "flyttet fra Algade 5, 4773 til Holmen 8" (the next
# address begins after it; a town must not swallow it).
NOT_TOWN = (
    r"(?!(?i:til|fra|og|eller|i|på|med|ved|hos|men|hvor|som|der|er|var|har|blev|for|efter"
    r"|før|inden|siden|mens|da|når|samt|hvis|at|hvor|nu|igen|sammen)(?![^\W\d_]))"
)
_TOWN = (
    rf"{NOT_TOWN}(?:[A-ZÆØÅ][a-zæøå]+\s)?"
    r"[A-ZÆØÅa-zæøå][a-zæøå]+(?:-[A-ZÆØÅ]?[a-zæøå]+)?(?:\s(?:NV|NØ|SV|SØ|[NSVKCØ])(?![\w]))?"
)
_POSTCODE = rf"(?:,?\s+(?:DK-?)?\d{{4}}\s+{_TOWN})?"
_ADDRESS = re.compile(
    rf"(?<![\w])(?:{_STREET_PREFIX}{_STREET_WORD}|{_STREET_SEPARATE}){_NUMBER}{_FLOOR}{_POSTCODE}"
)
_ADDRESS_CONTEXT = re.compile(
    rf"\b(?:bor på|bor i|boende på|bosat på|bopæl(?:en)?(?: er| på)?:?|adresse(?:n)?(?: er| på)?:?"
    rf"|adr\.:?|flyttet til|flytter til)\s+(?P<v>{_STREET_PREFIX}{_CAP}(?:\s+{_CAP}){{0,2}}"
    rf"{_NUMBER}{_FLOOR}{_POSTCODE})",
    re.IGNORECASE,
)

_ANY_STREET = re.compile(  # any capitalised street name, when a floor/side or postcode proves it
    rf"(?<![\w])(?<![\d.]\.)(?:{_STREET_PREFIX}{_CAP}\s+)?{_CAP}{_NUMBER}"
    rf"(?:,?\s*(?:(?:st|kl|stuen)\.?|\d{{1,2}}\.)\s*,?\s*{_SIDE}(?![\w]){_POSTCODE}"
    rf"|{_FLOOR},?\s+\d{{4}}\s+{_TOWN})"
)
_ADDRESS_GATE = re.compile(r"[A-ZÆØÅ][^\W\d_]*\.? \d")


@lru_cache(maxsize=16)
def address_gate(text: str) -> int:
    """Where the first capitalised word before " " and a digit begins, -1 if none (cached: the
    house-number recognizer needs no scan of the text before it)."""
    m = _ADDRESS_GATE.search(text)
    return -1 if m is None else m.start()
# Where an _ADDRESS or _ANY_STREET match can begin. Both patterns are, before _NUMBER
# ("\s+\d"), at most five whitespace-separated words without digits (prefix, "H.C.",
# "Andersens", "Boulevard" …) starting with a capital at a word start. So: find each house
# number and the up to five digit-free words before it (searched right to left in the reversed
# text, where the house number comes first), and try the patterns only at the capitals in
# those windows (see _matches_at) instead of running the long street-suffix alternation at
# every capital letter of the text.
_NUMBER_WINDOW_REVERSED = re.compile(r"\d\s+(?:[^\s\d]+\s+){0,4}[^\s\d]+")
_CAPITAL_AT_WORD_START = re.compile(r"[A-ZÆØÅ](?<![\w][A-ZÆØÅ])")


_Trie = dict[str, "_Trie"]


def _trie(words: Iterable[str]) -> str:
    """A regex alternation of ``words`` as a trie ("ab|ac" as "a(?:b|c)"): ``re`` tries the
    branches of an alternation one by one, a trie tries only those with the right letter."""
    tree: _Trie = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: _Trie) -> str:
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items())
                    if char]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return render(tree)


# _ADDRESS ends its street right before the house number with a suffix ("Algade") or a
# separate street word ("H.C. Andersens Boulevard"); every word before a number is digit-free,
# so for every start in a number's window the number is that window's. Matched in the
# reversed text at the window: the house number, the spaces, the street word's ending.
_STREET_END_REVERSED = re.compile(r"\d\s+" + _trie(end[::-1] for end in (
    *_SUFFIXES.split("|"), "Vej", "Gade", "Allé", "Alle", "Plads", "Boulevard", "Torv",
    "Stræde", "Vænge", "Have", "Park", "Landevej", "Stationsvej", "Kirkevej", "Skolevej")))


@lru_cache(maxsize=16)
def address_starts(text: str) -> tuple[int, ...]:
    """Where a street with a house number can begin (cached: two recognizers ask)."""
    return _address_starts(text)[0]


@lru_cache(maxsize=16)
def _address_starts(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The address starts, and those of them where _ADDRESS can match (a street ending right
    before the number)."""
    size = len(text)
    starts: list[int] = []
    suffixed: list[int] = []
    reverse = text[::-1]
    # A window begins (in the reversed text) at the first digit of a run: tried only there
    # (its words hold no digit, so windows never overlap and each run is tried on its own).
    window_at = _NUMBER_WINDOW_REVERSED.match
    windows = [(size - m.end(), size - m.start(), m.start()) for m in
               [window_at(reverse, size - 1 - at) for at, _size in digit_runs(text)] if m]
    for low, high, at in windows:  # in text order
        found = [m.start() for m in _CAPITAL_AT_WORD_START.finditer(text, low, high)]
        starts.extend(found)
        if found and _STREET_END_REVERSED.match(reverse, at) is not None:
            suffixed.extend(found)
    return tuple(starts), tuple(suffixed)


# Where an _ADDRESS_CONTEXT match can begin ("bor på", "boende", "bosat", "bopæl", "adresse",
# "adr.", "flyttet/flytter til"): every alternative of the pattern begins with one of these.
_CONTEXT_KEYWORDS = Keywords(("bor ", "bopæl", "boende", "bosat", "adresse", "adr.", "flytte"))


class AddressRecognizer:
    """Street name + house number (+ letter, floor/side, postcode and town): ``Algade 12, 2. tv,
    4720 Præstø``, ``Storegade 3B``, ``H.C. Andersens Boulevard 3``; a street name without a
    typical ending counts after ``bor på``/``adresse`` or with a floor/side or a postcode."""

    kind = "address"
    detector = "address"
    reason = "a street name with a house number, or a place after 'bor på'/'adresse'"
    # Any of "bor ", "bopæl", "adresse", "adr.", "flytte", "boende", "bosat" in the lower-cased
    # text (one regex scan instead of seven substring tests).
    _CONTEXT_WORDS = re.compile(r"bo(?:r |pæl|ende|sat)|adr(?:esse|\.)|flytte")

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if address_gate(text) < 0:
            return
        starts = address_starts(text)
        if starts:
            for m in _matches_at(_ADDRESS, text, _address_starts(text)[1]):
                yield m.span()
            for m in _matches_at(_ANY_STREET, text, starts):
                yield m.span()
        low = lowered(text)
        if low is None:
            if self._CONTEXT_WORDS.search(text.lower()) is not None:
                for m in _ADDRESS_CONTEXT.finditer(text):
                    yield m.span("v")
            return
        for m in _matches_at(_ADDRESS_CONTEXT, text, _CONTEXT_KEYWORDS.starts(low)):
            yield m.span("v")


_EMAIL_AT = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_EMAIL_LOCAL = frozenset("._%+-")


class EmailRecognizer:
    """``name@domain.tld``, found from each ``@`` outwards (fast: no scan of every word), and
    the written-out forms: ``navn (at) domæne dk``, ``navn at domæne dot dk``, ``navn snabel-a
    domæne.dk``, ``navn[at]domæne.dk``."""

    kind = "email"
    detector = "email"
    reason = "an e-mail address, also written with (at), [at], 'snabel-a' or 'dot'"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        at = text.find("@")
        last_end = 0
        while at >= 0:
            start = at
            while start > last_end and (text[start - 1].isalnum() or text[start - 1] in _EMAIL_LOCAL
                                        or text[start - 1] == "_"):
                start -= 1
            if start < at:
                m = _EMAIL_AT.match(text, start)
                if m is not None:
                    yield m.span()
                    last_end = m.end()
                    at = text.find("@", last_end)
                    continue
            at = text.find("@", at + 1)
        low = lowered(text)
        if low is None:
            yield from (m.span() for m in _EMAIL_OBFUSCATED.finditer(text))
            return
        markers = _OBF_AT_KEYWORDS.starts(low)
        if not markers or (not any(marker in low for marker in _OBF_MARKERS)
                           and not _TLD_KEYWORDS.starts(low)):
            return
        # The pattern is tried only at the start of the word before each written-out "@".
        starts = set()
        for at in markers:
            while at > 0 and text[at - 1] in " ([{<":
                at -= 1
            while at > 0 and (text[at - 1].isalnum() or text[at - 1] in "._+-"):
                at -= 1
            starts.add(at)
        for m in _matches_at(_EMAIL_OBFUSCATED, text, sorted(starts)):
            yield m.span()


class HandleRecognizer:
    """``@name`` (not an e-mail); a name after a platform word (``snap: kongen_09``, ``min
    snap er kongen``) or a user-name label (``brugernavnet kongen``); and anything shaped like
    a user name (``x_y_z``, ``mikkel.k``)."""

    kind = "handle"
    detector = "handle"
    reason = "a social-media user name: @name, or a name after a platform word"
    # Any platform word in the lower-cased text gates _HANDLE_CONTEXT; the same scan lists the
    # positions to try it at (_PLATFORM_AT).

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if "@" in text:  # tried only at each "@"
            for m in _matches_at(_HANDLE_AT, text, char_positions(text, "@")):
                yield m.span()
        low = lowered(text)
        for m in labelled(_HANDLE_CONTEXT, _PLATFORM_KEYWORDS, text, low):
            yield m.span("v") if m.group("v") is not None else m.span("w")
        for m in labelled(_HANDLE_LABEL, _LABEL_KEYWORDS, text, low):
            yield m.span("v")
        # By shape: only where a letter meets a digit, "_" or an inner "." can one begin.
        seams = _seams(text)
        if seams:
            starts = sorted({_word_start(text, at) for at in seams})
            for m in matches_at(_HANDLE_DIGITS, text, starts):
                if _NOT_HANDLE_DIGITS.fullmatch(m.group()) is None:
                    yield m.span()
            for m in matches_at(_HANDLE_SHAPE, text, starts):
                if _NOT_HANDLE_SHAPE.fullmatch(m.group()) is None:
                    yield m.span()


# ---- plates ------------------------------------------------------------------------------
# Two letters and five digits: "AB 12 345", "AB12345", "AB-12-345", and in lower or mixed case
# "ab 12 345", "Ab12345" (not "er 50-200", "På 12 345": no two-letter Danish word).
_PLATE = re.compile(
    r"[A-ZÆØÅ](?<![\w-][A-ZÆØÅ])[A-ZÆØÅ][ -]?\d{2}[ -]?\d{3}(?![\w]|[.,]\d)"
    r"|(?<![\w-])(?!(?i:er|på|og|at|en|et|du|vi|de|os|så|nu|da|om|to|ti|kl|nr|ca|fx|ml|km"
    r"|kr|mm|cm|kg|ok|jo|ja|nå|se|må|gå|få|hr)\b)"
    r"[A-ZÆØÅa-zæøå][a-zæøå][ -]?\d{2}[ -]?\d{3}(?![\w]|[.,-]\d)"
)

# After a vehicle word any two letters and five digits are a plate ("pladen er Se 12 345").
_PLATE_CUED = re.compile(
    r"\b(?:plade|nummerplade|reg\.?\s?nr|registreringsnummer|bil|knallert|scooter|motorcykel"
    r"|kørte|kører)(?:en|n)?\.?\s*(?:er|med|nr\.?)?\s*:?\s*"
    r"(?P<v>[A-ZÆØÅa-zæøå]{2}[ -]?\d{2}[ -]?\d{3})(?![\w]|[.,-]\d)",
    re.IGNORECASE,
)
_VEHICLE_KEYWORDS = Keywords((
    "plade", "nummerplade", "reg", "registreringsnummer", "bil", "knallert", "scooter",
    "motorcykel", "kørte", "kører",
))


class PlateRecognizer:
    """Two letters and five digits; tried only two or three characters before a digit run."""

    kind = "plate"
    detector = "plate"
    reason = "two letters and five digits: a Danish licence plate"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        # "AB12345" (a run of five) or "AB 12 345" (a run of two), two or three characters on
        starts = sorted({at - back for at in digit_starts(text, (2, 5)) for back in (2, 3)
                         if at >= back})
        for m in _matches_at(_PLATE, text, starts):
            yield m.span()
        if starts:
            for m in labelled(_PLATE_CUED, _VEHICLE_KEYWORDS, text, lowered(text)):
                yield m.span("v")


PATTERN_RECOGNIZERS: tuple[Recognizer, ...] = (
    CprRecognizer(),
    EmailRecognizer(),
    HandleRecognizer(),
    PhoneRecognizer(),
    PlateRecognizer(),
    AddressRecognizer(),
)
