"""Name recognizer: the event's own names in every inflection, other names via the gazetteer,
names that are also Danish words only with context, consistent person numbers."""

from __future__ import annotations

import pytest

from core.privacy.scrubber import Finding, Scrubber, ScrubResult
from tests.scrubber.shared import kinds, scrubbed, shared_scrubber

KNOWN = ("Mikkel Østergård Sørensen", "Hanne Østergård")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mikkel kom for sent.", "[person 1] kom for sent."),
        ("Mikkels mor ringede.", "[person 1] mor ringede."),
        ("MIKKEL ER VÆK", "[person 1] ER VÆK"),
        ("mikkel svarer ikke", "[person 1] svarer ikke"),
        ("Sørensen-familien", "[person 1]-familien"),
        ("Hanne Østergård ringede", "[person 2] ringede"),
        ("Østergaard ringede", "[person 1] ringede"),
        ("Hannes bil", "[person 2] bil"),
        ("Mikkel Østergård Sørensen og Hanne", "[person 1] og [person 2]"),
    ],
)
def test_known_names_in_every_inflection(text: str, expected: str) -> None:
    assert scrubbed(text, KNOWN) == expected


@pytest.mark.parametrize(
    ("text", "known", "expected"),
    [
        ("Lukas' far kom.", ("Lukas Berg",), "[person 1] far kom."),
        ("Ahmed's bror kom.", ("Ahmed Hassan",), "[person 1] bror kom."),
        ("Anne-Sofie græd.", ("Anne-Sofie Kjær",), "[person 1] græd."),
        ("Mohammad al-Hassan kom.", ("Mohammad al-Hassan",), "[person 1] kom."),
        ("Bo kom. Hun skal bo hos far.", ("Bo Jensen",), "[person 1] kom. Hun skal bo hos far."),
    ],
)
def test_known_name_edge_cases(text: str, known: tuple[str, ...], expected: str) -> None:
    assert scrubbed(text, known) == expected


@pytest.mark.parametrize(
    "name",
    ["Ahmed", "Fatima", "Yusuf Yılmaz", "Zeynep", "Abdirahman Warsame", "Oleksandr Shevchenko",
     "Zlatan Hodžić", "Jakub Kowalski", "Farid Ahmadi", "Senait Tesfay", "Usman Khan",
     "Rojin Barzani", "Mathilde Kristensen", "Lejla Begić", "Iryna Kovalenko"],
)
def test_gazetteer_names_of_many_origins_are_removed(name: str) -> None:
    out = scrubbed(f"I dag har {name} været i konflikt med en lærer.")
    assert out == "I dag har [person 1] været i konflikt med en lærer."


@pytest.mark.parametrize(
    "text",
    [
        "Per dag kommer han to timer.",
        "Alle elever i 8.b var med.",
        "Is og kage i frikvarteret.",
        "Storm og regn hele ugen.",
        "Skov og strand er populære steder.",
        "Have du hørt det?",
        "Rose fra ledelsen til eleverne.",
        "Mark din kalender.",
        "Bo hos far i weekenden.",
        "Sten blev kastet mod bussen.",
        "Der var brand på Lund Skole.",
        "Brandalarm på Svend Gønge-Skolen i dag.",
        "Mødet var 12-03-2026 kl. 14.30 på Ørebæk Skole.",
    ],
)
def test_words_that_look_like_names_stay(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "name"] == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Drengen Bo slog.", "Bo"),
        ("Hun hedder Storm.", "Storm"),
        ("Familien Skov er bekymret.", "Skov"),
        ("I går slog Said en elev.", "Said"),
        # A name before a colon at the start of a line is a quoted chat line's speaker.
        ("Said: det var ikke mig.", "Said"),
        ("Bo Jensen kom.", "Bo Jensen"),
        ("Vi talte med Anders Skov.", "Anders Skov"),
        ("Vi talte med fru Hvidbjerg.", "Hvidbjerg"),
        ("Mikkel Hvidbjerg kom.", "Mikkel Hvidbjerg"),
        ("Vi talte med Pedersen i går.", "Pedersen"),
    ],
)
def test_names_that_are_words_are_removed_with_context(text: str, name: str) -> None:
    assert ("name", name) in kinds(text)


def test_the_same_person_keeps_one_number_and_known_names_come_first() -> None:
    text = "Jonas Hansen slog Hanne. Senere sagde Jonas, at Mikkel var med."
    assert scrubbed(text, KNOWN) == (
        "[person 3] slog [person 2]. Senere sagde [person 3], at [person 1] var med."
    )


def test_two_people_sharing_a_surname_are_two_persons() -> None:
    assert scrubbed("Yusuf Yılmaz og Ahmet Yilmaz.") == "[person 1] og [person 2]."


def test_result_offsets_point_into_the_input() -> None:
    text = "Mikkels mor Hanne"
    result = shared_scrubber().scrub(text, known_names=KNOWN)
    assert isinstance(result, ScrubResult)
    # Findings now also name their detector and reason: compare the kind and offsets.
    assert [(f.kind, f.start, f.end) for f in result.findings] == [("name", 0, 7), ("name", 12, 17)]
    assert all(isinstance(f, Finding) and f.detector and f.reason for f in result.findings)


def test_public_surface() -> None:
    import core.privacy.scrubber as package

    assert sorted(package.__all__) == ["Finding", "ScrubResult", "Scrubber"]
    assert Scrubber().scrub("").text == ""


def test_errors_do_not_echo_the_input() -> None:
    with pytest.raises(TypeError) as info:
        shared_scrubber().scrub(b"010210-4321")  # type: ignore[arg-type]
    assert "010210" not in str(info.value)


@pytest.mark.parametrize("text", ["Aagaard hf", "så Jensen skolen i går", "Ahmed klubben"])
def test_regression_name_before_a_lower_case_institution_word_is_scrubbed(text: str) -> None:
    # hypothesis found "Aagaard hf": the place rule ("Lund Skole") fired on a lower-case word.
    name = text.split()[0] if text[0].isupper() else text.split()[1]
    assert name not in scrubbed(text)


def test_the_compiled_tokeniser_reads_letters_as_python_does() -> None:
    # The name rules are compiled (native/src/names.rs): a name token must run over exactly the
    # characters Python's [^\W\d_] calls letters ("²" and "ª" too; digits, "_", combining
    # marks and punctuation end it), so the finding ends where the Python detector's ended.
    import re

    letter = re.compile(r"[^\W\d_]")
    names = shared_scrubber()._names
    prefix = "i går mødte vi Aputsiaq"
    for code in range(0x20, 0x2070):
        char = chr(code)
        if char in "'’\n\r" or not char.isprintable():
            continue
        found = names.find(f"{prefix}{char} i byen")
        assert found, hex(code)
        expected = len(prefix) + (letter.match(char) is not None)
        assert found[0].end == expected, hex(code)


@pytest.mark.parametrize(
    ("text", "known", "name"),
    [
        ("😀🎉 Mikkel kom for sent", KNOWN, "Mikkel"),  # code points, not UTF-8 bytes
        ("Ærø-tur: i går slog Aputsiaq ham", (), "Aputsiaq"),
        ("İİ Hanne Østergård ringede", KNOWN, "Hanne Østergård"),  # "İ" lower-cases to two
        ("ørn: kom nu\nfrost: nej", (), "ørn"),  # a chat line's speaker
    ],
)
def test_compiled_rules_give_offsets_in_code_points(
    text: str, known: tuple[str, ...], name: str
) -> None:
    found = shared_scrubber()._names.find(text, known)
    start = text.index(name)
    assert (start, start + len(name)) in [(span.start, span.end) for span in found]

