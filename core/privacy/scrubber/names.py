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

The per-text rules above (tokens, the known names, cues, chains, lists, person numbers) are
compiled: ``native/src/names.rs`` in the scrubber's Rust extension (issue 12, speed). This
module keeps the word lists they read and what a token is whatever its context (vocabulary,
gazetteer: :meth:`NameRecognizer._token_info`), which the extension asks once per distinct
token and keeps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

import ssp_scrubber_native

from core.privacy.scrubber.gazetteer import WORD, Gazetteer, fold
from core.privacy.scrubber.vocabulary import Vocabulary


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
_STRONG_CUES_AFTER = _forms("aka alias")
# Where a strong cue can stand (Aho-Corasick over the lower-cased text).
_CUE_KEYWORDS = ((
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
_LABEL_WORDS = _forms("""
mail email tlf telefon mobil adresse note noter obs ps info tid sted dato emne re fra til cc
sms besked svar link kl nr ref sag vedr bemærk husk status kilde navn alder klasse skole
""")
_GREETINGS = _forms("hej hey hejsa hallo halløj kære yo hi hello heej hejj")
_CAPITAL_PARTICLES = frozenset("ÓO")

# What a token is whatever its context (see NameRecognizer._token_info).
_TokenInfo = tuple[str, int, str, "tuple[int, bool, bool, bool] | None", bool, bool,
                   "tuple[int, int, int] | None", bool, bool]

# The word lists the compiled rules read, by the names native/src/lib.rs expects.
_RULE_WORDS: dict[str, frozenset[str]] = {
    "titles": _TITLES, "institutions": _INSTITUTIONS, "abbreviations": _ABBREVIATIONS,
    "cues_before": _CUES_BEFORE, "cues_after": _CUES_AFTER, "strong_cues": _STRONG_CUES,
    "strong_cues_after": _STRONG_CUES_AFTER, "subject_verbs": _SUBJECT_VERBS,
    "label_words": _LABEL_WORDS, "greetings": _GREETINGS,
}


class NameSpan(NamedTuple):  # a tuple: built far faster than a frozen dataclass
    start: int
    end: int
    person: int  # 1-based placeholder number
    detector: str = "name-list"
    reason: str = ""


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
        self._part_cache: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        # The per-text rules are compiled (native/src/names.rs); they ask this object what a
        # token is whatever its context, once per distinct token (the answers are kept there).
        self._native = ssp_scrubber_native.Names(
            _RULE_WORDS, _FLAT_MAP, list(_CUE_KEYWORDS), self._token_info, self._spellings,
            self._place_like, self._vocab.is_place)

    def _lookup(self, low: str) -> int:
        flags = self._flags
        flag = flags.get(low)
        if flag is None:
            if low.isascii() and "aa" not in low:
                return 0
            flag = flags.get(fold(low), 0)
        return flag

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
        """What the compiled rules need of a token whatever its context (asked once per
        distinct token, the answer kept there): the word without a possessive, how many
        closing-quote characters the finding leaves out, its lower case, :meth:`_facts`,
        whether it is a particle, whether it is a plain lower-case word, its state if the
        context does not matter, and for a capitalised word whose context decides: whether it
        has a surname's ending, and whether it is a short plain word (a name when capitalised
        in mid-sentence: "med Ulv og Frost")."""
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
        surname_like = short_word = False
        if facts is not None and fixed is None and raw[0].isupper():
            surname_like = len(low) > 4 and fold(low).endswith(_SURNAME_SUFFIXES)
            # Danish capitalises no common noun in mid-sentence: a plain word written so is a
            # name ("med Ulv og Frost"); a compound ("Ungdomsklubben") is an institution's
            # name. Names that are words are short ("Ulv", "Frost", "Lilje"); longer
            # capitalised words are the names of places and institutions ("Rådhuset"), and
            # relation words ("Mor") are titles.
            short_word = len(low) <= 6 and low not in _TITLES and low not in _CUES_BEFORE and (
                self._vocab.is_simple(low)
                or (len(low) > 3 and self._vocab.is_simple(low[:-1])))
        return raw, trim, low, facts, particle, plain, fixed, surname_like, short_word

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

    def _place_like(self, word: str) -> bool:
        low = word.lower()
        vocab = self._vocab
        return (vocab.is_place(low) or vocab.is_place(low.rstrip("s")) or vocab.is_allowed(low)
                or low in _NOT_NAMES)

    def find(self, text: str, known_names: Sequence[str] = ()) -> list[NameSpan]:
        return [NameSpan(start, end, person, *_WHY[why])
                for start, end, person, why in self._native.find(text, list(known_names))]
