"""CPR recognizer: any common writing of a number whose first six digits are a real date."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    ("text", "cpr"),
    [
        ("CPR 010210-4321 oplyst", "010210-4321"),
        ("cpr: 0102104321.", "0102104321"),
        ("født 010210 4321 i Næstved", "010210 4321"),
        ("(311299-1234)", "311299-1234"),
        ("290208-4000 er skudårsdag", "290208-4000"),
        ("nr. 150612 - 5678", "150612 - 5678"),
        ("cpr 010210–4321 med tankestreg", "010210–4321"),
    ],
)
def test_cpr_in_any_common_writing_is_removed(text: str, cpr: str) -> None:
    assert ("cpr", cpr) in kinds(text)
    assert cpr not in scrubbed(text)
    assert "[CPR]" in scrubbed(text)


@pytest.mark.parametrize(
    "text",
    [
        "nummer 3213451234 er ikke en dato",  # day 32
        "1302994321 har måned 13? nej: 13-02-99 er gyldig, 0113994321 har måned 13",
        "sag 999999-9999",
        "beløbet var 1.234.567.890 kr",
        "12-03-2026 kl. 14.30",
    ],
)
def test_ten_digits_that_are_not_a_date_are_not_cpr(text: str) -> None:
    found = [k for k in kinds(text) if k[0] == "cpr"]
    if text.startswith("1302994321"):
        assert found == [("cpr", "1302994321")]
    else:
        assert found == []


def test_modulus_11_is_not_required() -> None:
    # 010210-4321 fails the old modulus-11 check; numbers issued since 2007 may too.
    assert kinds("010210-4321") == [("cpr", "010210-4321")]
