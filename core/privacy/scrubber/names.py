"""The name recognizer: the names the event carries (any inflection, any case) and other
people's names found through the gazetteer, with context rules for names that are also words.

One pass tokenises the text; each token gets a state, then neighbours settle the doubtful ones:

* a part of a *known* name (``known_names``) is a name in any case (``MIKKEL``, ``mikkels``);
  a part that is also a Danish word (``Bo``, ``Have``) or a particle (``al``, ``bin``) only when
  capitalised or next to another name token;
* a capitalised gazetteer name is a name, unless it is also an ordinary word (``Storm``,
  ``Skov``, ``Said``); such a word needs evidence: a capital letter in the middle of a
  sentence, a title or relation word before it (``fru``, ``eleven``, ``moren``, ``hedder``), or
  another name next to it (``Bo Jensen``, ``Anders Skov``);
* a capitalised word right after a name continues it (``Mikkel Hvidbjerg``), and a capitalised
  ``-sen``/``-gaard`` word in mid-sentence, or an ``-ović``/``-ski``/``-enko`` word anywhere,
  is a surname;
* a name chain followed by an institution word (``Lund Skole``, ``Svend Gønge-Skolen``) is a
  place, not a person (unless it is a known name).

* any other token, in any case, that is no Danish word (:mod:`.vocabulary`: hunspell-da, with
  inflections and compounds), no allowed shop/place/organisation/loan word and no short
  function word is a suspect name and goes (fail safe): ``kofi``, ``Tenzin``, ``Aputsiaq``;
* a word that is also a name (``per``, ``Said``) goes after a cue: ``kaldet X``, ``hedder X``,
  ``X aka`` always; a relation or quote word (``bror X``, ``fra X``, ``X sagde``, ``X:`` at
  the start of a chat line) or a list of names (``X, Y og Z``) when it is known as a name;
* particles join the name after them, so a whole ``van der Berg``, ``Al-Hassan``, ``Ó Briain``
  goes, and so does a double ``Nielsen-Kaur``.

Possessives are part of the name: ``Mikkels``, ``Lukas'``, ``Ahmed's``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate, compress
from typing import NamedTuple

from core.privacy.scrubber.gazetteer import FIRST, SURNAME, WORD, Gazetteer, fold
from core.privacy.scrubber.patterns import Keywords
from core.privacy.scrubber.vocabulary import Vocabulary

_TOKEN = re.compile(r"[^\W\d_]+(?:['’]s?(?![^\W\d_]))?")
_PART = re.compile(r"[^\W\d_]+")


def _forms(block: str) -> frozenset[str]:
    """The words of a block, each as written and folded (``søster`` and ``soster``)."""
    return frozenset(form for word in block.split() for form in (word, fold(word)))


_TITLES = _forms("""
hr fru frk dr elev eleven eleverne elevens drengen pigen dreng pige mor far moren faren moderen
faderen bror broren brors søster søsteren storebror storebroren lillebror lillebroren
storesøster storesøsteren lillesøster lillesøsteren halvbror halvbroren halvsøster halvsøsteren
fætter fætteren kusine kusinen onkel onkelen onklen tante tanten ven vennen veninde veninden
kæreste kæresten kammerat kammeraten kammeraterne klassekammerat klassekammeraten lærer læreren
lærerinde pædagog pædagogen sagsbehandler sagsbehandleren betjent betjenten politiassistent
politiassistenten kontaktperson kontaktpersonen kontaktlærer kontaktlæreren klasselærer
klasselæreren skoleleder skolelederen viceskoleleder mentor mentoren træner træneren værge
værgen plejefar plejemor plejefaren plejemoren stedfar stedmor stedfaren stedmoren morfar
mormor farfar farmor bedstemor bedstefar familien familie hedder kaldet kaldes navnet navn
kalder drengens pigens unge unges ung forælder forælderen forældrene nabo naboen sælger
sælgeren imam imamen ssp-konsulent konsulent konsulenten sundhedsplejerske sundhedsplejersken
psykolog psykologen leder lederen medarbejder medarbejderen gårdmand ægtefælle hustru mand
manden kone konen søn sønnen datter datteren
""")

_INSTITUTIONS = _forms("""
skole skolen skoles skolens gymnasium gymnasiet gymnasiets efterskole efterskolen friskole
friskolen privatskole kommune kommunes kommunen station stationen centret center centeret
centers klub klubben ungdomsklub ungdomsklubben hallen hal if boldklub kirke kirken moske
moskeen moské kollegium børnehave sfo fritidsklub fritidsklubben ungdomsskole ungdomsskolen hf
handelsskole tekniske plads pladsen vej vejen gade gaden allé park parken torv torvet stranden
skoven søen bibliotek biblioteket kaserne hospital hospitalet sygehus sygehuset politi
politikreds havn havnen storcenter butik butikken bageri kiosk kiosken idrætsforening
idrætscenter idrætshal stadion gymnastikforening ungdomsboliger boligforening kollegiet kvarter
kvarteret sø bakke bakken by byen strand station
""")

# Capitalised words that are never persons here: places, platforms, institutions, and the
# scrubber's own placeholder words (so scrubbing a scrubbed text changes nothing).
_NOT_PERSONS = _forms("""
danmark sverige norge tyskland syrien irak iran tyrkiet somalia afghanistan pakistan polen
ukraine bosnien eritrea vietnam libanon palæstina marokko irakisk syrisk tyrkisk somalisk
københavn aarhus odense aalborg vordingborg præstø stege næstved køge roskilde malmö esbjerg
kolding vejle horsens randers silkeborg herning holbæk slagelse nykøbing falster møn snapchat
instagram tiktok facebook messenger whatsapp discord telegram youtube google iphone android
playstation fortnite roblox minecraft netflix netto føtex bilka rema lidl aldi mcdonalds burger
king ssp sfo ppr politi politiet kommune kommunen islam koranen ramadan eid allah gud jesus
kristus jul påske mandag tirsdag onsdag torsdag fredag lørdag søndag januar februar marts april
maj juni juli september oktober november december cpr telefon email handle adresse nummerplade
fødselsdato sagsnummer kontonummer ip-adresse ip link id-nummer id nummer
person navn dansk danske engelsk arabisk europa asien afrika amerika usa dr tv nyt nyheder
""")

_NOT_NAMES = _NOT_PERSONS | _INSTITUTIONS  # a capitalised token that is never a name

_PARTICLES = _forms("""
al el bin ibn abu abd von van de der den la le da di du dos das ul ud dela del della dei
ní nic ó ter ten zu mac
""")
_ABBREVIATIONS = _forms("""
hr fru frk kl ca a eks mht pga evt nr tlf st dr jf inkl ekskl dvs osv mv bl f ang vedr iht mfl
ifm vha sdr nr gl skt
""")
_STRONG_SUFFIXES = (
    "ovic", "evic", "ović", "ević", "ski", "ska", "cki", "cka", "dzki", "enko", "chuk", "zadeh",
    "oglu", "ullah", "uk", "yan",
)
_SURNAME_SUFFIXES = ("sen", "son", "gard", "strup", "rup", "holm", "bjerg", "skov", "lund")

# _WEAK: a word that is also a name (``storm``, a sentence-initial ``Storm``), a name only if
# the same word is a name elsewhere in the text.
# _LEAD: a capitalised word at the start of a sentence, a name only as the first part of one
# ("Karma Yangchen", "Bram Mulder").
_NO, _MAYBE, _EXT, _NAME, _PARTICLE, _WEAK, _LEAD = 0, 1, 2, 3, 4, 5, 6

# Why a token counts as a name, strongest first: (detector id, reason for the officer).
_WHY_KNOWN, _WHY_LIST, _WHY_VOCABULARY, _WHY_CONTEXT = 0, 1, 2, 3
_WHY = (
    ("name-known", "one of the persons the event names"),
    ("name-list", "a first name or surname from the name lists"),
    ("name-vocabulary", "not a Danish word, place, shop or organisation: a suspect name"),
    ("name-context", "a word used as a name: after a relation, role or quote cue, or in a "
                     "list of names"),
)

# Short words that are never names, however a cue sits next to them.
_FUNCTION_WORDS = _forms("""
han hun den det de vi jeg du man min mit mine mig dig sig os jer dem hans hendes deres der
som og i på at en et er var har havde til fra med for af om så men ikke nu da når hvis her
ifølge kære mens fordi selvom både enten hverken ligesom sammen siden hos mod ved uden
blandt mellem omkring bag foran inden især ellers altså dog derfor desuden endvidere
senere først bagefter derefter dernæst herefter imens ifht iflg vedr ang jf
hvor hvad hvem hvorfor hvordan alle nogen ingen selv sin sit sine din dit dine vores jeres
også kun bare lige godt meget mere mest ja nej okay ok hej tak kom går gik skal vil kan
må bliver blev være været have ud ind op ned over under efter før igen hjem ham hende
""")

# Cue words: the next token is a name if it could be one ("kaldet X", "bror per").
_STRONG_CUES = _forms("""
kaldet kaldes kalder kaldt aka alias hedder navnet kælenavn kælenavnet øgenavn øgenavnet
tilnavn tilnavnet kaldenavn kaldenavnet nickname nick
""")
# "Bamse, som han kaldes": the cue after the name.
_CUE_FOLLOWS = re.compile(
    r"\s?[\"'“”»]?,?\s(?:som|der)\s(?:han|hun|de|vi|man|alle)\s(?:kaldes|kalder|kaldte|bliver)",
    re.IGNORECASE,
)
_STRONG_CUES_AFTER = _forms("aka alias")
# Where a strong cue can stand (Aho-Corasick over the lower-cased text).
_CUE_KEYWORDS = Keywords((
    "hej", "hey", "hallo", "kære", "yo ", "hi ", "kald", "aka", "a.k.a", "alias", "hedder", "navn",
    "kendt", "kendes", "omtal", "går under", "nick", "vulgo",
))
_UNSEEN = object()
# A word with a street ending is a street, not a person ("Marienbergvej"); with a house number
# it is an address (patterns.py), without one it is content.
_STREET_ENDINGS = ("vej", "vejen", "gade", "gaden", "allé", "alle", "stræde", "strædet", "plads",
                   "pladsen", "torv", "torvet", "vænget", "boulevard")
# Three or more of a letter: a stretched chat word ("jaaa", "hmmm"); two are a spelling
# ("Nuur", "Faarax", "Ruun").
_REPEATED = re.compile(r"([^\W\d_])\1{2,}")
_LAUGH = re.compile(r"(?=.{4})(?:h[aeiouæøå]|[aeiouæøå]h|xd|lo+l|jk)+h?")  # "hahaha", "hehe", "xdd"
_CUES_BEFORE = _forms("""
skriver skrev sagde siger spurgte svarede fra til ven vennen veninde veninden kæreste
kæresten bror broren søster søsteren lillebror storebror lillesøster storesøster mor far
moren faren lærer læreren pædagog pædagogen træner træneren kammerat kammeraten fætter
kusine onkel tante nabo naboen
""")
# Verbs whose subject is a person: a name-word before one at the start of a sentence is a name.
_SUBJECT_VERBS = _forms("""
kom slog sagde fortalte siger har havde var er skal skulle vil ville kan kunne fik gik løb
råbte truede sendte skrev ringede mødte tog stjal nægtede forklarede oplyste bor boede går
kender kendte ser virker græd lo spurgte svarede mobber mobbede slår sparkede skubbede
bliver kommer mangler mødte udeblev pjækkede deltog
""")
_CUES_AFTER = _forms("""
sagde skrev skriver siger spurgte svarede råbte truede slog sendte
""")
_AFTER_DIGIT = ".-/"
# What may stand between two parts of one name: a space, a hyphen, or the quotes around a
# nickname ('Mikkel "Bamse" Hansen').
_LIST_GAPS = frozenset((", ", " og ", " eller ", " & ", " + "))
_NAME_GAPS = frozenset((" ", "-", ' "', '" ', " '", "' ", " “", "” ", " ”", " «", "» ", " »"))
# Two-word cues for a nickname: "kendt som X", "kalder sig X", "går under navnet X".
_NICKNAME_CUE = re.compile(
    r"(?:\bkaldet|\bkaldes|\bkaldt|\bkalder\s(?:sig|ham|hende|dem)|\bkaldte\s(?:sig|ham|hende)"
    r"|\bkendt|\bkendes|\bomtales|\bomtalt|a\.k\.a\.?|\baka\.?|\balias|\bvulgo"
    r"|\b(?:kæle|øge|til|kalde|nick|bruger)?navn(?:et)?(?:\s+(?:er|var))?"
    r"|\bnick(?:name)?(?:et)?(?:\s+(?:er|var))?|\bgår\sunder)"
    # up to three filler words: "kaldet for", "kaldes også", "kendt på gaden som"
    r"(?:\s(?:for|også|bare|som|blot|altid|tit|af\s\w+|blandt\s\w+|på\s\w+|i\s\w+)){0,3}"
    r"[\s:]*[\"'“”«»„‘’]?\s?$",
    re.IGNORECASE,
)
_LABEL_WORDS = _forms("""
mail email tlf telefon mobil adresse note noter obs ps info tid sted dato emne re fra til cc
sms besked svar link kl nr ref sag vedr bemærk husk status kilde navn alder klasse skole
""")
_CHAT_SPEAKER = re.compile(r"(?m)^[ \t>*•\"“'-]*([a-zæøå]+) ?:")
_GREETINGS = _forms("hej hey hejsa hallo halløj kære yo hi hello heej hejj")
_CAPITAL_PARTICLES = frozenset("ÓO")

# What a token is whatever its context (see NameRecognizer._token_info).
_TokenInfo = tuple[str, int, str, "tuple[int, bool, bool, bool] | None", bool, bool,
                   "tuple[int, int, int] | None"]
# A candidate token: (start, raw end, scrub end, key, state, persons, flag, why).
_Item = tuple[int, int, int, str, int, tuple[int, ...], int, int]
# An occurrence of a known name's part: start -> (raw end, scrub end, key, state, persons).
_Known = tuple[int, int, str, int, tuple[int, ...]]
# One searchable spelling of a known name's part: (needle, key, weak, person indices).
_Needle = tuple[str, str, bool, tuple[int, ...]]


class NameSpan(NamedTuple):  # a tuple: built far faster than a frozen dataclass
    start: int
    end: int
    person: int  # 1-based placeholder number
    detector: str = "name-list"
    reason: str = ""


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“”«»„(–—-*•>":
        i -= 1
    if i < 0:
        return True
    ch = text[i]
    if ch in "\n\r!?:;":
        return True
    if ch != ".":
        return False
    j = i
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    word = text[j:i].lower()
    if j > 0 and text[j - 1].isdigit():
        return True  # "… Storegade 3B. Mor er hjemme", "… i 8.b. Han"
    return not (word in _ABBREVIATIONS or len(word) == 1)


_UPPER = "A-ZÀ-ÖØ-ÞĄĆČĎĐĘĚĞİŁŃŇŐŒŘŚŞŠŤŮŰŹŻŽ"
# A capitalised word (not mid-word: "TikTok" has none), with a possessive "'s" or "'" kept.
_CAP_TOKEN = re.compile(
    rf"[{_UPPER}](?<![^\W\d_][{_UPPER}])[^\W\d_]*(?:['’]s?(?![^\W\d_]))?"
)
# Any word, with a possessive "'s" or "'" kept ("TikTok" is one token).
_ANY_TOKEN = re.compile(r"[^\W\d_]+(?:['’]s?(?![^\W\d_]))?")
# The same for a text of Latin script and common punctuation only (almost every report): the
# letters of those blocks as ranges, which re matches about twice as fast as [^\W\d_]. The
# two agree on every character of the blocks (a unit test checks it).
LATIN_LETTERS = (
    "A-Za-z\xaa\xb2\xb3\xb5\xb9\xba\xbc-\xbe\xc0-\xd6\xd8-\xf6\xf8-\u024f\u1e00-\u1eff")
_ANY_TOKEN_LATIN = re.compile(rf"[{LATIN_LETTERS}]+(?:['’]s?(?![{LATIN_LETTERS}]))?")
_ANY_TOKEN_SPLIT = re.compile(f"({_ANY_TOKEN.pattern})")
_ANY_TOKEN_LATIN_SPLIT = re.compile(f"({_ANY_TOKEN_LATIN.pattern})")
NOT_LATIN_BLOCKS = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")
_QUOTES = "\"'“”«»„"


def _subject_of_verb(text: str, end: int) -> bool:
    """The word after ``end`` is a verb whose subject is a person ("… kom", "… slog")."""
    nxt = _NEXT_TOKEN.match(text, end)
    return nxt is not None and nxt.group(1).lower() in _SUBJECT_VERBS


def _prev_word(text: str, start: int) -> tuple[str, bool]:
    """The word right before ``start`` (over an optional quote, space and full stop) and
    whether a full stop follows it; ("", False) if none. A backward scan: cheaper than a
    regex search ending at ``start``."""
    i = start
    if i > 0 and text[i - 1] in _QUOTES:
        i -= 1
    if i > 0 and text[i - 1] == " ":
        i -= 1
    dot = i > 0 and text[i - 1] == "."
    if dot:
        i -= 1
    j = i
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return text[j:i], dot
_NEXT_WORD = re.compile(r"[ -]([^\W\d_]+)")


def _titled(text: str, start: int) -> bool:
    """A title or relation word (``fru``, ``eleven``, ``hedder``) right before ``start``."""
    word, dot = _prev_word(text, start)
    return bool(word) and word.lower() in _TITLES and (not dot or len(word) <= 3)

_NEXT_TOKEN = re.compile(r"[ ]?([^\W\d_]+)")
_LINE_START = re.compile(r"(?:^|\n)[ \t>*•\-–\"“']*(?:\[?\d{1,2}[:.]\d{2}\]?[ \t]*)?$")


# Where a _NICKNAME_CUE match can begin relative to a cue keyword: at it, or before "navn" by
# the length of a prefix ("kælenavn", "øgenavn", "tilnavn", "kaldenavn", "brugernavn").
_CUE_OFFSETS = (0, 3, 4, 5, 6)


def _nickname_cue_before(text: str, start: int, cue_starts: tuple[int, ...] | None) -> bool:
    """A nickname cue ("kaldet", "går under navnet", "aka") ends right before ``start``: the
    same answer as searching ``_NICKNAME_CUE`` in the 30 characters before it, but the pattern
    is only tried where one of its alternatives can begin (a cue keyword, or a prefix of
    "navn" before one); the search over the window stays for what the keywords cannot see
    (lower-casing moved offsets, "går" and "under" apart by other white space, an "ı" or "ſ"
    that IGNORECASE reads as "i" or "s")."""
    low = max(0, start - 30)
    if cue_starts is None:
        return _NICKNAME_CUE.search(text, low, start) is not None
    i = bisect_left(cue_starts, low)
    if i == len(cue_starts) or cue_starts[i] >= start:
        return False  # no cue keyword begins in the window
    window = text[low:start].lower()
    if "går" in window or "ı" in window or "ſ" in window:
        return _NICKNAME_CUE.search(text, low, start) is not None
    tried: set[int] = set()
    match = _NICKNAME_CUE.match
    while i < len(cue_starts) and cue_starts[i] < start:
        for back in _CUE_OFFSETS:
            at = cue_starts[i] - back
            if at >= low and at not in tried:
                tried.add(at)
                if match(text, at, start) is not None:
                    return True
        i += 1
    return False


def _cued(text: str, start: int, length: int, strong_cues: bool = True,
          cue_starts: tuple[int, ...] | None = None) -> int:
    """How strongly a cue around the token at ``start`` says "a name": 2 for ``kaldet X``,
    ``hedder X``, ``X aka``; 1 for a relation, role or quote word (``bror X``, ``fra X``,
    ``skriver X:``, ``X sagde``) or ``X:`` at the start of a chat line, which only counts for a
    token also known as a name; 0 for none."""
    end = start + length
    if (text.startswith(":", end) or text.startswith(" :", end)) \
            and _LINE_START.search(text, max(0, start - 40), start) is not None:
        # "Note:", "mail:" are labels; a lower-case speaker of a chat line ("ørn: kom nu") is a
        # name; a capitalised one only if known as a name ("Said:").
        word = text[start:end]
        return 2 if word.islower() and word not in _LABEL_WORDS and word not in _TITLES else 1
    prev, dot = _prev_word(text, start)
    if prev and prev.lower() in _GREETINGS and text[start].islower() \
            and text[start:end] not in _TITLES:
        return 2  # "hej ørn", "kære frost" in a quoted chat
    if strong_cues and _nickname_cue_before(text, start, cue_starts):
        return 2
    if prev and not dot:
        word = prev.lower()
        if word in _STRONG_CUES:
            return 2
        if word in _CUES_BEFORE:
            return 1
    if _CUE_FOLLOWS.match(text, end) is not None:
        return 2
    nxt = _NEXT_TOKEN.match(text, end)
    if nxt is not None:
        word = nxt.group(1).lower()
        if word in _STRONG_CUES_AFTER:
            return 2
        if word in _CUES_AFTER:
            return 1
    return 0


_FLAT_PAIRS = (
    ("ø", "o"), ("å", "a"), ("é", "e"), ("è", "e"), ("ü", "u"), ("ö", "o"), ("ä", "a"),
    ("ı", "i"), ("ş", "s"), ("ç", "c"), ("ğ", "g"), ("ł", "l"), ("ś", "s"), ("ń", "n"),
    ("ć", "c"), ("č", "c"), ("š", "s"), ("ž", "z"), ("ź", "z"), ("ż", "z"), ("đ", "d"),
    ("ą", "a"), ("ę", "e"), ("ó", "o"), ("í", "i"), ("á", "a"), ("ú", "u"), ("’", "'"),
)


def _flat(word: str) -> str:
    """Length-preserving fold for searching known names in the lower-cased text.

    One ``str.replace`` per letter that actually occurs: on a 300-character text this is ~10×
    faster than ``str.translate`` with a dict, which looks every character up in Python."""
    if word.isascii():
        return word
    # which of the letters occur: one regex scan, not one ``in`` scan per letter
    for char in set(_FLAT_CHARS.findall(word)):
        word = word.replace(char, _FLAT_MAP[char])
    return word


_FLAT_MAP = dict(_FLAT_PAIRS)
_FLAT_CHARS = re.compile("[" + "".join(_FLAT_MAP) + "]")


class NameRecognizer:
    """Finds person names; see the module docstring for the rules."""

    kind = "name"

    def __init__(self, gazetteer: Gazetteer, vocabulary: Vocabulary | None = None) -> None:
        flags = dict(gazetteer.flags)
        self._flags = flags
        self._vocab = vocabulary if vocabulary is not None else Vocabulary.shared()
        self._facts_cache: dict[str, object] = {}
        # Tokens already judged by _skippable, and those of them that are not skippable: the
        # wanted tokens of a text are then two C-level set operations.
        self._judged: set[str] = set()
        self._kept: set[str] = set()
        self._part_cache: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        self._infos: dict[str, _TokenInfo] = {}
        self._cached_needles = lru_cache(maxsize=64)(self._needles)

    def _lookup(self, low: str) -> int:
        flags = self._flags
        flag = flags.get(low)
        if flag is None:
            if low.isascii() and "aa" not in low:
                return 0
            flag = flags.get(fold(low), 0)
        return flag

    def _needles(self, known_names: tuple[str, ...]) -> tuple[_Needle, ...]:
        """What to search for the known names: every spelling variant of every part (folded,
        ``aa``/``å``), with its key, whether it is weak (a word or particle: a name only when
        capitalised) and the persons it belongs to. Built once per tuple of names (LRU cache in
        ``__init__``): the same subject and relations come with many events in a row."""
        parts: dict[str, tuple[int, ...]] = {}
        variants: dict[str, str] = {}
        weak: dict[str, bool] = {}
        for index, name in enumerate(known_names):
            for part in _PART.findall(name):
                key, spellings, weak[key] = self._spellings(part)
                seen = parts.get(key, ())
                if index not in seen:
                    parts[key] = (*seen, index)
                for spelling in spellings:
                    variants[spelling] = key
        return tuple(
            (needle, key, weak[key], parts[key]) for needle, key in variants.items()
        )

    def _spellings(self, part: str) -> tuple[str, tuple[str, ...], bool]:
        """A name part's key, its searchable spellings and whether it is weak; cached per part
        (the same first names and surnames come with many events, in other combinations)."""
        cached = self._part_cache.get(part)
        if cached is not None:
            return cached
        key = fold(part)
        low = part.lower()
        flat = _flat(low)
        spellings = [flat]
        if "aa" in flat:
            spellings.append(flat.replace("aa", "a"))
        if "å" in low:
            spellings.append(_flat(low.replace("å", "aa")))
        result = (key, tuple(spellings),
                  bool(len(key) <= 2 or key in _PARTICLES or self._lookup(key) & WORD))
        if len(self._part_cache) > 100_000:
            self._part_cache.clear()
        self._part_cache[part] = result
        return result

    def _known(
        self, text: str, known_names: Sequence[str]
    ) -> dict[int, _Known]:
        """Occurrences of the known names' parts: start → (raw end, scrub end, key, state,
        person indices)."""
        needles = self._cached_needles(tuple(known_names))
        low_text = text.lower()
        if len(low_text) != len(text):  # "İ" lower-cases to two characters
            low_text = "".join(ch.lower()[0] for ch in text)
        hay = _flat(low_text)
        size = len(hay)
        found: dict[int, _Known] = {}
        for needle, key, weak, persons in needles:
            pos = hay.find(needle)
            while pos >= 0:
                end = pos + len(needle)
                if pos == 0 or not hay[pos - 1].isalpha():
                    scrub = end
                    nxt = hay[end] if end < size else " "
                    if nxt == "s" and (end + 1 >= size or not hay[end + 1].isalpha()):
                        scrub = end = end + 1
                        nxt = hay[end] if end < size else " "
                    if nxt == "'":
                        after = hay[end + 1] if end + 1 < size else " "
                        if after == "s" and (end + 2 >= size or not hay[end + 2].isalpha()):
                            scrub = end = end + 2
                        elif hay[end - 1] in "sxz":
                            scrub = end + 1
                        nxt = " "
                    if not nxt.isalpha():
                        cap = text[pos].isupper()
                        state = _NAME if (cap or not weak) else _MAYBE
                        old = found.get(pos)
                        if old is None or old[0] < end:
                            found[pos] = (end, scrub, key, state, persons)
                pos = hay.find(needle, pos + 1)
        return found

    def _skippable(self, token: str) -> bool:
        """A token (as :data:`_ANY_TOKEN` finds it) that is never part of a name without a
        strong cue: a function word, an allowed word, a lower-case word not known as a name."""
        raw = token.rstrip("'’")
        if len(raw) > 2 and raw[-2] in "'’":
            raw = raw[:-2]
        low = raw.lower()
        facts = self._facts(low) if raw else None
        if low in _PARTICLES or raw in _CAPITAL_PARTICLES:
            result = False
        elif facts is None:
            result = True
        else:
            result = raw.islower() and facts[1] and not (facts[0] or facts[3])
        # (In this order, so that another thread never sees a token judged but not yet kept.)
        if len(self._judged) > 100_000:
            self._judged.clear()
            self._kept.clear()
        if not result:
            self._kept.add(token)
        self._judged.add(token)
        return result

    def _facts(self, low: str) -> tuple[int, bool, bool, bool] | None:
        """What the lists say about a lower-cased token, whatever its context: (gazetteer
        flag, is a word or place, is a proper noun of the word list, is written as a name
        there too); None for a token that is never a name (a function word, an allowed
        shop/organisation/chat word, a placeholder word). Cached per token."""
        facts = self._facts_cache.get(low, _UNSEEN)
        if facts is not _UNSEEN:
            return facts  # type: ignore[return-value]
        vocab = self._vocab
        stem = low[:-1] if len(low) > 3 and low[-1] == "s" else ""
        result: tuple[int, bool, bool, bool] | None
        # An allowed word of three letters or fewer ("an", "ya", "ex") is only a word: it may
        # still be part of a name ("Nguyen Van An"); a longer one (a shop, a place) never is.
        if low in _FUNCTION_WORDS or low in _NOT_NAMES or (len(low) > 3 and (
                vocab.is_allowed(low) or (stem and vocab.is_allowed(stem)))) \
                or _LAUGH.fullmatch(low) is not None \
                or (len(low) > 5 and low.endswith(_STREET_ENDINGS)):
            result = None
        else:
            flag = self._lookup(low)
            if not flag and stem:
                flag = self._lookup(stem)
            word = (vocab.is_word(low) or vocab.is_place(low)
                    or (bool(stem) and (vocab.is_word(stem) or vocab.is_place(stem))))
            if not word and _REPEATED.search(low) is not None:  # chat: "jaaa", "neej", "hmmm"
                word = any(vocab.is_word(form) or vocab.is_allowed(form) for form in (
                    _REPEATED.sub(r"\1", low), _REPEATED.sub(r"\1\1", low)))
            proper = vocab.is_proper(low) or (bool(stem) and vocab.is_proper(stem))
            result = (flag, word, proper, vocab.is_person_like(low))
        if len(self._facts_cache) > 100_000:
            self._facts_cache.clear()
        self._facts_cache[low] = result
        return result

    def _token_info(self, token: str) -> _TokenInfo:
        """What the loop in :meth:`find` needs of a token whatever its context, cached: the
        word without a possessive, how many closing-quote characters the finding leaves out,
        its lower case, :meth:`_facts`, whether it is a particle, whether it is a plain
        lower-case word, and its state if the context does not matter."""
        raw = token
        trim = 0
        last = raw[-1]
        if last == "'" or last == "’":
            raw = raw[:-1]
            if not raw or raw[-1] not in "sxzSXZ":
                trim = 1  # a closing quote, not a possessive
        elif len(raw) > 2 and raw[-2] in "'’":
            raw = raw[:-2]
        low = raw.lower()
        facts = self._facts(low) if raw else None
        particle = low in _PARTICLES or raw in _CAPITAL_PARTICLES
        plain = facts is not None and facts[1] and not (facts[0] or facts[3]) and raw.islower()
        fixed = self._context_free(raw, facts) if facts is not None else None
        info = (raw, trim, low, facts, particle, plain, fixed)
        if len(self._infos) > 100_000:
            self._infos.clear()
        self._infos[token] = info
        return info

    def _context_free(self, raw: str,
                      facts: tuple[int, bool, bool, bool]) -> tuple[int, int, int] | None:
        """(state, gazetteer flag, why) of a token when its context does not matter (cached per
        token by the caller), else None: :meth:`_in_context` decides from the context."""
        flag, word, proper, _person_like = facts
        low = raw.lower()
        if low in _STRONG_CUES:
            return _NO, 0, 0  # "navnet" in "går under navnet X" is the cue, not the name
        if not raw[0].isupper():  # lower case: chat and SMS lines, or a name typed carelessly
            if len(low) <= 2:
                return _NO, 0, 0
            if not word:
                return _NAME, flag, (_WHY_LIST if flag or proper else _WHY_VOCABULARY)
            return None
        allcaps = len(raw) > 1 and raw.isupper()
        if flag and not flag & WORD:  # the name lists say: not a word that needs context
            return (_MAYBE if allcaps and len(raw) < 4 else _NAME), flag, _WHY_LIST
        if flag:
            return None
        if allcaps:
            if word or len(raw) < 5:
                return _NO, 0, 0
            return _NAME, 0, _WHY_VOCABULARY
        if len(raw) == 1:  # an initial: part of a name next to one ("Mikkel K."), else not
            return _EXT, 0, _WHY_CONTEXT
        if not word:
            return _NAME, 0, (_WHY_LIST if proper else _WHY_VOCABULARY)
        if low.endswith(_STRONG_SUFFIXES) and len(low) > 5:
            return _NAME, 0, _WHY_LIST
        return None

    def _in_context(self, text: str, start: int, raw: str,
                    facts: tuple[int, bool, bool, bool], strong_cues: bool,
                    cue_starts: tuple[int, ...] | None) -> tuple[int, int, int]:
        """(state, gazetteer flag, why) of a token :meth:`_context_free` leaves open, from its
        context; ``strong_cues``: the text has a "kaldet"/"hedder"/"aka" somewhere."""
        flag, word, _proper, person_like = facts
        # A cue matters for a word only if it is known as a name, or if it is a strong one.
        cue_counts = strong_cues or bool(flag) or person_like
        low = raw.lower()
        if not raw[0].isupper():  # a lower-case word (not a name by its letters alone)
            cue = _cued(text, start, len(raw), strong_cues, cue_starts) if cue_counts else 0
            if cue == 2 or (cue and (flag or person_like)):
                return _NAME, flag, _WHY_CONTEXT
            if low in _TITLES or low in _CUES_BEFORE or low in _CUES_AFTER:
                return _NO, 0, 0  # "bror", "sagde": the cue, never the name
            return (_WEAK, flag, _WHY_CONTEXT) if flag or person_like else (_NO, 0, 0)
        if flag:  # a name that is also a word
            allcaps = len(raw) > 1 and raw.isupper()
            if (allcaps or _sentence_initial(text, start)) and not _titled(text, start) \
                    and not _cued(text, start, len(raw), strong_cues, cue_starts) \
                    and not _subject_of_verb(text, start + len(raw)):
                return _MAYBE, flag, _WHY_LIST
            return _NAME, flag, _WHY_LIST if not word else _WHY_CONTEXT
        cue = _cued(text, start, len(raw), strong_cues, cue_starts) if cue_counts else 0
        named = cue == 2 or (cue == 1 and person_like)
        if _sentence_initial(text, start):
            if named:
                return _NAME, 0, _WHY_CONTEXT
            if person_like:
                # "Storm kom for sent": a name-word as the subject of a verb people do
                if _subject_of_verb(text, start + len(raw)):
                    return _NAME, 0, _WHY_CONTEXT
                return _WEAK, 0, _WHY_CONTEXT
            if low in _TITLES or low in _CUES_BEFORE:  # "Drengen Bo", "Familien Skov"
                return _NO, 0, 0
            return _LEAD, 0, _WHY_CONTEXT
        if named or _titled(text, start):
            return _NAME, 0, _WHY_CONTEXT
        prev, _dot = _prev_word(text, start)
        if prev and prev[0].isupper() and self._place_like(prev):
            return _EXT, 0, _WHY_CONTEXT  # "Møns Klint", "Stege Bugt": part of a place
        if person_like:  # a capital in mid-sentence, and the word list writes it as a name
            return _NAME, 0, _WHY_LIST
        if len(low) > 4 and fold(low).endswith(_SURNAME_SUFFIXES):
            return _NAME, 0, _WHY_LIST
        # Danish capitalises no common noun in mid-sentence: a plain word written so is a name
        # ("med Ulv og Frost"); a compound ("Ungdomsklubben") is an institution's name.
        # Names that are words are short ("Ulv", "Frost", "Lilje"); longer capitalised words are
        # the names of places and institutions ("Rådhuset", "Banegården"), and relation words
        # ("Mor") are titles.
        if len(low) <= 6 and low not in _TITLES and low not in _CUES_BEFORE and (
                self._vocab.is_simple(low) or (len(low) > 3 and self._vocab.is_simple(low[:-1]))):
            return _NAME, 0, _WHY_CONTEXT
        return _EXT, 0, _WHY_CONTEXT

    def _place_like(self, word: str) -> bool:
        low = word.lower()
        vocab = self._vocab
        return (vocab.is_place(low) or vocab.is_place(low.rstrip("s")) or vocab.is_allowed(low)
                or low in _NOT_NAMES)

    def find(self, text: str, known_names: Sequence[str] = ()) -> list[NameSpan]:
        known = self._known(text, known_names) if known_names else {}
        items = self._candidates(text, known)
        if not items:
            return []
        items.sort()
        starts = [item[0] for item in items]
        raw_ends = [item[1] for item in items]
        # What stands between token i and token i+1, computed once: one name chain (a space, a
        # hyphen, "O'"), or one list of people ("X, Y og Z").
        gaps = list(map(text.__getitem__, map(slice, raw_ends, starts[1:])))
        adj = list(map(_NAME_GAPS.__contains__, gaps))
        if "'" in gaps or "’" in gaps:  # "O'Brien": an apostrophe after one or two letters
            for i, gap in enumerate(gaps):
                if (gap == "'" or gap == "’") and raw_ends[i] - starts[i] <= 2:
                    adj[i] = True
        lst = list(map(_LIST_GAPS.__contains__, gaps))
        states = [item[4] for item in items]
        self._settle_chains(text, items, states, adj, lst)
        _settle_lists(items, states, adj, lst)
        return _spans(text, items, states, adj, len(known_names))

    def _candidates(self, text: str, known: dict[int, _Known]) -> list[_Item]:
        """Every token that may be part of a name, with its state from the token and its
        context; the occurrences of the known names first."""
        items: list[_Item] = [
            (start, end, scrub, key, state, idx, 0, _WHY_KNOWN)
            for start, (end, scrub, key, state, idx) in known.items()]
        # Every token with its start, once: a split with the token as its group gives gap,
        # token, gap, …, and the starts are the running sums of their lengths (all in C, no
        # match object per token).
        splitter = _ANY_TOKEN_SPLIT if NOT_LATIN_BLOCKS.search(text) else _ANY_TOKEN_LATIN_SPLIT
        pieces: list[str] = splitter.split(text)
        token_list = pieces[1::2]
        tokens = set(token_list)
        # Most tokens are plain words: a cached test per distinct token leaves the Python loop
        # below only the few that could be part of a name.
        for token in tokens - self._judged:
            self._skippable(token)
        wanted = tokens & self._kept
        near_cues, cue_starts = _near_cues(text)
        strong_cues = bool(near_cues)
        # A plain lower-case word is a name only right after a strong cue ("kaldet bamse",
        # "hej frost") or as a chat line's speaker ("ørn: …"): those few words are wanted too.
        wanted |= {t for t in near_cues if t.islower()}
        if not wanted and not known:
            return []
        # token k is piece 2k + 1: it starts where piece 2k ends (zip and compress in C, and zip
        # reuses its tuple for the tokens compress drops)
        token_starts = list(accumulate(map(len, pieces)))[0:-1:2]
        infos = self._infos
        for start, token in compress(zip(token_starts, token_list, strict=True),
                                     map(wanted.__contains__, token_list)):
            if start in known:
                continue
            info = infos.get(token)
            if info is None:
                info = self._token_info(token)
            raw, trim, low, facts, particle, plain, fixed = info
            if not raw:
                continue
            end = start + len(token)
            if facts is None:
                if particle:
                    items.append((start, end, end - trim, low, _PARTICLE, (), 0, _WHY_CONTEXT))
                continue
            if plain and not strong_cues:
                continue  # a plain lower-case word, and no "kaldet"/"hedder" in the text
            if start and (text[start - 1].isdigit() or (
                    text[start - 1] in _AFTER_DIGIT and start > 1 and text[start - 2].isdigit())):
                continue  # "8.b", "3B", "22kr": a class or a unit, not a person
            if fixed is not None:
                state, flag, why = fixed
            else:
                state, flag, why = self._in_context(
                    text, start, raw, facts, strong_cues, cue_starts)
            if state != _NAME and particle:
                state, why = _PARTICLE, _WHY_CONTEXT
            if state != _NO:
                items.append((start, end, end - trim, low, state, (), flag, why))
        # A word written as a name somewhere in the text is that name in lower case too (the
        # quoted chat's "frost" after the report's "Frost").
        named_low = {it[3] for it in items if it[4] == _NAME and not it[5] and len(it[3]) > 2}
        if named_low:
            echoes = {t for t in tokens & named_low if t.islower()}
            if echoes:
                taken = {it[0] for it in items}
                for start, token in compress(zip(token_starts, token_list, strict=True),
                                             map(echoes.__contains__, token_list)):
                    if start not in taken:
                        end = start + len(token)
                        items.append((start, end, end, token, _NAME, (), 0, _WHY_CONTEXT))
        return items

    def _settle_chains(self, text: str, items: list[_Item], states: list[int],
                       adj: list[bool], lst: list[bool]) -> None:
        """Settle particles and doubtful tokens from their neighbours in a name chain."""
        n = len(items)
        is_place = self._vocab.is_place
        # Particles ("van der", "al", "Ó") belong to the name that follows them; a capitalised
        # word after a particle is a surname ("de Boer"); a particle between two names joins
        # them, in any case ("jan de vries").
        # (Each pass below first asks, in C, whether a state it acts on occurs at all.)
        for i in range(n - 2, -1, -1) if _PARTICLE in states else ():
            if states[i] != _PARTICLE or not adj[i]:
                continue
            after = states[i + 1]
            capital = text[items[i + 1][0]].isupper()
            if after == _NAME and (capital or items[i + 1][4] == _PARTICLE or (
                    i > 0 and states[i - 1] == _NAME and adj[i - 1])):
                states[i] = _NAME
            elif capital and after in (_MAYBE, _EXT, _WEAK, _LEAD) and (
                    (i > 0 and states[i - 1] in (_NAME, _MAYBE, _EXT, _LEAD) and adj[i - 1])
                    or text[items[i][0]].isupper()):
                states[i] = states[i + 1] = _NAME
        # Two capitalised words in a row that are no place or institution: in Danish only a
        # proper noun is capitalised in mid-sentence, so the pair is a name ("Bram Mulder").
        for i in range(n - 1) if _EXT in states else ():
            if states[i] in (_LEAD, _EXT) and states[i + 1] == _EXT and adj[i] \
                    and text[items[i][1]] == " " and not is_place(items[i][3]) \
                    and not is_place(items[i + 1][3]):
                states[i] = states[i + 1] = _NAME
        # Settle doubtful tokens from their neighbours.
        for i in range(n - 1):
            if states[i] == _NAME and states[i + 1] in (_MAYBE, _EXT, _WEAK) and adj[i]:
                states[i + 1] = _NAME
        for i in range(n - 2, -1, -1):
            if states[i + 1] != _NAME:
                continue
            if (states[i] == _MAYBE and (adj[i] or lst[i])) or (
                    states[i] in (_LEAD, _EXT, _WEAK) and adj[i]
                    and text[items[i + 1][0]].isupper() == text[items[i][0]].isupper()
                    and not is_place(items[i][3])):
                states[i] = _NAME  # "Karma Yangchen", "slog Lobsang Gyatso", "tran thi mai"


def _near_cues(text: str) -> tuple[set[str], tuple[int, ...] | None]:
    """The words near a strong cue ("kaldet", "hej", "aka") and a chat line's speaker, and
    where the cue keywords start (None if lower-casing moved offsets)."""
    near_cues: set[str] = set()
    low_text = text.lower()
    cue_starts: tuple[int, ...] | None = None
    if len(low_text) == len(text):
        cue_starts = _CUE_KEYWORDS.starts(low_text)
        for at in cue_starts:
            near_cues.update(_ANY_TOKEN.findall(text, at, at + 60)[:6])
    if ":" in text:
        if "\n" in text:
            near_cues.update(m.group(1) for m in _CHAT_SPEAKER.finditer(text))
        else:  # one line: "^" only at its start (no scan of every position)
            speaker = _CHAT_SPEAKER.match(text)
            if speaker is not None:
                near_cues.add(speaker.group(1))
    return near_cues, cue_starts


def _settle_lists(items: list[_Item], states: list[int], adj: list[bool],
                  lst: list[bool]) -> None:
    """Settle doubtful tokens in lists of names, first + surname pairs, and words that are a
    name elsewhere in the text."""
    n = len(items)
    any_list = True in lst
    for i in range(n - 1) if any_list and _MAYBE in states else ():
        if states[i] == _NAME and states[i + 1] == _MAYBE and lst[i]:
            states[i + 1] = _NAME
    # "Bo Skov" at the start of a sentence: first name + surname
    for i in range(n - 1) if _MAYBE in states else ():
        if (states[i] == _MAYBE and states[i + 1] == _MAYBE and adj[i]
                and items[i][6] & FIRST and items[i + 1][6] & SURNAME):
            states[i] = states[i + 1] = _NAME
            j = i + 1
            while j + 1 < n and states[j + 1] in (_MAYBE, _EXT) and adj[j]:
                states[j + 1] = _NAME
                j += 1
    # One word, one reading: a word that is a name somewhere in the text is a name wherever
    # it stands there ("Storm slog. … sagde Storm" — the first is no weather).
    named = {items[k][3] for k in range(n) if states[k] == _NAME and not items[k][5]}
    if named:
        named |= {key[:-1] for key in named if key.endswith("s")}
        for k in range(n):
            if states[k] in (_MAYBE, _EXT, _WEAK) and (
                    items[k][3] in named or items[k][3].rstrip("s") in named):
                states[k] = _NAME
    weak_list = any_list and _WEAK in states
    # "lærke, storm og ahmed": a doubtful word in a list of names
    for i in range(n - 1) if weak_list else ():
        if states[i] == _NAME and states[i + 1] == _WEAK and lst[i]:
            states[i + 1] = _NAME
    for i in range(n - 2, -1, -1) if weak_list else ():
        if states[i] == _WEAK and states[i + 1] == _NAME and lst[i]:
            states[i] = _NAME


def _spans(text: str, items: list[_Item], states: list[int], adj: list[bool],
           base: int) -> list[NameSpan]:
    """Merge name chains, drop institutions ("Lund Skole"), number the persons (``base``: how
    many known names come first)."""
    n = len(items)
    spans: list[NameSpan] = []
    others: list[set[str]] = []
    i = 0
    while i < n:
        if states[i] != _NAME:
            i += 1
            continue
        j = i
        while j + 1 < n and states[j + 1] == _NAME and adj[j]:
            j += 1
        chain = range(i, j + 1)
        votes: dict[int, int] = {}
        for k in chain:
            for who in items[k][5]:
                votes[who] = votes.get(who, 0) + 1
        # (the next word's first letter, if a space or hyphen comes first, must be a capital)
        last_end = items[j][1]
        if not votes and text[last_end + 1:last_end + 2].isupper():
            nxt = _NEXT_WORD.match(text, last_end)
            # Only a capitalised institution word makes a place ("Lund Skole"); a name
            # before a lower-case word ("Jensen hf") must still go: recall first.
            if nxt is not None and nxt.group(1)[:1].isupper() \
                    and nxt.group(1).lower() in _INSTITUTIONS:
                i = j + 1
                continue
        if votes:
            person = min(votes, key=lambda who: (-votes[who], who)) + 1
        else:
            parts = {items[k][3] for k in chain if states[k] != _PARTICLE}
            for number, seen in enumerate(others):
                if parts <= seen or seen <= parts:  # "Jonas" after "Jonas Hansen"
                    seen |= parts
                    person = base + number + 1
                    break
            else:
                others.append(parts)
                person = base + len(others)
        why = items[i][7] if i == j else min(item[7] for item in items[i:j + 1])
        spans.append(NameSpan(items[i][0], items[j][2], person, *_WHY[why]))
        i = j + 1
    return spans
