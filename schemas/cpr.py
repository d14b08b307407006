"""CPR numbers: validation and birth date through python-stdnum.

We call ``stdnum.dk.cpr.validate`` (format, length, a real date, not in the future) and
deliberately *not* the modulus-11 check: CPR numbers issued since 2007 need not satisfy it.
The 7th digit decides the century (stdnum implements the CPR office's table).
Error messages never contain the number.
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.dk import cpr as _cpr
from stdnum.exceptions import ValidationError as _StdnumError


class InvalidCpr(ValueError):
    """The value is not a valid CPR number. The message never holds the value."""


_INVALID = "not a valid CPR number (10 digits DDMMYYSSSS with a real birth date)"


def normalise_cpr(value: str) -> str:
    """Return the 10-digit form (``DDMMYYSSSS``) or raise :class:`InvalidCpr`."""
    if len(value) == 10 and value.isascii() and value.isdigit():
        # The form every connector sends, checked here as stdnum's validate() checks it; the
        # rest (dashes, spaces) goes through stdnum. Why not always stdnum: its generic
        # compact() cleans character by character in Python, and the worker checks a CPR
        # number several times per event (tests/unit/test_cpr.py proves both agree).
        try:
            born = _birth_date(value)
        except InvalidCpr:
            raise InvalidCpr(_INVALID) from None
        if born > dt.date.today():
            raise InvalidCpr(_INVALID)
        return value
    try:
        return str(_cpr.validate(value))
    except _StdnumError as exc:
        raise InvalidCpr(_INVALID) from exc


def birth_date(cpr: str) -> dt.date:
    """Birth date of a *normalised* CPR number (the 7th digit gives the century)."""
    if len(cpr) == 10 and cpr.isascii() and cpr.isdigit():
        return _birth_date(cpr)
    try:
        return _cpr.get_birth_date(cpr)  # type: ignore[no-any-return]
    except _StdnumError as exc:
        raise InvalidCpr("not a valid CPR number") from exc


def _birth_date(digits: str) -> dt.date:
    """stdnum's ``get_birth_date`` for ten ASCII digits: the CPR office's century table
    (7th digit and year), without its per-character clean-up."""
    day, month, year, seventh = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), digits[6]
    if seventh in "5678" and year >= 58:
        year += 1800
    elif seventh in "0123" or (seventh in "49" and year >= 37):
        year += 1900
    else:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise InvalidCpr("not a valid CPR number") from None


def age_at(cpr: str, when: dt.date) -> int:
    """Age in whole years on ``when``."""
    born = birth_date(cpr)
    years = when.year - born.year
    if (when.month, when.day) < (born.month, born.day):
        years -= 1
    return years


# Defence in depth for text that must never hold a CPR number (the disclosure log, logs):
# ten digits with any separator style between them — ``0102104321``, ``010210-4321``,
# ``15.06.11-4123``, ``15 06 11 41 23``, ``150611/4123`` — including invisible ones (zero-width
# space and joiners, soft hyphen, word joiner, BOM) and Unicode dashes.
_SEPARATOR = "[\\s.,\\-/_\u00ad\u200b-\u200f\u2010-\u2015\u2060\u2212\ufeff]"
CPR_SHAPED = re.compile(f"(?<!\\d)\\d(?:{_SEPARATOR}{{0,3}}\\d){{9}}(?!\\d)")


def plausible_cpr_shape(match: str) -> bool:
    """A real day (01-31) and month (01-12) in the first six digits."""
    digits = "".join(c for c in match if c.isdigit())
    day, month = int(digits[:2]), int(digits[2:4])
    return 1 <= day <= 31 and 1 <= month <= 12


def contains_cpr_like(text: str) -> bool:
    """Whether ``text`` holds a CPR-shaped number in any separator style (ten digits whose
    first six can be a date). Says nothing about where: callers never echo the number."""
    return any(plausible_cpr_shape(m.group()) for m in CPR_SHAPED.finditer(text))


def cpr_like_numbers(text: str) -> set[str]:
    """The ten digits of every CPR-shaped number in ``text`` (any separator style, a date in
    the first six): for checks that two texts share no CPR number, however each writes it."""
    return {"".join(c for c in m.group() if c.isdigit()) for m in CPR_SHAPED.finditer(text)
            if plausible_cpr_shape(m.group())}


def mask_cpr_like(text: str, replacement: str = "[cpr]") -> str:
    """``text`` with every CPR-shaped number (any separator style) replaced."""
    return CPR_SHAPED.sub(replacement, text)
