"""Street-address and licence-plate recognizers."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds


@pytest.mark.parametrize(
    "address",
    [
        "Algade 12, 2. tv, 4720 Præstø", "Storegade 3B", "Kulsbjergvej 4, st. th.",
        "Vester Voldgade 12", "H.C. Andersens Boulevard 28a 3.th 2300 København S",
        "Møllebakken 7, 4760 Vordingborg", "Nørregade 17", "Skovbrynet 93 4780 Stege",
        "Slotsgade 1, 1. mf", "Præstøvej 120 4720 Præstø", "Ny Østergade 4",
    ],
)
def test_street_addresses_are_found_whole(address: str) -> None:
    # "1. mf." may swallow the full stop: the side's own abbreviation dot and the sentence's
    # are the same character.
    found = kinds(f"Familien bor på {address}. Mor er hjemme.", ())
    assert [(k, v.rstrip(".")) for k, v in found] == [("address", address.rstrip("."))]


def test_a_street_without_a_typical_ending_counts_after_bor_paa() -> None:
    assert kinds("Han bor på Tranekær 5 sammen med mor.") == [("address", "Tranekær 5")]


@pytest.mark.parametrize(
    "text",
    ["Vi ses i uge 12.", "Eleven går i 8.b på Ørebæk Skole.", "Bus 40 kører kl. 7.10.",
     "Klasse 9 har 24 elever.", "Kapitel 3 side 12."],
)
def test_weeks_classes_and_schools_are_not_addresses(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "address"] == []


@pytest.mark.parametrize("plate", ["AB 12 345", "XY12345", "LV 60579"])
def test_danish_plates_are_removed(plate: str) -> None:
    assert kinds(f"Bilen {plate} holdt ved skolen.") == [("plate", plate)]


@pytest.mark.parametrize("text", ["Lokale AB 12 er optaget", "CO2 12345 ppm", "iPhone 15 Pro"])
def test_look_alikes_are_not_plates(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "plate"] == []


def test_a_postcode_without_a_town_does_not_swallow_the_next_street() -> None:
    text = "De er flyttet fra Bøgely 7, 1. sal, 4700 til Mågevænget 31C 2 th, 4720 Præstø."
    assert kinds(text) == [
        ("address", "Bøgely 7, 1. sal, 4700"), ("address", "Mågevænget 31C 2 th, 4720 Præstø"),
    ]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Mor er flyttet fra Bøgely 7 til Engen 141.", "Engen 141"),  # a word, after "til"
        ("OBS Kløverly 4B, st. 2 er ny adresse.", "Kløverly 4B, st. 2"),  # after an acronym
        ("Ny adr.Kløverly 4B 1 tv.", "adr.Kløverly 4B 1 tv"),  # glued to an abbreviation
        ("Han bor Kløverly 4B, 3. etage 2.", "Kløverly 4B, 3. etage 2"),
    ],
)
def test_house_numbers_in_harder_company(text: str, address: str) -> None:
    assert [v.rstrip(".") for k, v in kinds(text) if k == "address"][-1:] == [address]


@pytest.mark.parametrize(
    "text",
    ["Klassen var på tur til Kunstmuseet 23/3, og det gik fint.",
     "Kampen spilles i Hal 2 i morgen.", "Han kom til Skolen 2. gang.",
     "Hjemmebesøg 2026-03-04 kl. 10.", "De er set ved Solhøj Station 17/2 kl. 20."],
)
def test_a_date_after_a_place_is_no_house_number(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "address"] == []
