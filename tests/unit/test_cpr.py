"""schemas.cpr's fast path for ten ASCII digits agrees with python-stdnum, which it replaces
for that form only (the century table and the checks of ``validate``)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError

from schemas.cpr import InvalidCpr, birth_date, normalise_cpr


def stdnum_birth(number: str) -> dt.date | None:
    try:
        return stdnum_cpr.get_birth_date(number)  # type: ignore[no-any-return]
    except ValidationError:
        return None


def ours_birth(number: str) -> dt.date | None:
    try:
        return birth_date(number)
    except InvalidCpr:
        return None


def stdnum_valid(number: str) -> str | None:
    try:
        return str(stdnum_cpr.validate(number))
    except ValidationError:
        return None


def ours_valid(number: str) -> str | None:
    try:
        return normalise_cpr(number)
    except InvalidCpr:
        return None


def test_every_century_rule_matches_stdnum() -> None:
    # Every 7th digit against every two-digit year, on a real day: the whole century table.
    for seventh in "0123456789":
        for year in range(100):
            number = f"1502{year:02d}{seventh}123"
            assert ours_birth(number) == stdnum_birth(number), number
            assert ours_valid(number) == stdnum_valid(number), number


def test_random_digit_strings_match_stdnum() -> None:
    rng = random.Random(115)
    numbers = ["".join(rng.choice("0123456789") for _ in range(10)) for _ in range(20_000)]
    numbers += ["2902000000", "2902040000", "2902004000", "3104101234", "0000000000"]
    for number in numbers:
        assert ours_birth(number) == stdnum_birth(number), number
        assert ours_valid(number) == stdnum_valid(number), number


def test_future_birth_date_refused_like_stdnum() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    number = tomorrow.strftime("%d%m%y") + "4123"  # 7th digit 4, year < 37: 20xx
    assert stdnum_valid(number) is None
    with pytest.raises(InvalidCpr) as info:
        normalise_cpr(number)
    assert number not in str(info.value)


@pytest.mark.parametrize("written", ["151111-4123", "151111 4123", " 1511114123 "])
def test_other_writings_still_normalised_through_stdnum(written: str) -> None:
    assert normalise_cpr(written) == stdnum_valid(written) == "1511114123"


@pytest.mark.parametrize("text", ["15111141２3", "1511114²23", "151111412", "15111141234"])
def test_non_ascii_digits_and_wrong_lengths_are_not_the_fast_path(text: str) -> None:
    assert ours_valid(text) == stdnum_valid(text)
