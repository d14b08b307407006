"""The schema's PersonalData marks are the one source of truth for what is personal: the
minimisation's withheld fields, the log redaction and the no-plaintext scans all read them
(schemas/personal.py), so a newly marked field is covered by all three at once."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest

import core.logs
from connectors.base import Mapped
from core.logs import SECRET_KEYS, personal_keys, redact
from core.policy.evaluator import NEVER_DISCLOSED
from schemas.cpr import cpr_like_numbers
from schemas.events import CanonicalEvent, PersonalData, Subject
from schemas.personal import (
    disclosure_units,
    identifying_values,
    log_keys,
    never_disclosed,
    personal_fields,
)
from streams.pipeline import PERSONAL_FIELDS
from tests.integration.events import identifiers_in
from tests.unit.factories import make_event, personal_strings

PHONE = "2233 4455"  # eight digits: not CPR-shaped, so only the key redacts it


class PhoneSubject(Subject):
    """The subject with one more field, marked as personal data (a direct identifier)."""

    phone: Annotated[str | None, PersonalData("phone")] = None


class PhoneEvent(CanonicalEvent):
    subject: PhoneSubject


def _phone_event() -> PhoneEvent:
    doc = make_event("school")
    doc["subject"] = {**doc["subject"], "phone": PHONE}
    return PhoneEvent.model_validate(doc)


def test_the_marks_give_todays_personal_fields() -> None:
    assert personal_fields() == {
        "subject.cpr": PersonalData("cpr"), "subject.name": PersonalData("name"),
        "subject.address": PersonalData("address"), "subject.school": PersonalData("quasi"),
        "subject.class": PersonalData("quasi"), "related_persons.cpr": PersonalData("cpr"),
        "related_persons.name": PersonalData("name"), "description": PersonalData("text"),
        "necessity": PersonalData("text")}


def test_minimisation_logs_and_policy_read_the_marks() -> None:
    assert PERSONAL_FIELDS == disclosure_units() == (
        "subject.cpr", "subject.name", "subject.address", "subject.school", "subject.class",
        "related_persons", "description", "necessity")
    assert set(NEVER_DISCLOSED) == {
        "subject.cpr", "subject.name", "subject.address", "subject.birth_date",
        "related_persons.cpr", "related_persons.name"}
    assert log_keys() | SECRET_KEYS == core.logs.PERSONAL_KEYS
    assert {"cpr", "name", "address", "school", "class", "subject", "related_persons",
            "description", "necessity"} <= core.logs.PERSONAL_KEYS


def test_a_newly_marked_field_is_withheld_and_never_disclosed() -> None:
    assert "subject.phone" in disclosure_units(PhoneEvent)
    assert "subject.phone" in never_disclosed(PhoneEvent)
    assert "subject.phone" not in disclosure_units()  # the real schema has no such field


def test_a_newly_marked_field_is_redacted_from_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    line = {"event": "ingest", "phone": PHONE, "detail": {"phone": PHONE}}
    assert PHONE in json.dumps(redact(None, "info", dict(line)))  # not marked: not redacted
    monkeypatch.setattr(core.logs, "PERSONAL_KEYS", personal_keys(PhoneEvent))
    out = json.dumps(redact(None, "info", dict(line)))
    assert PHONE not in out
    assert '"phone": "[redacted]"' in out


def test_a_newly_marked_field_is_searched_for_by_the_no_plaintext_scans() -> None:
    event = _phone_event()
    values: list[tuple[str, Any]] = identifying_values(event)
    assert ("phone", PHONE) in values
    assert ("cpr", event.subject.cpr) in values
    assert all(kind not in ("quasi", "text") for kind, _ in values)
    assert PHONE in identifiers_in([Mapped(line=1, event=event)])  # the broker and log scan's list
    assert event.subject.school not in identifiers_in([Mapped(line=1, event=event)])


def test_unit_scans_cover_every_identifier_in_both_cpr_forms() -> None:
    doc = make_event("school")
    found = personal_strings(doc)
    cpr = CanonicalEvent.model_validate(doc).subject.cpr
    assert {cpr, f"{cpr[:6]}-{cpr[6:]}", doc["subject"]["name"],
            doc["subject"]["address"]} <= set(found)
    assert all(p["name"] in found for p in doc["related_persons"] if p.get("name"))


def test_one_cpr_pattern_finds_a_number_however_it_is_written() -> None:
    """schemas.cpr.CPR_SHAPED, next to normalise_cpr, is the one CPR pattern: the log
    masking, the disclosure log's check and the connector tests' report scans use it."""
    text = "0102104321, 010210-4321 og 01.02.10 43 21; ikke 2026-03-02T14:05:00+01:00 eller 123"
    assert cpr_like_numbers(text) == {"0102104321"}
    assert cpr_like_numbers("tlf 2233 4455, sag 12345678901") == set()


def test_the_integration_events_register_every_marked_identifier() -> None:
    from tests.integration.events import IDENTIFIERS, cpr_writings
    from tests.integration.events import make_event as make_integration_event

    doc = make_integration_event(seed=7)
    event = CanonicalEvent.model_validate(doc)
    for kind, value in identifying_values(event):
        assert (cpr_writings(value) if kind == "cpr" else {value}) <= IDENTIFIERS
    assert event.subject.school not in IDENTIFIERS  # a quasi-identifier: kept in concerns
