"""The identifier shapes the no-plaintext scan looks for in process logs (issue 12)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.integration.events import cpr_writings, shapes_in


@pytest.mark.parametrize(("text", "kind"), [
    ("cpr 15.06.11-4123 i loggen", "cpr with separators"),
    ("x 150611/4123 y", "cpr with separators"),
    ("x 15 06 11 41 23 y", "cpr with separators"),
    ("x 150611\u200b-4123 y", "cpr with separators"),
    ("x 150611\u00ad4123 y", "cpr with separators"),
    ("født 15.06.2011", "date of birth"),
    ("f. 3/4-2010", "date of birth"),
    ("fødselsdato: 15. juni 2011", "date of birth"),
    ("DOB 15-06-2011", "date of birth"),
    ("sag 27.24.00-A00-1-26 er", "case number (KLE)"),
    ("j.nr. 0300-80171-00044-26", "police journal number"),
    ("(SAG-2026-004471)", "case number (SAG)"),
    ("IBAN DK50 0040 0440 1162 43", "IBAN"),
    ("DK5000400440116243", "IBAN"),
    ("reg.nr. 1234 kontonr. 0001234567", "bank account"),
    ("kort 4571 1234 5678 9012", "card number"),
])
def test_shapes_are_found(text: str, kind: str) -> None:
    assert kind in shapes_in(text)


@pytest.mark.parametrize("text", [
    dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC).isoformat(),
    '{"ts": "2026-03-12T10:00:00Z", "offset": 1234567, "pid": 4123}',
    str(uuid.UUID(int=0x1234_5678_1234_5678_1234_5678_1234_5678)),
    "127.0.0.1:9092 partition 3 offset 150611",
    "took 12.345 ms; 1733512345.123456; event_id=5f1c0a7e-1b2c-4d3e-8f90-123456789abc",
    "Mødet den 12-03-2026 kl. 8.15",
])
def test_ordinary_log_text_is_not_flagged(text: str) -> None:
    assert shapes_in(text) == []


def test_cpr_writings_include_separators_and_the_birth_date() -> None:
    writings = cpr_writings("1506114123")
    assert {"150611-4123", "15.06.11-4123", "150611/4123", "15 06 11 41 23",
            "15.06.2011"} <= writings
    assert "15.06.1911" in cpr_writings("1506110123")
