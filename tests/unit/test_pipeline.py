"""The worker's pure pipeline (issue 2 item 5): decrypt → validate → decide → minimise → route.

Records are built exactly as ``hub.api`` builds them, so no broker is needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from typing import Any

import pytest

from core.policy.evaluator import Policy, load_policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import KeyRing, new_keyring
from hub.sample_data import sample_events
from schemas.cpr import normalise_cpr
from schemas.outcomes import OutcomeStatus
from schemas.wire import H_AGENCY, H_EVENT_ID, H_INGESTED_AT, H_KEY_ID
from streams.pipeline import (
    Aggregated,
    IngestRecord,
    Pipeline,
    Quarantined,
    Rejected,
    Result,
    Routed,
    concern_json,
    dedupe_batch,
    outcome_json,
    parse_outcome,
)
from tests.unit.factories import (
    DATA,
    DESCRIPTION,
    GUARDIAN_CPR,
    GUARDIAN_NAME,
    INGESTED_AT,
    NECESSITY,
    SUBJECT_ADDRESS,
    SUBJECT_CLASS,
    SUBJECT_CPR,
    SUBJECT_NAME,
    SUBJECT_SCHOOL,
    dashed,
    expected_queue,
    keys_of,
    make_event,
    personal_strings,
    raw_record_for,
    record_for,
    sealed_record,
)

NOW = dt.datetime(2026, 3, 2, 13, 6, 30, tzinfo=dt.UTC)
# Never in a routed concern. (The school reaches area groups and beredskab; the free text
# arrives scrubbed, so its raw form — which names Mikkel — never appears.)
WITHHELD_VALUES = [SUBJECT_CPR, dashed(SUBJECT_CPR), SUBJECT_NAME, SUBJECT_ADDRESS,
                   SUBJECT_CLASS, DESCRIPTION, NECESSITY, GUARDIAN_CPR,
                   dashed(GUARDIAN_CPR), GUARDIAN_NAME, "Mikkel", "Østergård"]
PERSONAL_KEYS = {"subject", "cpr", "name", "address", "class", "class_", "birth_date"}


def _output_bytes(result: Result) -> bytes:
    parts = [outcome_json(result.outcome)]
    if isinstance(result, Routed):
        parts += [concern_json(c) for c in result.concerns]
    if isinstance(result, Aggregated):
        parts.append(result.signal.model_dump_json().encode("utf-8"))
    return b"\n".join(parts)


def _routed(result: Result) -> Routed:
    assert isinstance(result, Routed), result.outcome
    return result


def _quarantined(result: Result) -> Quarantined:
    assert isinstance(result, Quarantined), result.outcome
    return result


# -- a routed concern ----------------------------------------------------------------------
def test_routed_concern_carries_exactly_the_disclosed_facts(
        pipeline: Pipeline, pseudonymiser: Pseudonymiser, shipped_policy: Policy) -> None:
    event = make_event("police", category="crime", area="praestoe", severity="high",
                       consent="sought", occurred_at="2026-03-02T14:05:00+01:00")

    result = _routed(pipeline.process(record_for(pipeline.cipher, event), NOW))

    assert len(result.concerns) == 1
    concern = result.concerns[0]
    assert str(concern.event_id) == event["event_id"]
    assert concern.queue == "omraade-praestoe"
    assert concern.pseudonym == pseudonymiser(SUBJECT_CPR)
    assert concern.pseudonym.startswith("ssp1:")
    # An area group is shown the age band and the year group, not the age and the class.
    assert (concern.age, concern.age_band) == (None, "15-17")  # 16: born 2010-02-01
    assert concern.year_group == 8  # the class is 8.b
    assert "subject.age" not in concern.disclosed
    assert {"subject.age_band", "subject.year_group"} <= set(concern.disclosed)
    assert (concern.category, concern.area, concern.severity) == ("crime", "praestoe", "high")
    assert concern.occurred_at == dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)
    assert (concern.source.agency, concern.source.unit) == ("police", "Vordingborg Politi")
    assert concern.consent == "sought"
    assert concern.collaboration == "SSP"
    assert concern.policy_version == shipped_policy.version
    assert concern.rule_ids == ["route-area-group"]
    assert concern.withheld == ["subject.cpr", "subject.name", "subject.address",
                                "subject.class"]
    assert concern.school == SUBJECT_SCHOOL  # kept for area groups
    assert concern.related_persons is not None
    assert [(p.role, p.pseudonym) for p in concern.related_persons] == [
        ("guardian", pseudonymiser(GUARDIAN_CPR))]
    assert concern.description is not None
    assert concern.necessity is not None
    assert "[person 1]" in concern.description
    assert "Mikkel" not in concern.description + concern.necessity
    assert concern.flags == []


def test_routed_outcome_names_the_queues_and_the_policy(pipeline: Pipeline,
                                                        shipped_policy: Policy) -> None:
    event = make_event("social", category="extremism", area="stege")

    outcome = _routed(pipeline.process(record_for(pipeline.cipher, event), NOW)).outcome

    assert outcome.status is OutcomeStatus.routed
    assert outcome.event_id == event["event_id"]
    assert outcome.agency == "social"
    assert outcome.queues == ["infohus"]
    assert outcome.reason is None
    assert outcome.policy_version == shipped_policy.version
    assert outcome.ingested_at == dt.datetime.fromisoformat(INGESTED_AT)
    assert outcome.decided_at == NOW
    assert parse_outcome(outcome_json(outcome)) == outcome


def test_routed_concern_json_holds_no_personal_data(pipeline: Pipeline) -> None:
    event = make_event("police", category="crime", area="stege")

    result = _routed(pipeline.process(record_for(pipeline.cipher, event), NOW))

    for concern in result.concerns:
        raw = concern_json(concern)
        text = raw.decode("utf-8")
        for value in WITHHELD_VALUES:
            assert value not in text, value
        assert PERSONAL_KEYS.isdisjoint(keys_of(json.loads(raw)))
    assert not any(v in outcome_json(result.outcome).decode() for v in WITHHELD_VALUES)


def test_same_cpr_with_or_without_dash_gets_one_pseudonym(pipeline: Pipeline) -> None:
    plain = make_event("school", category="wellbeing")
    with_dash = make_event("police", category="crime")
    with_dash["subject"]["cpr"] = dashed(SUBJECT_CPR)

    first = _routed(pipeline.process(record_for(pipeline.cipher, plain), NOW))
    second = _routed(pipeline.process(record_for(pipeline.cipher, with_dash), NOW))

    assert first.concerns[0].pseudonym == second.concerns[0].pseudonym


def test_pseudonym_changes_with_the_key_ring(pipeline: Pipeline,
                                             shipped_policy: Policy) -> None:
    ring = new_keyring()
    other = Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"), shipped_policy)
    event = make_event("school", category="wellbeing")

    mine = _routed(pipeline.process(record_for(pipeline.cipher, event), NOW))
    theirs = _routed(other.process(record_for(other.cipher, event), NOW))

    assert mine.concerns[0].pseudonym != theirs.concerns[0].pseudonym


@pytest.mark.parametrize(("occurred_at", "age"), [
    ("2026-01-31T23:59:00+01:00", 15),
    ("2026-02-01T00:00:00+01:00", 16),
    ("2026-01-31T23:30:00-01:00", 15),  # 1 February in UTC, still 31 January where it happened
])
def test_age_is_whole_years_on_the_local_date_it_occurred(pipeline: Pipeline,
                                                          occurred_at: str, age: int) -> None:
    # group_conflict → SSP-beredskabet, which is shown the exact age.
    event = make_event("school", category="group_conflict", occurred_at=occurred_at)

    assert _routed(pipeline.process(record_for(pipeline.cipher, event), NOW)).concerns[0].age \
        == age


def test_each_queue_gets_the_age_and_class_its_policy_treatment_says(
        pipeline: Pipeline) -> None:
    # Acute crime at 16: the area group (band, year group) and underretning (exact age).
    event = make_event("school", category="crime", area="stege", severity="acute")

    concerns = {c.queue: c for c in
                _routed(pipeline.process(record_for(pipeline.cipher, event), NOW)).concerns}

    area, child = concerns["omraade-stege"], concerns["underretning"]
    assert (area.age, area.age_band, area.year_group) == (None, "15-17", 8)
    assert (child.age, child.age_band, child.year_group) == (16, None, None)
    assert "subject.age" in child.disclosed
    assert "subject.year_group" not in child.disclosed
    for concern in (area, child):
        assert "8.b" not in concern_json(concern).decode()
        assert "subject.class" in concern.withheld  # the class itself never leaves


@pytest.mark.parametrize(("school_class", "year"), [
    ("8.b", 8), ("0.a", 0), ("10 x", 10), ("modtagerklasse", None), ("12.b", None)])
def test_a_class_the_hub_cannot_read_as_a_year_group_is_withheld(
        pipeline: Pipeline, school_class: str, year: int | None) -> None:
    event = make_event("school", category="wellbeing", area="stege")
    event["subject"]["class"] = school_class

    [concern] = _routed(pipeline.process(record_for(pipeline.cipher, event), NOW)).concerns

    assert concern.year_group == year
    assert ("subject.year_group" in concern.disclosed) is (year is not None)
    assert school_class not in concern_json(concern).decode()


def test_an_age_outside_every_band_is_not_shown_at_all(shipped_policy: Policy,
                                                       pipeline: Pipeline) -> None:
    bands = shipped_policy.doc.generalise.model_copy(update={"age_bands": [(0, 11), (12, 14)]})
    doc = shipped_policy.doc.model_copy(update={"generalise": bands})
    narrow = Pipeline(pipeline.cipher, pipeline.pseudonymise, Policy(doc, "test"),
                      pipeline.scrub)
    event = make_event("school", category="wellbeing", area="stege")  # 16 years old

    [concern] = _routed(narrow.process(record_for(narrow.cipher, event), NOW)).concerns

    assert (concern.age, concern.age_band) == (None, None)
    assert not {"subject.age", "subject.age_band"} & set(concern.disclosed)


def test_event_before_the_subjects_birth_is_quarantined_not_a_crash(
        pipeline: Pipeline) -> None:
    event = make_event("school", category="wellbeing", occurred_at="2009-06-01T10:00:00+02:00")

    result = pipeline.process(raw_record_for(pipeline.cipher, event, "school"), NOW)

    assert isinstance(result, Quarantined | Rejected)


# -- rejected ------------------------------------------------------------------------------
@pytest.mark.parametrize("category", ["crime", "extremism", "group_conflict"])
def test_investigation_purpose_is_rejected(pipeline: Pipeline, category: str) -> None:
    event = make_event("police", purpose="investigation", category=category)

    result = pipeline.process(record_for(pipeline.cipher, event), NOW)

    assert isinstance(result, Rejected)
    assert result.outcome.status is OutcomeStatus.rejected
    assert result.outcome.reason == "purpose_not_permitted"
    assert result.outcome.queues == []
    assert "purpose-not-investigation" in result.outcome.rule_ids


def test_raw_signal_is_aggregated_and_reaches_no_queue(pipeline: Pipeline) -> None:
    event = make_event("school", kind="school_absence", category="school_absence")

    result = pipeline.process(record_for(pipeline.cipher, event), NOW)

    assert isinstance(result, Aggregated)
    assert result.outcome.status == "aggregated"
    assert result.outcome.queues == []
    assert result.outcome.rule_ids == ["absence-unexcused-days"]
    signal = result.signal
    assert signal.pseudonym == pipeline.pseudonymise(normalise_cpr(event["subject"]["cpr"]))
    assert signal.counts  # no absence detail: one registered day of absence
    out = _output_bytes(result).decode("utf-8")
    for value in personal_strings(event):
        assert value not in out, value


def test_excused_absence_is_seen_but_not_counted(pipeline: Pipeline) -> None:
    event = make_event("school", kind="school_absence", category="school_absence")
    event["absence"] = {"date": "2026-03-03", "lessons": 6, "excused": True}

    result = pipeline.process(record_for(pipeline.cipher, event), NOW)

    assert isinstance(result, Aggregated)
    assert (result.signal.day.isoformat(), result.signal.counts) == ("2026-03-03", False)


def test_a_signal_the_policy_does_not_aggregate_is_rejected(keyring: KeyRing) -> None:
    policy = load_policy(DATA / "only-crime.yaml")  # no `signals` section
    only = Pipeline(PayloadCipher(keyring), Pseudonymiser(keyring, "ssp"), policy)
    event = make_event("police", kind="police_registration", category="insecurity")

    result = only.process(record_for(only.cipher, event), NOW)

    assert isinstance(result, Rejected)
    assert result.outcome.reason == "signal_not_aggregated"


def test_a_refused_signal_is_rejected_not_aggregated(pipeline: Pipeline) -> None:
    event = make_event("police", kind="police_registration", category="insecurity",
                       purpose="investigation")

    result = pipeline.process(record_for(pipeline.cipher, event), NOW)

    assert isinstance(result, Rejected)
    assert result.outcome.reason == "purpose_not_permitted"


# -- quarantined ---------------------------------------------------------------------------
@pytest.mark.parametrize("garbage", [b"", b"\x00" * 40, b"not encrypted at all",
                                     json.dumps({"cpr": SUBJECT_CPR}).encode()])
def test_garbage_bytes_are_quarantined_undecryptable(pipeline: Pipeline,
                                                     garbage: bytes) -> None:
    record = dataclasses.replace(record_for(pipeline.cipher, make_event()), value=garbage)

    result = _quarantined(pipeline.process(record, NOW))

    assert result.outcome.reason == "undecryptable"
    assert result.outcome.status is OutcomeStatus.quarantined
    assert result.record is record


def test_ciphertext_under_another_event_id_is_undecryptable(pipeline: Pipeline) -> None:
    record = record_for(pipeline.cipher, make_event("school"))
    other_id = str(uuid.uuid4()).encode()
    moved = dataclasses.replace(record, key=other_id,
                                headers={**record.headers, H_EVENT_ID: other_id})

    assert _quarantined(pipeline.process(moved, NOW)).outcome.reason == "undecryptable"


def test_ciphertext_from_another_key_ring_is_undecryptable(pipeline: Pipeline) -> None:
    record = record_for(PayloadCipher(new_keyring()), make_event("school"))

    assert _quarantined(pipeline.process(record, NOW)).outcome.reason == "undecryptable"


def test_unknown_key_version_is_quarantined_undecryptable(pipeline: Pipeline) -> None:
    record = record_for(pipeline.cipher, make_event("school"))
    record = dataclasses.replace(record, headers={**record.headers, H_KEY_ID: b"aes:9"})

    assert _quarantined(pipeline.process(record, NOW)).outcome.reason == "undecryptable"


def test_record_on_another_agencys_topic_is_quarantined(pipeline: Pipeline) -> None:
    record = dataclasses.replace(record_for(pipeline.cipher, make_event("school")),
                                 topic="ingest.police")

    result = _quarantined(pipeline.process(record, NOW))

    assert result.outcome.reason == "agency_topic_mismatch"


def test_school_cannot_smuggle_an_event_claiming_to_be_from_the_police(
        pipeline: Pipeline) -> None:
    event = make_event("police")
    record = sealed_record(pipeline.cipher, json.dumps(event).encode(),
                           event_id=event["event_id"], agency="school")

    assert _quarantined(pipeline.process(record, NOW)).outcome.reason \
        == "source_agency_mismatch"


def test_header_event_id_must_match_the_payload(pipeline: Pipeline) -> None:
    event = make_event("school")
    header_id = str(uuid.uuid4())
    record = sealed_record(pipeline.cipher, json.dumps(event).encode(), event_id=header_id,
                           agency="school")

    result = _quarantined(pipeline.process(record, NOW))

    assert result.outcome.reason == "event_id_mismatch"
    assert result.outcome.event_id == header_id


@pytest.mark.parametrize(("path", "value", "field"), [
    (("subject", "cpr"), "3102104321", "subject.cpr"),
    (("subject", "name"), "Mikkel " * 40, "subject.name"),
    (("severity",), "catastrophic-0102104321", "severity"),
    (("occurred_at",), "2026-03-02T14:05:00", "occurred_at"),
    (("source", "nickname"), "Mikke", "source.nickname"),
])
def test_valid_ciphertext_of_an_invalid_event_is_quarantined_naming_the_field(
        pipeline: Pipeline, path: tuple[str, ...], value: str, field: str) -> None:
    event = make_event("school")
    target: dict[str, Any] = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    result = _quarantined(pipeline.process(raw_record_for(pipeline.cipher, event, "school"),
                                           NOW))

    reason = result.outcome.reason or ""
    assert reason.startswith("invalid:")
    assert field in reason
    assert value not in reason
    assert "0102104321" not in reason
    assert SUBJECT_NAME not in reason
    assert result.outcome.event_id == event["event_id"]


def test_ciphertext_of_non_json_is_quarantined_invalid(pipeline: Pipeline) -> None:
    event_id = str(uuid.uuid4())
    record = sealed_record(pipeline.cipher, b"cpr=0102104321; name=Mikkel", event_id=event_id,
                           agency="school")

    reason = _quarantined(pipeline.process(record, NOW)).outcome.reason or ""

    assert reason.startswith("invalid:")
    assert "0102104321" not in reason
    assert "Mikkel" not in reason


@pytest.mark.parametrize("missing", [H_KEY_ID, H_AGENCY])
def test_missing_header_is_quarantined(pipeline: Pipeline, missing: str) -> None:
    record = record_for(pipeline.cipher, make_event("school"))
    headers = {k: v for k, v in record.headers.items() if k != missing}

    result = _quarantined(pipeline.process(dataclasses.replace(record, headers=headers), NOW))

    assert result.outcome.reason == "missing_header"


def test_missing_event_id_header_and_key_is_quarantined(pipeline: Pipeline) -> None:
    record = record_for(pipeline.cipher, make_event("school"))
    headers = {k: v for k, v in record.headers.items() if k != H_EVENT_ID}

    result = pipeline.process(dataclasses.replace(record, headers=headers, key=None), NOW)

    assert _quarantined(result).outcome.reason == "missing_header"


def test_event_id_falls_back_to_the_record_key(pipeline: Pipeline) -> None:
    event = make_event("school", category="wellbeing")
    record = record_for(pipeline.cipher, event)
    headers = {k: v for k, v in record.headers.items() if k != H_EVENT_ID}
    keyed = dataclasses.replace(record, headers=headers, key=event["event_id"].encode())

    assert isinstance(pipeline.process(keyed, NOW), Routed)


def test_missing_ingested_at_is_not_a_reason_to_quarantine(pipeline: Pipeline) -> None:
    record = record_for(pipeline.cipher, make_event("school", category="wellbeing"))
    headers = {k: v for k, v in record.headers.items() if k != H_INGESTED_AT}

    result = _routed(pipeline.process(dataclasses.replace(record, headers=headers), NOW))

    assert result.outcome.ingested_at is None


def test_quarantine_keeps_the_ciphertext_and_discloses_nothing(pipeline: Pipeline) -> None:
    event = make_event("school")
    record = dataclasses.replace(record_for(pipeline.cipher, event), topic="ingest.social")

    result = _quarantined(pipeline.process(record, NOW))

    assert result.record.value == record.value
    assert result.outcome.queues == []
    assert not any(v in outcome_json(result.outcome).decode() for v in WITHHELD_VALUES)


# -- de-duplication inside a batch ---------------------------------------------------------
def _bare(event_id: str | None, key: str | None, tag: bytes) -> IngestRecord:
    headers = {H_EVENT_ID: event_id.encode()} if event_id else {}
    return IngestRecord(topic="ingest.school", key=key.encode() if key else None, value=tag,
                        headers=headers)


def test_dedupe_batch_keeps_the_first_record_per_event_id() -> None:
    a1, b, a2, c, b2 = (_bare("a", "a", b"a1"), _bare("b", "b", b"b"), _bare("a", "a", b"a2"),
                        _bare("c", "c", b"c"), _bare("b", "b", b"b2"))

    kept = dedupe_batch([a1, b, a2, c, b2])

    assert [r.value for r in kept] == [b"a1", b"b", b"c"]
    assert kept[0] is a1


def test_dedupe_batch_uses_the_key_when_the_header_is_missing() -> None:
    kept = dedupe_batch([_bare(None, "a", b"1"), _bare(None, "a", b"2"), _bare(None, "b", b"3")])

    assert [r.value for r in kept] == [b"1", b"3"]


def test_dedupe_batch_keeps_records_without_any_identity() -> None:
    kept = dedupe_batch([_bare(None, None, b"1"), _bare(None, None, b"2")])

    assert [r.value for r in kept] == [b"1", b"2"]


def test_dedupe_batch_of_nothing_is_nothing() -> None:
    assert dedupe_batch([]) == []


# -- the demo's sample events --------------------------------------------------------------
SAMPLES = sample_events()


def test_sample_events_cover_all_agencies_categories_and_areas() -> None:
    assert {a for a, _ in SAMPLES} == {"school", "social", "police"}
    assert {str(e["category"]) for _, e in SAMPLES} >= {
        "crime", "substance_abuse", "school_absence", "group_conflict", "insecurity",
        "extremism", "radicalisation", "honour_related_conflict", "negative_social_control",
        "wellbeing"}
    assert {str(e["area"]) for _, e in SAMPLES} == {"praestoe", "stege", "vordingborg", "other"}


@pytest.mark.parametrize(("agency", "event"), SAMPLES,
                         ids=[str(e["event_id"])[:8] for _, e in SAMPLES])
def test_every_sample_event_yields_one_result_without_personal_data(
        pipeline: Pipeline, agency: str, event: dict[str, Any]) -> None:
    result = pipeline.process(record_for(pipeline.cipher, event), NOW)

    assert isinstance(result, Routed | Rejected | Quarantined | Aggregated)
    assert result.outcome.event_id == event["event_id"]
    assert result.outcome.agency == agency
    if event["purpose"] != "crime_prevention":
        assert isinstance(result, Rejected)
    elif event["kind"] != "concern":
        assert isinstance(result, Aggregated | Rejected)
    if isinstance(result, Routed):
        routed = result
        assert [c.queue for c in routed.concerns] == routed.outcome.queues
        assert routed.outcome.queues[0] == expected_queue(str(event["category"]),
                                                          str(event["area"]))
        assert set(routed.outcome.queues[1:]) <= {"opsoegende", "underretning"}
        subject: dict[str, Any] = event["subject"]
        assert routed.concerns[0].pseudonym == pipeline.pseudonymise(
            normalise_cpr(subject["cpr"]))
    if isinstance(result, Rejected):
        assert result.outcome.reason in {
            "purpose_not_permitted", "signal_not_aggregated", "collaboration_not_configured",
            "outside_target_group", "consent_refused", "necessity_not_stated"}
    out = _output_bytes(result).decode("utf-8")
    for value in personal_strings(event):
        assert value not in out, value
