"""Bank accounts, IBAN and cards; IP addresses; links; numbers after their label."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("reg.nr. 1234 kontonr. 1234567890", "account", "1234 kontonr. 1234567890"),
        ("overført til 1234-1234567890", "account", "1234-1234567890"),
        ("IBAN DK50 0040 0440 1162 43", "account", "DK50 0040 0440 1162 43"),
        ("IBAN DK5000400440116243.", "account", "DK5000400440116243"),
        ("kort 4571 7360 1234 5674", "account", "4571 7360 1234 5674"),
        ("MobilePay box 1234567", "account", "1234567"),
        ("logget ind fra 192.168.1.20", "ip", "192.168.1.20"),
        ("ipv6 2001:db8::1 i loggen", "ip", "2001:db8::1"),
        ("profilen instagram.com/mikkel.k.", "url", "instagram.com/mikkel.k"),
        ("se https://tiktok.com/@x?y=1.", "url", "https://tiktok.com/@x?y=1"),
        ("www.facebook.com/profil", "url", "www.facebook.com/profil"),
        ("unilogin abcd1234", "id", "abcd1234"),
        ("pas nr. 209876543", "id", "209876543"),
        ("kørekort 12345678", "id", "12345678"),
        ("IMEI 356938035643809", "id", "356938035643809"),
        ("mac 00:1A:2B:3C:4D:5E", "id", "00:1A:2B:3C:4D:5E"),
        ("nummeret 1234567890123", "id", "1234567890123"),
    ],
)
def test_identifiers_are_removed(text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds(text)
    assert value not in scrubbed(text)


@pytest.mark.parametrize(
    "text",
    [
        "Se mere på politi.dk og borger.dk.",
        "Beløbet var 12.500 kr. for 3 uger.",
        "Version 3.2.1 af appen.",
        "Han har 1234 følgere.",
    ],
)
def test_content_numbers_and_plain_domains_survive(text: str) -> None:
    assert kinds(text) == []
