"""The canonical event v1 (DESIGN.md §6, issue 2 item 2): shape, enums, CPR, JSON Schema files."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.cpr import InvalidCpr, age_at, birth_date, normalise_cpr
from schemas.events import (
    Agency,
    Area,
    CanonicalEvent,
    Category,
    Collaboration,
    Consent,
    Kind,
    Purpose,
    Severity,
)
from schemas.export import JSON_DIR, MODELS, render
from tests.unit.factories import SUBJECT_CPR, design_example, modulus11_ok


def _errors(event: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        CanonicalEvent.model_validate(event)
    return [dict(e) for e in info.value.errors()]


def _locs(event: dict[str, Any]) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in _errors(event)}


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    event = design_example()
    target = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return event


# -- shape ---------------------------------------------------------------------------------
def test_design_example_is_a_valid_canonical_event() -> None:
    event = CanonicalEvent.model_validate(design_example())

    assert event.schema_version == 1
    assert event.kind is Kind.concern
    assert event.source.agency is Agency.school
    assert event.subject.cpr == SUBJECT_CPR
    assert event.subject.class_ == "8.b"
    assert event.related_persons[0].role == "guardian"
    assert event.occurred_at == dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)


def test_event_dumps_back_to_the_wire_names() -> None:
    dumped = json.loads(CanonicalEvent.model_validate(design_example())
                        .model_dump_json(by_alias=True))

    assert dumped["subject"]["class"] == "8.b"
    assert "class_" not in dumped["subject"]
    assert CanonicalEvent.model_validate(dumped) == CanonicalEvent.model_validate(design_example())


@pytest.mark.parametrize("optional", ["related_persons", "description", "necessity"])
def test_optional_top_level_fields_may_be_left_out(optional: str) -> None:
    event = design_example()
    del event[optional]

    CanonicalEvent.model_validate(event)


@pytest.mark.parametrize("optional", ["name", "address", "school", "class"])
def test_subject_needs_only_a_cpr(optional: str) -> None:
    event = design_example()
    del event["subject"][optional]

    CanonicalEvent.model_validate(event)


@pytest.mark.parametrize("required", [
    "event_id", "schema_version", "kind", "occurred_at", "source", "collaboration", "purpose",
    "subject", "category", "area", "severity", "consent",
])
def test_required_field_missing_is_rejected(required: str) -> None:
    event = design_example()
    del event[required]

    assert (required,) in _locs(event)


@pytest.mark.parametrize(("where", "loc"), [
    ((), ("nickname",)),
    (("subject",), ("subject", "nickname")),
    (("source",), ("source", "nickname")),
])
def test_unknown_fields_are_rejected_not_ignored(where: tuple[str, ...],
                                                 loc: tuple[str, ...]) -> None:
    event = design_example()
    target: dict[str, Any] = event
    for part in where:
        target = target[part]
    target["nickname"] = "Mikke"

    errors = _errors(event)
    assert [(tuple(e["loc"]), e["type"]) for e in errors] == [(loc, "extra_forbidden")]


def test_unknown_field_in_a_related_person_is_rejected() -> None:
    event = design_example()
    event["related_persons"][0]["phone"] = "55 36 36 36"

    assert ("related_persons", 0, "phone") in _locs(event)


def test_subject_rejects_the_python_attribute_name_class_() -> None:
    event = design_example()
    event["subject"]["class_"] = event["subject"].pop("class")

    assert ("subject", "class_") in _locs(event)


def test_schema_version_other_than_1_is_rejected() -> None:
    assert ("schema_version",) in _locs(_with(("schema_version",), 2))


# -- enums ---------------------------------------------------------------------------------
ENUM_FIELDS: list[tuple[tuple[str, ...], type[Any]]] = [
    (("kind",), Kind),
    (("collaboration",), Collaboration),
    (("purpose",), Purpose),
    (("category",), Category),
    (("area",), Area),
    (("severity",), Severity),
    (("consent",), Consent),
    (("source", "agency"), Agency),
]


@pytest.mark.parametrize(("path", "enum"), ENUM_FIELDS, ids=lambda v: ".".join(v)
                         if isinstance(v, tuple) else v.__name__)
def test_every_enum_value_is_accepted(path: tuple[str, ...], enum: type[Any]) -> None:
    for member in enum:
        CanonicalEvent.model_validate(_with(path, member.value))


@pytest.mark.parametrize("bad", ["unknown", "", "CRIME", "ssp", "Stege", " "])
@pytest.mark.parametrize(("path", "enum"), ENUM_FIELDS, ids=lambda v: ".".join(v)
                         if isinstance(v, tuple) else v.__name__)
def test_every_enum_rejects_unknown_values(path: tuple[str, ...], enum: type[Any],
                                           bad: str) -> None:
    assert bad not in {m.value for m in enum}

    assert path in _locs(_with(path, bad))


def test_enums_hold_exactly_the_values_of_design_md() -> None:
    assert {k.value for k in Kind} == {"concern", "school_absence", "police_registration"}
    assert {c.value for c in Collaboration} == {"SSP", "SSP+", "PSP", "KSP"}
    assert {p.value for p in Purpose} == {"crime_prevention", "investigation"}
    assert {c.value for c in Category} == {
        "crime", "substance_abuse", "school_absence", "group_conflict", "insecurity",
        "extremism", "radicalisation", "honour_related_conflict", "negative_social_control",
        "wellbeing",
    }
    assert {a.value for a in Area} == {"praestoe", "stege", "vordingborg", "other"}
    assert {c.value for c in Consent} == {"sought", "given", "refused", "overridden",
                                          "not_sought"}
    assert {a.value for a in Agency} == {"school", "social", "police"}


# -- occurred_at ---------------------------------------------------------------------------
@pytest.mark.parametrize("naive", ["2026-03-02T14:05:00", "2026-03-02 14:05", "2026-03-02"])
def test_occurred_at_without_offset_is_rejected(naive: str) -> None:
    assert ("occurred_at",) in _locs(_with(("occurred_at",), naive))


@pytest.mark.parametrize("aware", ["2026-03-02T14:05:00Z", "2026-03-02T14:05:00+02:00",
                                   "2026-03-02T14:05:00.123-05:30"])
def test_occurred_at_with_offset_is_accepted(aware: str) -> None:
    event = CanonicalEvent.model_validate(_with(("occurred_at",), aware))

    assert event.occurred_at.utcoffset() is not None


# -- CPR -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "normalised"), [
    ("0102104321", "0102104321"),
    ("010210-4321", "0102104321"),
    (" 010210-4321 ", "0102104321"),
])
def test_cpr_is_accepted_with_and_without_dash(given: str, normalised: str) -> None:
    assert normalise_cpr(given) == normalised
    event = CanonicalEvent.model_validate(_with(("subject", "cpr"), given))
    assert event.subject.cpr == normalised


@pytest.mark.parametrize("bad", [
    "3102104321",   # 31 February
    "0013104321",   # month 13
    "0000104321",   # day 0
    "2902014321",   # 29 February 2001, not a leap year
    "0101575000",   # 1 January 2057: not born yet
    "010210432",    # 9 digits
    "01021043210",  # 11 digits
    "01021O4321",   # letter O
    "0102104321x",
    "",
])
def test_invalid_cpr_is_rejected(bad: str) -> None:
    with pytest.raises(InvalidCpr):
        normalise_cpr(bad)
    assert ("subject", "cpr") in _locs(_with(("subject", "cpr"), bad))


def test_invalid_related_person_cpr_is_rejected() -> None:
    event = design_example()
    event["related_persons"][0]["cpr"] = "3102104321"

    assert ("related_persons", 0, "cpr") in _locs(event)


@pytest.mark.parametrize("cpr", ["0102104321", "1403114127", "0302105585"])
def test_cpr_that_fails_modulus_11_but_has_a_valid_date_is_accepted(cpr: str) -> None:
    assert not modulus11_ok(cpr)  # the premise: these fail the pre-2007 check

    assert normalise_cpr(cpr) == cpr


def test_cpr_that_passes_modulus_11_is_accepted_too() -> None:
    assert modulus11_ok("2110625629")

    assert normalise_cpr("211062-5629") == "2110625629"


@pytest.mark.parametrize(("cpr", "born"), [
    ("0102104321", dt.date(2010, 2, 1)),   # 4 with YY 10 < 37 → 20xx
    ("0102800321", dt.date(1980, 2, 1)),   # 0-3 → 19xx
    ("0102363321", dt.date(1936, 2, 1)),   # 0-3 → 19xx even for small YY
    ("0102404321", dt.date(1940, 2, 1)),   # 4 with YY >= 37 → 19xx
    ("0102379321", dt.date(1937, 2, 1)),   # 9 with YY = 37 → 19xx
    ("0102369321", dt.date(2036, 2, 1)),   # 9 with YY = 36 → 20xx
    ("0102059321", dt.date(2005, 2, 1)),   # 9 with YY < 37 → 20xx
    ("0102125321", dt.date(2012, 2, 1)),   # 5-8 with YY < 58 → 20xx
    ("0102608321", dt.date(1860, 2, 1)),   # 5-8 with YY >= 58 → 18xx
])
def test_seventh_digit_decides_the_century(cpr: str, born: dt.date) -> None:
    assert birth_date(cpr) == born


def test_cpr_of_someone_not_yet_born_is_rejected() -> None:
    assert birth_date("0102369321") > dt.date.today()
    with pytest.raises(InvalidCpr):
        normalise_cpr("0102369321")


@pytest.mark.parametrize(("when", "age"), [
    (dt.date(2026, 1, 31), 15),  # the day before the 16th birthday
    (dt.date(2026, 2, 1), 16),   # the birthday
    (dt.date(2026, 2, 2), 16),
    (dt.date(2026, 12, 31), 16),
    (dt.date(2027, 1, 31), 16),
    (dt.date(2010, 2, 1), 0),    # the day of birth
    (dt.date(2011, 1, 31), 0),
])
def test_age_at_counts_whole_years_around_the_birthday(when: dt.date, age: int) -> None:
    assert age_at("0102104321", when) == age


@pytest.mark.parametrize(("when", "age"), [
    (dt.date(2026, 2, 27), 17),
    (dt.date(2026, 3, 1), 18),
    (dt.date(2028, 2, 29), 20),
])
def test_age_of_a_leap_day_child_is_unambiguous_off_28_february(when: dt.date,
                                                                age: int) -> None:
    assert birth_date("2902084321") == dt.date(2008, 2, 29)
    assert age_at("2902084321", when) == age


@pytest.mark.parametrize("bad", [
    "3102104321", "310210-4321", "0013104321", "01021O4321", "0101575000", "01021043210",
])
def test_cpr_error_messages_never_contain_the_digits(bad: str) -> None:
    digits = bad.replace("-", "")
    with pytest.raises(InvalidCpr) as info:
        normalise_cpr(bad)
    assert digits[:6] not in str(info.value)
    assert digits[6:] not in str(info.value)

    for error in _errors(_with(("subject", "cpr"), bad)):
        assert digits[:6] not in error["msg"]
        assert digits[6:] not in error["msg"]


def test_birth_date_error_never_contains_the_digits() -> None:
    with pytest.raises(InvalidCpr) as info:
        birth_date("3102104321")
    assert "310210" not in str(info.value)


# -- JSON Schema files ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_json_schema_file_is_current(name: str) -> None:
    on_disk = (JSON_DIR / name).read_text(encoding="utf-8")

    assert on_disk == render(MODELS[name]), f"run `python -m schemas.export` ({name} is stale)"


def test_no_stale_json_schema_files() -> None:
    assert {p.name for p in JSON_DIR.glob("*.json")} == set(MODELS)


def test_exported_event_schema_forbids_unknown_fields_at_every_level() -> None:
    schema = json.loads(render(CanonicalEvent))

    assert schema["additionalProperties"] is False
    for name in ("Source", "Subject", "RelatedPerson"):
        assert schema["$defs"][name]["additionalProperties"] is False
    assert "class" in schema["$defs"]["Subject"]["properties"]



# -- signal detail (additive to v1) -----------------------------------------------------------
def test_absence_detail_is_accepted_with_a_school_absence_signal() -> None:
    event = {**design_example(), "kind": "school_absence", "category": "school_absence",
             "absence": {"date": "2026-03-02", "lessons": 6, "excused": False}}

    parsed = CanonicalEvent.model_validate(event)

    assert parsed.absence is not None
    assert (parsed.absence.date, parsed.absence.lessons, parsed.absence.excused) == (
        dt.date(2026, 3, 2), 6, False)


def test_registration_detail_is_accepted_with_a_police_registration_signal() -> None:
    event = {**design_example(), "kind": "police_registration", "category": "insecurity",
             "registration": {"place": "Stege Havn"}}

    assert CanonicalEvent.model_validate(event).registration is not None


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("concern", "absence", {"date": "2026-03-02", "excused": False}),
    ("police_registration", "absence", {"date": "2026-03-02", "excused": False}),
    ("concern", "registration", {"place": "Stege Havn"}),
    ("school_absence", "registration", {"place": "Stege Havn"}),
])
def test_signal_detail_is_refused_with_another_kind(kind: str, field: str, value: Any) -> None:
    event = {**design_example(), "kind": kind, field: value}

    with pytest.raises(ValidationError, match=f"{field} is only allowed"):
        CanonicalEvent.model_validate(event)


@pytest.mark.parametrize("absence", [
    {"date": "2026-03-02"},                                  # excused missing
    {"date": "2. marts", "excused": False},                  # not a date
    {"date": "2026-03-02", "excused": False, "lessons": 13},  # more than a school day
    {"date": "2026-03-02", "excused": False, "reason": "syg"},  # unknown field
])
def test_malformed_absence_names_the_field(absence: dict[str, Any]) -> None:
    event = {**design_example(), "kind": "school_absence", "absence": absence}

    assert any(loc[0] == "absence" for loc in _locs(event))
