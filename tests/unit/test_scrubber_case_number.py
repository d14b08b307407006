"""Agency case and journal numbers: KLE, police, case systems, and anything after a label."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Journal 27.24.00-A00-1-26 er oprettet.", "27.24.00-A00-1-26"),
        ("KLE 00.01.00-P20-3-26", "00.01.00-P20-3-26"),
        ("Politiets j.nr. 0300-80171-00044-26.", "0300-80171-00044-26"),
        ("J.nr. 4700-12345-00012-26", "4700-12345-00012-26"),
        ("Se SAG-2026-004471 i systemet.", "SAG-2026-004471"),
        ("Sagsnr. 2026-04471.", "2026-04471"),
        ("Det er sag 26/12345.", "26/12345"),
        ("sagsnummer: 20261234", "20261234"),
        ("ref. AB12-778", "AB12-778"),
    ],
)
def test_case_numbers_are_removed(text: str, value: str) -> None:
    assert ("case_number", value) in kinds(text)
    assert value not in scrubbed(text)


@pytest.mark.parametrize("text", ["Det er en sag for politiet.", "sag 2 af 3", "Vi tog sagen op."])
def test_the_word_sag_alone_is_content(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "case_number"] == []
