"""Phone recognizer: Danish numbers with or without +45/0045, any usual grouping."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds


@pytest.mark.parametrize(
    "phone",
    [
        "12345678", "12 34 56 78", "1234 5678", "12-34-56-78", "12.34.56.78", "12 345 678",
        "+45 12345678", "+4512345678", "0045 12 34 56 78", "+45 1234 5678", "(+45) 12345678",
        "0045 12345678",
    ],
)
def test_danish_phone_numbers_are_found_whole(phone: str) -> None:
    assert kinds(f"Ring til mor på {phone} i aften.") == [("phone", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "Mødet er 12-03-2026 kl. 14.30-15.30.",
        "Beløbet var 12.500.000 kr.",
        "Sagsnr. 20261234 er oprettet.",
        "J.nr. 12345678",
        "Sag 2025-1122 og lokale 2.14",
        "kl. 8.15 og 9.45",
        "1234567890123",
    ],
)
def test_dates_times_amounts_and_case_numbers_are_not_phones(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "phone"] == []
