"""The pattern and identifier recognizers, compiled: CPR, e-mail, handle, phone, plate,
address, date of birth, case number, account, IP, link, id number and street + house number.

Their patterns, gates and validations are Rust (``native/``, the ``ssp_scrubber_native``
extension built with maturin): the scrubber is on the hot path, and compiled they cost a
small fraction of what the same regular expressions cost in Python (issue 12, speed). One
call per text (:meth:`ssp_scrubber_native.Recognizers.find_all`) answers all of them; the
objects here are the registry that says what each finding is and why (kind, detector id,
reason: never the value), as the ``ssp-hub scrub`` CLI and the disclosure log explain it.

Two questions stay with Python libraries and are passed in as callables: an IBAN's
per-country format (python-stdnum keeps that registry) and "is this an ordinary Danish
word and no place" (the hunspell vocabulary, loaded on first use).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import iban as stdnum_iban

from core.privacy.scrubber.vocabulary import Vocabulary

try:
    import ssp_scrubber_native
except ImportError as missing:  # a source install without the extension: say how to build it
    raise ImportError(
        "the scrubber's compiled recognizers (ssp-scrubber-native) are not installed: run "
        "`make` (or `pip install ./core/privacy/scrubber/native`; needs Rust's cargo)"
    ) from missing


def _common_word(low: str) -> bool:
    """An ordinary Danish word that is no place ("hal", "skole"): no street before a number."""
    vocabulary = Vocabulary.shared()
    return bool(vocabulary.is_word(low)) and not vocabulary.is_place(low)


def _iban_valid(value: str) -> bool:
    return bool(stdnum_iban.is_valid(value))


NATIVE = ssp_scrubber_native.Recognizers(_iban_valid, _common_word)


def this_year() -> int:
    """Today's year: a date eight or more years back is a date of birth."""
    return dt.date.today().year


@dataclass(frozen=True, slots=True)
class CompiledRecognizer:
    """One of the compiled recognizers: ``index`` is its number in the extension."""

    index: int
    kind: str
    detector: str
    reason: str

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        """This recognizer alone (the scrubber runs all of them in one call instead)."""
        return iter(NATIVE.find(self.index, text, this_year()))


# In the extension's order (recognizers.rs: CPR = 0 … HOUSE = 12).
COMPILED_RECOGNIZERS: tuple[CompiledRecognizer, ...] = (
    CompiledRecognizer(
        0, "cpr", "cpr",
        "ten digits (any separators) whose first six are a valid date: a CPR number"),
    CompiledRecognizer(
        1, "email", "email",
        "an e-mail address, also written with (at), [at], 'snabel-a' or 'dot'"),
    CompiledRecognizer(
        2, "handle", "handle", "a social-media user name: @name, or a name after a platform word"),
    CompiledRecognizer(
        3, "phone", "phone",
        "eight digits in a Danish phone-number grouping, or after +45 or a phone word"),
    CompiledRecognizer(
        4, "plate", "plate", "two letters and five digits: a Danish licence plate"),
    CompiledRecognizer(
        5, "address", "address",
        "a street name with a house number, or a place after 'bor på'/'adresse'"),
    CompiledRecognizer(
        6, "dob", "dob",
        "a date next to a birth cue (født, f., fødselsdag, DOB), or a date eight or more "
        "years back"),
    CompiledRecognizer(
        7, "case_number", "case-number",
        "an agency case or journal number (by its format or its label)"),
    CompiledRecognizer(
        8, "account", "account", "a bank account, IBAN or payment card number"),
    CompiledRecognizer(9, "ip", "ip", "an IP address (IPv4 or IPv6)"),
    CompiledRecognizer(10, "url", "url", "a link (URL), often to a person's profile"),
    CompiledRecognizer(
        11, "id", "id-number",
        "an identifying number after its label (UNI-Login, pas, kørekort, IMEI, MAC …), "
        "a MAC address, or a long digit run"),
    CompiledRecognizer(
        12, "address", "address-house-number",
        "a place name with a house number (and floor, side or postcode)"),
)
