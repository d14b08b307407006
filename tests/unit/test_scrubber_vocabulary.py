"""Names no list knows: a token that is no Danish word (hunspell-da), place, shop or
organisation is a suspect name, in any case; words that are names go with context; content
words survive."""

from __future__ import annotations

import pytest

from core.privacy.scrubber.vocabulary import Vocabulary
from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    ("word", "is_word"),
    [
        ("skolegården", True),  # compound
        ("fodboldtræningen", True),
        ("ungdomsklubbens", True),  # compound with a linking s, genitive
        ("hjemmet", True),  # two suffix rules deep
        ("ringede", True),
        ("hansen", False),  # no "han" + "sen"
        ("kofi", False),
        ("tenzin", False),
    ],
)
def test_the_vocabulary_knows_inflections_and_compounds(word: str, is_word: bool) -> None:
    assert Vocabulary.shared().is_word(word) is is_word


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I går slog Kwabena en elev.", "Kwabena"),
        ("Tenzin Dolma kom med Pema.", "Tenzin Dolma"),
        ("hej kofi hvor er du", "kofi"),
        ("Aputsiaq har pjækket.", "Aputsiaq"),
        ("Vi talte med Pieter van der Berg.", "Pieter van der Berg"),
        ("Hun hedder Amina Al-Hassan.", "Amina Al-Hassan"),
        ("Far er Raj Nielsen-Kaur.", "Raj Nielsen-Kaur"),
        ("Hun hedder Niamh Ó Briain.", "Niamh Ó Briain"),
        ("Han kaldes bamse af de andre.", "bamse"),
        ("Han er kendt som Bamse.", "Bamse"),
        ("Storm slog ham. Bagefter sagde Storm undskyld.", "Storm"),
        ("Lærke og Ask var i Netto.", "Ask"),
        ("Karma Yangchen kom for sent.", "Karma Yangchen"),
        ("Pham Thu Ha kom for sent.", "Pham Thu Ha"),
        ("mikkel: hvor er du\nper: i netto lol", "per"),
        ("skriver per: kom nu", "per"),
    ],
)
def test_names_no_list_knows_are_removed(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Vi handlede i SuperBrugsen, Netto, Føtex, Fakta, Meny, Lidl og Rema 1000.",
        "De var i Præstø, Stege, Kalvehave, Nyråd, Bogø, Ulvshale og Klintholm på Møn.",
        "Per dag kommer han to timer.",
        "Der var brand på Lund Skole.",
        "Han går i Vordingborgskolen og til fodbold i Ungdomsklubben.",
        "lol omg haha nice okay fuck det var vildt",
        "jaaa neeej hmmm hahaha",  # three or more of a letter: "Nuur", "Ruun" are names
        "Vi var ved Ulvshale Strand og Møns Klint.",
        "SSP-konsulenten og PPR holdt møde med politiet.",
    ],
)
def test_content_words_survive(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "name"] == []


def test_every_finding_names_its_detector_and_a_reason_without_the_value() -> None:
    from tests.scrubber.shared import shared_scrubber

    text = "Kwabena (født 15.06.2011) bor Ulvshale 12, tlf 22 33 44 55, sag 26/12345."
    result = shared_scrubber().scrub(text)
    assert {f.kind for f in result.findings} >= {"name", "dob", "address", "phone", "case_number"}
    for finding in result.findings:
        value = text[finding.start:finding.end]
        assert finding.detector
        assert finding.reason
        assert value not in finding.reason
        assert value not in finding.detector


def test_scrubbing_twice_changes_nothing() -> None:
    once = scrubbed("Kwabena (f. 2011) skrev til kofi på snap: kongen_09 fra 192.168.1.2")
    assert scrubbed(once) == once
