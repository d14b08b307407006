"""CPR numbers: validation and birth date through python-stdnum.

We call ``stdnum.dk.cpr.validate`` (format, length, a real date, not in the future) and
deliberately *not* the modulus-11 check: CPR numbers issued since 2007 need not satisfy it.
The 7th digit decides the century (stdnum implements the CPR office's table).
Error messages never contain the number.
"""

from __future__ import annotations

import datetime as dt

from stdnum.dk import cpr as _cpr
from stdnum.exceptions import ValidationError as _StdnumError


class InvalidCpr(ValueError):
    """The value is not a valid CPR number. The message never holds the value."""


def normalise_cpr(value: str) -> str:
    """Return the 10-digit form (``DDMMYYSSSS``) or raise :class:`InvalidCpr`."""
    try:
        return str(_cpr.validate(value))
    except _StdnumError as exc:
        raise InvalidCpr(
            "not a valid CPR number (10 digits DDMMYYSSSS with a real birth date)"
        ) from exc


def birth_date(cpr: str) -> dt.date:
    """Birth date of a *normalised* CPR number (the 7th digit gives the century)."""
    try:
        return _cpr.get_birth_date(cpr)  # type: ignore[no-any-return]
    except _StdnumError as exc:
        raise InvalidCpr("not a valid CPR number") from exc


def age_at(cpr: str, when: dt.date) -> int:
    """Age in whole years on ``when``."""
    born = birth_date(cpr)
    years = when.year - born.year
    if (when.month, when.day) < (born.month, born.day):
        years -= 1
    return years
