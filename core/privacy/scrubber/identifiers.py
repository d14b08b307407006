"""Recognizers for the structured identifiers beyond CPR/phone/e-mail (issue 12, item 2):
dates of birth, agency case and journal numbers, bank accounts and payment cards, IP
addresses, links, and other numbers after their label (UNI-Login, passport, driving licence,
IMEI, MAC address) or long enough to identify someone on their own.

Same registry style as :mod:`.patterns`: a ``kind``, a ``detector`` id, a ``reason`` (never the
value) and ``find(text)`` yielding ``(start, end)``. Every regular expression is compiled once;
each recognizer has a cheap gate (a digit, a ``:``, a ``/``) before its patterns run.
Hand-written rather than a library: python-stdnum validates (Luhn, IBAN) but does not *find*
identifiers in running Danish text, and presidio's recognizers are English-centred and would
bring spaCy.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterator, Sequence

from stdnum import iban as stdnum_iban
from stdnum import luhn

from core.privacy.scrubber.patterns import (
    NOT_TOWN,
    Keywords,
    address_gate,
    address_starts,
    char_positions,
    digit_runs,
    digit_starts,
    labelled,
    lowered,
    matches_at,
)
from core.privacy.scrubber.vocabulary import Vocabulary

# ---- dates of birth ----------------------------------------------------------------------
_MONTHS = (
    "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december"
    "|january|february|march|may|june|july|october"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec"
)
_MONTH_NUMBER = {
    name: number
    for number, names in enumerate(
        (("januar", "january", "jan"), ("februar", "february", "feb"),
         ("marts", "march", "mar"), ("april", "apr"), ("maj", "may"), ("juni", "june", "jun"),
         ("juli", "july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("oktober", "october", "okt", "oct"), ("november", "nov"), ("december", "dec")),
        start=1)
    for name in names
}
# A date in any way people write one: 15.06.2011, 15/6-11, 15-06-11, 2011-06-15, 15. juni 2011,
# 15 jun. 2011, 15.6. (the year optional only in the written-out and cued forms).
_DATE = (
    r"(?:(?P<d>[0-3]?\d)\s?[./-]\s?(?P<m>[01]?\d)(?:\s?[./-]\s?|\.?\s)"
    r"(?P<y>(?:19|20)?\d\d)(?![\d]|[.:]\d)"
    r"|(?P<iy>(?:19|20)\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)(?!\d)"
    rf"|(?P<td>[0-3]?\d)\.?\s(?P<tm>{_MONTHS})\.?(?:\s(?P<ty>(?:19|20)\d\d))?(?![^\W\d_])"
    r"|(?P<sd>[0-3]?\d)[./](?P<sm>[01]?\d)\.?(?!\d))"
)
_DATE_RE = re.compile(
    rf"(?<!\d)(?<!\d[.,/:-])(?<!kl\.\s)(?<!kl\s)(?<!kl\.){_DATE}", re.IGNORECASE
)
# Cue words: right before a date ("født 15.06.2011", "f. 15/6-11", "fødselsdato: 2011-06-15",
# "født d. 15. juni 2011", "DOB 15-06-2011") ...
_CUE_BEFORE = re.compile(
    r"(?:\bfødt|\bf\.|\bfødselsdag|\bfødselsdato|\bfødselsår|\bfødsels-?dag|\bf\.dato"
    r"|\bfdato|\bfød\.?\s?dato|\bdob|\bd\.o\.b\.?|\bborn|\bbirthday|\bdate of birth)"
    r"(?:\s*(?:den|d\.|:|-|,|er|var|i|the))*\s*\(?\s*$",
    re.IGNORECASE,
)
# ... or right after it: "15.06.11 (fødselsdag)", "15/6-2011 (f.)", "2011-06-15, født".
_CUE_AFTER = re.compile(
    r"\s*[(,]?\s*(?:fødselsdag|fødselsdato|født|f\.|dob|birthday|bday)\b", re.IGNORECASE
)
# A year of birth: "født 2011", "f. 2011", "årgang 2011", "fødselsår: 2011", "(f. 2011)".
_BIRTH_YEAR = re.compile(
    r"(?:\b(?:født|f\.|årgang|fødselsår|fødselsdato|fødselsdag|årg\.|dob|d\.o\.b|born"
    r"|birth|fdato|f\.dato)|\bf(?=\d))[\s.:,-]*(?:(?:i|år|den|d\.|in|the|er|var)\s+)*"
    # a year, or a date written without separators: 15062011, 150611, 20110615
    r"(?P<v>(?:19|20)\d\d(?:[01]\d[0-3]\d)?|[0-3]\d[01]\d(?:19|20)?\d\d)(?!\d)",
    re.IGNORECASE,
)

_DOB_CUE_WORDS = Keywords(("fød", "f.", "fdato", "dob", "d.o.b", "born", "birth", "bday"))

# "2011-årgang", "2011 årgangen"; "Mikkel (2011)"; 150611 or 15062011 with no separators.
_BIRTH_CUES = Keywords((
    "født", "f.", "f0", "f1", "f2", "f3", "årgang", "fødsels", "årg.", "dob", "d.o.b", "born",
    "birth", "fdato", "f.dato",
))
_YEAR_CUED_AFTER = re.compile(r"(?<!\d)(?P<v>(?:19|20)\d\d)\s?-?\s?(?:årgang|årg\.)", re.IGNORECASE)
_YEAR_IN_BRACKETS = re.compile(r"[(\[]\s?(?:f\.?\s?)?(?P<v>(?:19|20)\d\d)\s?[)\]]")
_COMPACT_DATE = re.compile(r"(?<![\d.,/-])(?:\d{6}|\d{8})(?![\d]|[.,]\d|\s?(?:kr|dkk|,-))")


def _compact_birth_date(digits: str, today: dt.date) -> bool:
    """``ddmmyy`` or ``ddmmyyyy`` that is a real date eight or more years back."""
    try:
        if len(digits) == 6:
            year = int(digits[4:])
            year += 2000 if year <= today.year % 100 else 1900
        else:
            year = int(digits[4:])
            if not 1900 <= year <= today.year:
                return False
        dt.date(year, int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return False
    return _birth_age(year, today) >= 8


def _birth_age(year: int, today: dt.date) -> int:
    return today.year - year


class DateOfBirthRecognizer:
    """A date of birth, in every format, told from the dates that are content (the event's day,
    "mødet 12-03-2026", "i weekenden den 3. marts") by a cue word before or after it (født,
    f., fødselsdag, fødselsdato, DOB …) or by a year eight or more years back (events in a
    report are recent; the birthdays of the children and parents in it are not). Also a year
    of birth, or a date without separators, after "født"/"f."/"årgang"/"DOB"."""

    kind = "dob"
    detector = "dob"
    reason = ("a date next to a birth cue (født, f., fødselsdag, DOB), or a date eight or more "
              "years back")

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not digit_runs(text):  # no digit (the runs are cached per text: no scan)
            return
        today = dt.date.today()
        low = lowered(text)
        # Every alternative of _CUE_BEFORE and _CUE_AFTER holds one of _DOB_CUE_WORDS: without
        # one in the text no date is cued, and the two patterns are not tried per date.
        cue_words = low is None or bool(_DOB_CUE_WORDS.starts(low))
        # a date begins with a day of one or two digits, or an ISO year of four
        for m in matches_at(_DATE_RE, text, digit_starts(text, (1, 2, 4))):
            start, end = m.span()
            year = _year(m)
            if year is None and m.group("td") is None and m.group("d") is None \
                    and m.group("sd") is None:
                continue
            if not _valid(m):
                continue
            cued = cue_words and (
                _CUE_BEFORE.search(text[max(0, start - 40):start]) is not None
                or _CUE_AFTER.match(text, end) is not None)
            if not cued:
                if year is None:
                    continue
                # Reports are about recent events: a full date eight or more years back is a
                # date of birth (a child's, a parent's), fail safe; a nearer one is content.
                if _birth_age(year, today) < 8:
                    continue
            yield start, end
        for m in labelled(_BIRTH_YEAR, _BIRTH_CUES, text, low):
            yield m.span("v")
        if "årg" in text or "ÅRG" in text or "Årg" in text:
            for m in matches_at(_YEAR_CUED_AFTER, text, digit_starts(text, (4,))):
                yield m.span("v")
        if "(" in text or "[" in text:
            for m in matches_at(_YEAR_IN_BRACKETS, text, sorted(char_positions(text, "(["))):
                if _birth_age(int(m.group("v")), today) >= 8:
                    yield m.span("v")
        for m in matches_at(_COMPACT_DATE, text, digit_starts(text, (6, 8))):
            if _compact_birth_date(m.group(), today):
                yield m.span()


def _year(m: re.Match[str]) -> int | None:
    text = m.group("y") or m.group("iy") or m.group("ty")
    if text is None:
        return None
    year = int(text)
    if year < 100:
        year += 2000 if year <= dt.date.today().year % 100 else 1900
    return year


def _valid(m: re.Match[str]) -> bool:
    """Day and month make a calendar date (so "3.14" and "12.500" are not dates)."""
    try:
        if m.group("d") is not None:
            day, month = int(m.group("d")), int(m.group("m"))
        elif m.group("id") is not None:
            day, month = int(m.group("id")), int(m.group("im"))
        elif m.group("td") is not None:
            day, month = int(m.group("td")), _MONTH_NUMBER[m.group("tm").lower()]
        else:
            day, month = int(m.group("sd")), int(m.group("sm"))
            return 1 <= day <= 31 and 1 <= month <= 12
        dt.date(_year(m) or 2000, month, day)
    except (ValueError, KeyError):
        return False
    return True


# ---- case and journal numbers ------------------------------------------------------------
_CASE = re.compile(
    r"(?<![\d])(?:"
    # KLE journal numbers: 27.24.00-A00-1-26, 00.01.00-P20-3-26, 27.24.00-G01 (facet optional
    # parts), also with "Ø"/"K" facets and spaces around the dashes.
    r"\d{1,2}\.\d{1,2}\.\d{1,2}\s?-\s?[A-ZÆØÅ]\d{1,3}(?:\s?-\s?\d{1,6}){0,2}"
    # police journal numbers: 0300-80171-00044-26 (kreds-type-serial-year), also spaced
    r"|\d{4}[- ]\d{5}[- ]\d{5}[- ]\d{2}"
    # case-system ids: SAG-2026-004471, BFE-26-1234, SBSYS-2026-12 (two letters and 2+3 digits
    # are a licence plate: "AB-12-345")
    r"|[A-ZÆØÅ]{3,6}-\d{2,4}-\d{2,8}"
    r")(?![\w])"
)
_CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ")


def _case_starts(text: str) -> Sequence[int]:
    """Digit runs, and upper-case ids such as "SAG-2026-…": where a _CASE match can begin."""
    starts: Sequence[int] = digit_starts(text, (1, 2, 4))  # "27.24.00-…" or "0300-80171-…"
    if "-" in text:
        # "SAG-2026-…": three to six capitals before a "-" and a digit; found from each "-"
        # (str.find) instead of a regex scan of the whole text
        ids = []
        for at in char_positions(text, "-"):
            if at >= 3 and text[at + 1:at + 2].isdigit() \
                    and all(ch in _CAPITALS for ch in text[at - 3:at]):
                begin = at - 3  # the leftmost start of three to six capitals, as finditer
                while begin > max(0, at - 6) and text[begin - 1] in _CAPITALS:
                    begin -= 1
                ids.append(begin)
        if ids:
            starts = sorted({*starts, *ids})
    return starts


_CASE_KEYWORDS = Keywords((
    "sag", "j.", "j ", "jnr", "journal", "jr", "ref", "anmeldelse", "rapport", "døgnrapport",
    "akt", "bfe", "kle", "p-nr", "pnr", "ticket", "henvendelse",
))
_CASE_LABEL = re.compile(
    r"\b(?:sags?\.?\s?nr|sags?nummer|sag|j\.?\s?nr|journal\s?(?:nr|nummer)|journalnummer"
    r"|jr\.?\s?nr|ref(?:erence)?(?:\s?nr)?|anmeldelses?\s?(?:nr|nummer)|rapport\s?(?:nr|nummer)"
    r"|døgnrapport|akt\s?(?:nr|id)|bfe|kle|p-?nr|ticket|henvendelse(?:s?nr)?)\.?"
    r"\s*(?:nr\.?|nummer)?\s*[:#]?\s*"
    r"(?P<v>(?=[\w./-]*\d)[A-ZÆØÅa-zæøå0-9][\w./-]*[\w])",
    re.IGNORECASE,
)


class CaseNumberRecognizer:
    """Agency case and journal numbers: KLE-style (``27.24.00-A00-1-26``), police
    (``0300-80171-00044-26``), case systems (``SAG-2026-004471``), and anything with a digit
    after a case label (``Sagsnr. 2026-04471``, ``J.nr. 4700-…``, ``sag 26/12345``)."""

    kind = "case_number"
    detector = "case-number"
    reason = "an agency case or journal number (by its format or its label)"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not digit_runs(text):  # no digit (the runs are cached per text: no scan)
            return
        for m in matches_at(_CASE, text, _case_starts(text)):
            yield m.span()
        for m in labelled(_CASE_LABEL, _CASE_KEYWORDS, text, lowered(text)):
            value = m.group("v")
            if m.group(0)[:3].lower() == "sag" and sum(c.isdigit() for c in value) < 4:
                continue  # "sag 2": too short for a case number
            yield m.span("v")


# ---- bank accounts and cards -------------------------------------------------------------
_ACCOUNT = re.compile(
    # reg.nr. + kontonr.: "reg.nr. 1234 kontonr. 1234567890", "1234-1234567890", "1234 12345678",
    # "1234 / 1234567890", "1234, konto 1234567890" (the words between go too)
    r"(?<![\d.,+-])(?!00\s?45)\d{4}(?:\s?[-/]\s?|\s|,?\s*(?:konto|kto)\.?\s?(?:nr|nummer)?\.?:?\s*)"
    r"\d{6,10}(?![\d]|[.,]\d)"
    # IBAN, any country, in groups of four: "DK50 0040 0440 1162 43"
    r"|(?<![\w])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?(?![\w])",
    re.IGNORECASE,
)
_ACCOUNT_KEYWORDS = Keywords((
    "reg", "konto", "iban", "kort", "dankort", "visa", "mastercard", "mobilepay",
))
_ACCOUNT_LABEL = re.compile(
    r"\b(?:reg\.?\s?(?:nr|nummer)|registreringsnummer|konto\s?(?:nr|nummer)?|kontonummer"
    r"|iban|kortnummer|kort\s?nr|dankort|visa|mastercard|mobilepay\s?box)\.?\s*[:#]?\s*"
    r"(?P<v>\d[\d -]{2,30}\d)",
    re.IGNORECASE,
)
# 16–19 digits, in groups or not: a payment card when Luhn agrees (else an "id" below; a
# 15-digit IMEI is Luhn-valid too, and stays an "id")
_CARD = re.compile(r"(?<![\d.,-])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d]|[.,]\d)")


class AccountRecognizer:
    """Bank accounts (reg.nr. + konto, ``1234-1234567890``), IBAN, payment cards (Luhn)."""

    kind = "account"
    detector = "account"
    reason = "a bank account, IBAN or payment card number"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not digit_runs(text):  # no digit (the runs are cached per text: no scan)
            return
        low = lowered(text)
        iban = [at - 2 for at, _size in digit_runs(text) if at >= 2 and text[at - 2:at].isalpha()]
        reg = digit_starts(text, (4,))  # reg.nr. before the account: four digits
        for m in matches_at(_ACCOUNT, text, sorted({*reg, *iban}) if iban else reg):
            value = m.group()
            if value[:1].isalpha() and not stdnum_iban.is_valid(value):
                # an IBAN-shaped code that fails its check: still an account after a label
                continue
            yield m.span()
        for m in labelled(_ACCOUNT_LABEL, _ACCOUNT_KEYWORDS, text, low):
            yield m.span("v")
        for m in matches_at(_CARD, text, [at for at, size in digit_runs(text)
                                          if size == 4 or size >= 16]):
            digits = re.sub(r"\D", "", m.group())
            if 16 <= len(digits) <= 19 and luhn.is_valid(digits):
                yield m.span()


# ---- IP, MAC, links ----------------------------------------------------------------------
def _ipv4_gate(text: str) -> bool:
    r"""``\d\.\d{1,3}\.\d`` occurs: a run of one to three digits with a "." and a digit on
    either side (read from the cached digit runs, no scan of the text)."""
    runs = digit_runs(text)
    for k in range(1, len(runs) - 1):
        at, size = runs[k]
        if size <= 3 and runs[k - 1][0] + runs[k - 1][1] == at - 1 \
                and runs[k + 1][0] == at + size + 1 and text[at - 1] == "." \
                and text[at + size] == ".":
            return True
    return False
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_MAC = re.compile(r"(?<![\w:-])[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}"
                  r"(?![\w:-])")


class IpRecognizer:
    """IPv4 and IPv6 addresses (validated by :mod:`ipaddress`)."""

    kind = "ip"
    detector = "ip"
    reason = "an IP address (IPv4 or IPv6)"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if _ipv4_gate(text):
            for m in matches_at(_IPV4, text, digit_starts(text)):
                try:
                    ipaddress.IPv4Address(m.group())
                except ValueError:
                    continue
                yield m.span()
        if "::" in text or text.count(":") >= 3:
            for m in _IPV6.finditer(text):
                if m.group().count(":") < 2 or not any(c.isdigit() for c in m.group()):
                    continue
                try:
                    ipaddress.IPv6Address(m.group())
                except ValueError:
                    continue
                yield m.span()


_TLDS = (
    "dk|com|net|org|io|me|tv|gg|app|se|no|de|eu|info|ly|co|uk|nu|fm|be|link|xyz|online|site"
)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]]+"
    # a bare domain with a path: "instagram.com/x", "tiktok.com/@x", "m.facebook.com/profile.php"
    rf"|(?<![\w@.-])(?:[\w-]+\.)+(?:{_TLDS}|[a-z]{{2,6}}(?=/[\w@~]))/[^\s<>\"'()\[\]]*",
    re.IGNORECASE,
)
_URL_TAIL = ".,;:!?"
# A domain ending right before a "/" ("instagram.com/", "x.dk/"): a bare link can only be there.
_TLD_BEFORE_SLASH = re.compile(r"[\w-]\.[a-z]{2,6}$", re.IGNORECASE)


class UrlRecognizer:
    """Links: ``https://…``, ``www.…``, and a bare domain with a path (profile links)."""

    kind = "url"
    detector = "url"
    reason = "a link (URL), often to a person's profile"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        low = lowered(text) or text.lower()
        if "www." not in low and "://" not in text and not any(
                _TLD_BEFORE_SLASH.search(text, max(0, at - 8), at) is not None
                for at in char_positions(text, "/")):
            return  # no scheme, no "www.", and no "/" right after a domain ending ("17/2")
        for m in _URL.finditer(text):
            start, end = m.span()
            while end > start and text[end - 1] in _URL_TAIL:
                end -= 1
            yield start, end


# ---- other identifiers after their label, and long numbers -------------------------------
_ID_KEYWORDS = Keywords((
    "uni", "pas", "kørekort", "sygesikring", "sundhedskort", "imei", "mac", "serie", "elev",
    "medarbejder", "kunde", "medlems", "bruger", "user", "login", "opholds", "id", "cvr", "se",
    "p-nr", "pnr", "nem", "mit", "telefon-id", "telefonid", "device", "skolekort", "rejsekort",
))
_ID_LABEL = re.compile(
    r"\b(?:uni-?\s?login(?:\s?(?:navn|id|brugernavn))?|unilogin|uni-c|"
    r"pas(?:\s?nr|nummer|port(?:\s?nr|nummer)?)|kørekort(?:s?\s?nr|s?nummer)?|"
    r"sygesikrings?(?:kort|bevis)?(?:\s?nr|nummer)?|sundhedskort(?:\s?nr|et)?|"
    r"imei(?:-?nummer|-?nr)?|mac(?:-?adresse)?|serienummer|serie\s?nr|"
    r"elev\s?(?:nr|nummer|id)|medarbejder\s?(?:nr|nummer|id)|kunde\s?(?:nr|nummer)|"
    r"medlems\s?(?:nr|nummer)|bruger-?\s?id|user\s?id|login|opholdskort(?:\s?nr)?|"
    r"opholdstilladelse(?:s?nr)?|id-?kort(?:\s?nr)?|cvr(?:-?nr)?|se-?nr|p-?nr|"
    r"nem-?id|mit-?id|telefon-?id|device-?id|skolekort(?:\s?nr)?|rejsekort(?:\s?nr)?)\.?"
    r"\s*(?:er|nr\.?|:|#|=)?\s*[:=]?\s*"
    r"(?P<v>(?=[\w.:-]*\d)[\w][\w.:-]{2,40}[\w]|[a-zæøå]{4}\d{3,4}\w*)",
    re.IGNORECASE,
)
# Nine or more digits in a row: no ordinary count or price is written so, and CPR (10), IMEI
# (15), accounts and cards are all such runs.
_LONG_NUMBER = re.compile(
    r"(?<![\d+])(?!0045)\d{9,}(?!\d)"
    # or twelve and more in groups of four: a card number that fails Luhn is still a number
    r"|(?<![\d.,-])\d{4}(?:[ -]\d{4}){2,}(?![\d]|[.,]\d)"
)


class IdRecognizer:
    """UNI-Login, passport, driving licence, health card, IMEI, MAC and similar numbers after
    their label; MAC addresses anywhere; any run of nine or more digits."""

    kind = "id"
    detector = "id-number"
    reason = "an identifying number after its label (UNI-Login, pas, kørekort, IMEI, MAC …), " \
             "a MAC address, or a long digit run"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if not digit_runs(text):  # no digit (the runs are cached per text: no scan)
            return
        for m in labelled(_ID_LABEL, _ID_KEYWORDS, text, lowered(text)):
            yield m.span("v")
        if text.count(":") >= 5 or text.count("-") >= 5:  # a MAC address has five
            for m in _MAC.finditer(text):
                yield m.span()
        for m in matches_at(_LONG_NUMBER, text, [at for at, size in digit_runs(text)
                                                 if size >= 9 or size == 4]):
            yield m.span()


# ---- street + house number, whatever the street is called --------------------------------
_HOUSE_GATE = re.compile(r"[A-ZÆØÅ][^\W\d_]+ \d{1,3}(?!\d)")
_HOUSE = re.compile(
    r"(?<![\w])(?<![\d.]\.)(?P<street>(?:[A-ZÆØÅ][^\W\d_'’.-]*\.?\s){0,2}[A-ZÆØÅ][^\W\d_]+(?:-[^\W\d_]+)?)"
    r"\s(?P<no>\d{1,3}(?!\d)(?:(?:[A-Za-z]|\s[A-Z])(?![\w]))?)"
    r"(?P<tail>(?:,?\s*(?:\d{1,2}\.?\s?(?:sal|etage|th|tv|mf)?\.?|st\.?|stuen|kl\.?|kld\.?|th\.?"
    r"|tv\.?|mf\.?|t\.[hv]\.?|\d{1,2}\.?\s?(?:etage|sal)|kælder(?:en)?|stuen"
    r"|(?:lejl|lejlighed|vær|værelse|dør|nr|bygn|opg|opgang|lok)\.?"
    r"\s?\d{1,4}[a-zA-Z]?)(?![\w]))*"
    # postcode and town, the town in any case and of up to two words ("4780 Stege",
    # "4840 Nørre Alslev", "2300 København S", "4720 præstø")
    rf"(?:,?\s*(?:DK-?)?\d{{4}}(?:\s+{NOT_TOWN}[^\W\d_]+(?:-[^\W\d_]+)?(?:\s[A-ZÆØÅ][^\W\d_]+)?"
    r"(?:\s(?:[NSVKCØ]|NV|NØ|SV|SØ)(?![\w]))?)?)?)"
)
_NOT_HOUSE_AFTER = re.compile(
    # a date: "17/2", "28. januar" (a month, written out or short, as a whole word)
    rf"[.,:/]\d|\d|\.?\s?(?:{_MONTHS})(?![^\W\d_])"
    r"|\s?(?:%|kr\b|år\b|årig|timer|time\b|gange|minutter|min\b|km\b|kg\b|g\b|stk"
    r"|elever|dage|dag\b|uger|måneder|personer|unge|drenge|piger|point|mål|-\s?\d)",
    re.IGNORECASE,
)
# Words before a number that make it no house number.
_NOT_STREETS = frozenset((
    "uge", "klasse", "kapitel", "side", "nr", "bus", "linje", "rute", "lokale", "sal", "etage",
    "trin", "niveau", "runde", "kamp", "version", "model", "årgang", "fase", "bilag", "punkt",
    "paragraf", "afsnit", "gruppe", "hold", "værelse", "afdeling", "bygning", "rema",
    "fifa", "iphone", "playstation", "ps", "galaxy", "windows", "covid", "top",
))


class HouseNumberRecognizer:
    """A street that no suffix list knows ("Ulvshale 12", "Skovly 9, st.", "Bakkebo 4 1 th
    4780 Stege"): one to three capitalised words, a house number, and a floor, side or
    postcode after it, or a last word that is no ordinary Danish word (the vocabulary)."""

    kind = "address"
    detector = "address-house-number"
    reason = "a place name with a house number (and floor, side or postcode)"

    def __init__(self) -> None:
        self._vocabulary: Vocabulary | None = None

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        # A _HOUSE_GATE match is an _ADDRESS_GATE match too: searched from the first of those.
        at = address_gate(text)
        if at < 0 or _HOUSE_GATE.search(text, at) is None:
            return
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.shared()
        vocab = self._vocabulary
        for m in matches_at(_HOUSE, text, address_starts(text)):
            words = m.group("street").split()
            start = m.start()
            acronyms = [k for k, word in enumerate(words) if len(word) > 1 and word.isupper()]
            if acronyms:
                if acronyms[-1] == len(words) - 1:
                    continue  # "CPR 15 06 11 …", "SSP 2": an acronym, not a street
                # "OBS Skovly 9A, st. 3", "SSP Skovly 9A": the street begins after the acronym
                # (the match has consumed the later starts, so cut it here, not drop it)
                for word in words[:acronyms[-1] + 1]:
                    start = text.index(word, start) + len(word)
                words = words[acronyms[-1] + 1:]
                start = text.index(words[0], start)
            while len(words) > 1 and words[0].lower() in _LEADING:
                start = text.index(words[1], start + len(words[0]))
                words = words[1:]
            last = words[-1].lower()
            if last in _NOT_STREETS:
                continue
            if not m.group("tail").strip():
                if _NOT_HOUSE_AFTER.match(text, m.end()) is not None:
                    continue
                # Without floor, side or postcode: a house letter ("9A"), two capitalised words
                # ("Gammel Skovly 9") or a street no vocabulary knows make it an address.
                # A word after a place preposition in mid-sentence is capitalised only as a
                # name ("flyttet fra Algade 5 til Holmen 139"): a street too.
                if vocab.is_word(last) and not vocab.is_place(last) and len(words) < 2 \
                        and m.group("no").isdigit() \
                        and (last in _ROOMS
                             or _PLACE_BEFORE.search(text, max(0, start - 6), start) is None):
                    continue
            yield start, m.end()


# A place preposition in mid-sentence right before a street ("til Holmen 139", "på Skovly 9").
_PLACE_BEFORE = re.compile(r"(?<![^\W\d_])(?:på|til|fra|ved|hos|i) $")
# Rooms, halls and platforms: "i Hal 2", "til Skolen 2", "fra Spor 4" are no street.
_ROOMS = frozenset((
    "hal", "hallen", "skole", "skolen", "bane", "banen", "spor", "sporet", "gate", "stue",
    "stuen", "bord", "bordet", "perron", "terminal", "kantine", "kantinen", "afdeling",
    "afdelingen", "gang", "gangen", "salen", "rum", "rummet", "time", "lektion", "klassen",
))
# Words before a street that are no part of it ("I Skovly 9 bor de"); "Ved", "Over", "Efter"
# begin street names ("Ved Kilden 9", "Over Bækken 2") and stay.
_LEADING = frozenset(("i", "på", "til", "fra", "og", "men", "da", "når", "hvis", "at", "om"))


IDENTIFIER_RECOGNIZERS = (
    DateOfBirthRecognizer(),
    CaseNumberRecognizer(),
    AccountRecognizer(),
    IpRecognizer(),
    UrlRecognizer(),
    IdRecognizer(),
    HouseNumberRecognizer(),
)
