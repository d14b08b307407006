"""Dates of birth in every format are removed; the dates that are content survive."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Mikkel er født 15.06.2011 og bor i Præstø.", "15.06.2011"),
        ("Ahmed, f. 15/6-11, går i 8.b.", "15/6-11"),
        ("fødselsdato: 2011-06-15", "2011-06-15"),
        ("født d. 15. juni 2011", "15. juni 2011"),
        ("Han har fødselsdag 15.06.11 (fødselsdag)", "15.06.11"),
        ("15.06.11 (fødselsdag)", "15.06.11"),
        ("DOB 15-06-2011", "15-06-2011"),
        ("født 15/6 2011", "15/6 2011"),
        ("født 15062011", "15062011"),
        ("f.15/6-11", "15/6-11"),
        ("Sara (f. 2011) og hendes bror", "2011"),
        ("Han er årgang 2010.", "2010"),
        ("en 2011-årgang", "2011"),
        ("Mor er født i 1985.", "1985"),
        ("Far, 03.02.1979, ringede.", "03.02.1979"),
        ("born 15 June 2011", "15 June 2011"),
    ],
)
def test_dates_of_birth_are_removed(text: str, value: str) -> None:
    assert ("dob", value) in kinds(text)
    assert value not in scrubbed(text)


@pytest.mark.parametrize(
    "text",
    [
        "Mødet 12-03-2026 kl. 14.30 på skolen.",
        "i weekenden den 3. marts var der fest",
        "Episoden skete 14.02.2026 ved stationen.",
        "Episoden 03.11.2025 kl. 16.10-16.45 i 7.b.",
        "Fra 1.8.2024 til 31.7.2025 gik han i 7.b.",
        "Han har 23 % fravær siden uge 6.",
        "Beløbet var 12.500 kr.",
        "Lokale 2.14 er optaget.",
    ],
)
def test_dates_that_are_content_survive(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "dob"] == []
