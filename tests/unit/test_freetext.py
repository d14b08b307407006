"""core/privacy/freetext.py: the one scrubber for every free text that people write (issue 12 item
3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest

from core.policy.evaluator import load_policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.freetext import FIELDS, FreeText, Handling, Refusal
from core.privacy.keys import new_keyring
from core.privacy.scrubber import Finding, ScrubResult
from core.settings import Settings
from hub.web.texts import found_da
from streams.pipeline import Pipeline, Routed
from tests.scrubber.shared import shared_scrubber
from tests.unit.factories import make_event, record_for


@pytest.fixture(scope="module")
def freetext() -> FreeText:
    return FreeText(shared_scrubber())


def test_scrub_replaces_identifiers_and_says_what_and_why_never_the_value(
        freetext: FreeText) -> None:
    text = "Ring til Mikkel på 22 33 44 55 eller skriv til mikkel@example.dk."

    shown = freetext.scrub(text, known_names=["Mikkel Hansen"])

    assert shown.text == "Ring til [person 1] på [TELEFON] eller skriv til [EMAIL]."
    assert [(r.placeholder, r.kind) for r in shown.replacements] == [
        ("[person 1]", "name"), ("[TELEFON]", "phone"), ("[EMAIL]", "email")]
    assert [text[r.start:r.end] for r in shown.replacements] == [
        "Mikkel", "22 33 44 55", "mikkel@example.dk"]
    for replacement in shown.replacements:
        assert replacement.detector
        assert replacement.reason
        assert "Mikkel" not in repr(replacement.as_json())
        assert "22 33" not in repr(replacement.as_json())
    assert shown.kinds == ("name", "phone", "email")
    assert "Mikkel" not in repr(shown)


def test_text_without_identifiers_is_unchanged(freetext: FreeText) -> None:
    text = "Eleven har haft meget fravær efter vinterferien og virker trist."
    shown = freetext.scrub(text)
    assert (shown.text, shown.replacements) == (text, ())


def test_a_cpr_shaped_number_no_detector_claims_is_still_cut_out() -> None:
    class Blind:  # a scrubber that finds nothing
        def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
            return ScrubResult(text, [])

    shown = FreeText(Blind()).scrub("cpr 999999-9999 og 9999999999")  # type: ignore[arg-type]

    assert shown.text == "cpr [CPR] og [CPR]"
    assert {r.detector for r in shown.replacements} == {"freetext.cpr_shape"}


@pytest.mark.parametrize("text", [
    "Ring til Mikkel på 22 33 44 55.", "Intet her.", "cpr 999999-9999", ""])
def test_text_is_the_same_as_scrub_text(freetext: FreeText, text: str) -> None:
    assert freetext.text(text, ["Mikkel Hansen"]) == freetext.scrub(text, ["Mikkel Hansen"]).text


def test_unreadable_placeholders_fall_back_to_generic_labels_with_the_value_removed() -> None:
    class Odd:  # writes placeholders this module does not know how to read
        def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
            return ScrubResult(text.replace("Bo", "<<x>>"), [Finding("name", 4, 6)])

    shown = FreeText(Odd()).scrub("Hej Bo!")  # type: ignore[arg-type]

    assert shown.text == "Hej [NAME]!"


def test_a_new_kind_from_the_scrubber_passes_through_with_its_explanation() -> None:
    class WithDob:
        def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
            return ScrubResult("født [FØDSELSDATO] i Stege",
                               [Finding("dob", 5, 15, "patterns.dob", "a date after 'født'")])

    shown = FreeText(WithDob()).scrub("født 01.02.2011 i Stege")  # type: ignore[arg-type]

    assert shown.text == "født [FØDSELSDATO] i Stege"
    [r] = shown.replacements
    assert (r.kind, r.detector, r.reason) == ("dob", "patterns.dob", "a date after 'født'")
    assert found_da(shown.kinds) == "en fødselsdato"
    assert found_da(["a_kind_nobody_knows"]) == "en personoplysning"


def test_refusal_names_the_field_and_the_kinds_in_order(freetext: FreeText) -> None:
    refusal = freetext.refusal("note", "Talt med Mikkel Hansen, ring på 22 33 44 55.")

    assert refusal == Refusal("note", ("name", "phone"))
    error = refusal.as_error()
    assert (error["field"], error["type"], error["kinds"]) == (
        "note", "personal_data", ["name", "phone"])
    assert "Mikkel" not in repr(error)
    assert "22 33" not in repr(error)
    assert found_da(refusal.kinds) == "et navn og et telefonnummer"


def test_refusal_is_none_for_clean_text_and_for_allowed_kinds(freetext: FreeText) -> None:
    assert freetext.refusal("note", "Møde med skolen aftalt til næste uge.") is None
    assert freetext.refusal("note", "ring 22 33 44 55", allow=("phone",)) is None


def test_every_free_text_field_has_a_handling() -> None:
    assert FIELDS["note"] is Handling.refuse
    assert {FIELDS[f] for f in ("description", "necessity", "reason")} == {Handling.scrub}


def test_the_disclosure_logs_necessity_goes_through_freetext_with_its_safety_net() -> None:
    """The worker's scrub is FreeText's (streams/app.py): the necessity written into the
    disclosure log, which keeps it forever, never holds a CPR-shaped number, even one no
    detector claims."""
    class Blind:  # the detectors miss everything; only the safety net is left
        def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
            return ScrubResult(text, [])

    freetext = FreeText(Blind())  # type: ignore[arg-type]
    ring = new_keyring()
    pipeline = Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"),
                        load_policy(Settings().resolved_policy_file),
                        freetext.text)
    event = make_event("school", category="crime", area="stege",
                       necessity="Nødvendigt: moren (999999 9999) beder om hjælp.")

    result = pipeline.process(record_for(pipeline.cipher, event),
                              dt.datetime(2026, 3, 2, 13, 6, tzinfo=dt.UTC))

    assert isinstance(result, Routed)
    assert [e.necessity for e in result.entries] == [
        "Nødvendigt: moren ([CPR]) beder om hjælp."]
    assert result.concerns[0].necessity == "Nødvendigt: moren ([CPR]) beder om hjælp."
