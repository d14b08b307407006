"""CPR, phone, e-mail, handle, plate and address in the ways people write them (issue 12)."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed, shared_scrubber


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("CPR 15 06 11 41 23.", "cpr", "15 06 11 41 23"),
        ("cpr 15.06.11-4123", "cpr", "15.06.11-4123"),
        ("cpr 150611/4123", "cpr", "150611/4123"),
        ("cpr 15-06-11-4123", "cpr", "15-06-11-4123"),
        ("cpr 150611\u20114123", "cpr", "150611\u20114123"),
        ("+45 2 233 4455", "phone", "+45 2 233 4455"),
        ("+4522334455", "phone", "+4522334455"),
        ("tlf 2233 4455", "phone", "2233 4455"),
        ("mobil: 22-33-44-55", "phone", "22-33-44-55"),
        ("MobilePay 22 334 455", "phone", "22 334 455"),
        ("+45 26-06-99-17", "phone", "+45 26-06-99-17"),
        ("skriv til mikkel (at) gmail dk", "email", "mikkel (at) gmail dk"),
        ("mikkel at hotmail dot com", "email", "mikkel at hotmail dot com"),
        ("mikkel[at]live.dk", "email", "mikkel[at]live.dk"),
        ("mikkel snabel-a gmail.dk", "email", "mikkel snabel-a gmail.dk"),
        ("snapchat kongen_09", "handle", "kongen_09"),
        ("brugernavnet kongen", "handle", "kongen"),
        ("min snap er kongen", "handle", "kongen"),
        ("insta: prinsessen", "handle", "prinsessen"),
        ("han skrev som x_y_z", "handle", "x_y_z"),
        ("plade ab 12 345", "plate", "ab 12 345"),
        ("plade ab12345", "plate", "ab12345"),
        ("plade Ab 12 345", "plate", "Ab 12 345"),
        ("Han bor på Ulvshale 12.", "address", "Ulvshale 12"),
        ("Skovly 9, st. 4780 Stege", "address", "Skovly 9, st. 4780 Stege"),
        ("Bakkely 9, st. 4840 Nørre Alslev", "address", "Bakkely 9, st. 4840 Nørre Alslev"),
    ],
)
def test_identifiers_in_every_format_are_removed(text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds(text)
    assert value not in scrubbed(text)


@pytest.mark.parametrize(
    "text",
    [
        "han lovede at komme i morgen",
        "snap er en app",
        "Beløbene er 50-200 kr.",
        "uge 12 og klasse 8 og Kapitel 3, side 12",
        "Han fik 3 gange advarsel.",
    ],
)
def test_look_alikes_survive(text: str) -> None:
    assert kinds(text) == []


@pytest.mark.parametrize("invisible", ["\u200b", "\u200d", "\u00ad", "\u2060", "\ufeff"])
def test_an_invisible_character_inside_a_cpr_number_does_not_hide_it(invisible: str) -> None:
    text = f"cpr 1506{invisible}11-4123 og mere"
    result = shared_scrubber().scrub(text)
    assert result.text == "cpr [CPR] og mere"
    [finding] = result.findings
    assert (finding.start, finding.end) == (4, 4 + len("150611-4123") + 1)


def test_a_no_break_space_reads_as_a_space() -> None:
    assert scrubbed("tlf 22\u00a033\u00a044\u00a055") == "tlf [TELEFON]"
