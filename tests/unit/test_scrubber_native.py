"""The compiled recognizers (ssp_scrubber_native) at the points where Rust and Python differ:
UTF-8 byte offsets against code points, Python's ``\\w`` and IGNORECASE, and the scrubber's
mapping back over invisible characters."""

from __future__ import annotations

from collections.abc import Iterator

from core.privacy.scrubber import Scrubber
from core.privacy.scrubber.compiled import COMPILED_RECOGNIZERS, NATIVE, this_year
from tests.scrubber.shared import kinds, shared_scrubber

_INDEX = {r.detector: r.index for r in COMPILED_RECOGNIZERS}


def _found(text: str, detector: str) -> list[str]:
    """What one recognizer found (once each: two of its patterns may find the same)."""
    return sorted({text[start:end] for index, start, end in NATIVE.find_all(text, this_year())
                   if index == _INDEX[detector]})


def test_offsets_are_code_points_after_non_ascii_letters() -> None:
    # "æøå" are two bytes each in UTF-8, "😀" four: byte offsets would cut the number short
    text = "Søster Åse 😀 ærgrer sig: cpr 150611-4123, tlf 22 33 44 55."
    assert _found(text, "cpr") == ["150611-4123"]
    assert _found(text, "phone") == ["22 33 44 55"]


def test_cpr_right_after_aeoeaa_is_scrubbed_with_the_right_offsets() -> None:
    result = shared_scrubber().scrub("cpr på150611-4123 og blå 010210 4321")
    assert result.text == "cpr på[CPR] og blå [CPR]"
    assert [(f.kind, f.start, f.end) for f in result.findings] == [
        ("cpr", 6, 17), ("cpr", 25, 36)]


def test_an_invisible_character_inside_a_number_is_covered_by_the_finding() -> None:
    text = "ring 22\u200b33 44 55 i aften, cpr 1506\u00ad11-4123"
    result = shared_scrubber().scrub(text)
    assert result.text == "ring [TELEFON] i aften, cpr [CPR]"
    phone, cpr = result.findings
    assert text[phone.start:phone.end] == "22\u200b33 44 55"
    assert text[cpr.start:cpr.end] == "1506\u00ad11-4123"


def test_superscript_two_is_a_word_character_as_in_python() -> None:
    # Python's \w takes "²" (a number), Rust's does not: "m²12345678" is no phone number
    assert _found("lejligheden er 80 m²12345678", "phone") == []
    assert _found("lejligheden er 80 m² 12345678", "phone") == ["12345678"]


def test_ignorecase_folds_dotted_capital_i_as_python_does() -> None:
    # Under IGNORECASE Python lets "İ" match "i" (its simple lower case): "İNSTA: x" is a cue
    assert _found("İNSTA: kongen", "handle") == ["kongen"]


def test_one_recognizer_alone_finds_what_the_one_call_finds() -> None:
    text = "Mikkel, f. 15.06.2011, bor på Algade 12, 4720 Præstø; snap: kongen_09"
    for recognizer in COMPILED_RECOGNIZERS:
        assert sorted(recognizer.find(text)) == sorted(
            (start, end) for index, start, end in NATIVE.find_all(text, this_year())
            if index == recognizer.index)


class _Codeword:
    """A recognizer written in Python by a caller: runs next to the compiled ones."""

    kind = "id"
    detector = "codeword"
    reason = "the word 'Ørnen', a codename"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        at = text.find("Ørnen")
        if at >= 0:
            yield at, at + len("Ørnen")


def test_a_python_recognizer_runs_next_to_the_compiled_ones() -> None:
    scrubber = Scrubber(recognizers=(*COMPILED_RECOGNIZERS, _Codeword()))
    result = scrubber.scrub("Ørnen ringede fra 22 33 44 55")
    assert result.text == "[ID-NUMMER] ringede fra [TELEFON]"
    assert kinds("Ørnen ringede fra 22 33 44 55") == [("phone", "22 33 44 55")]
