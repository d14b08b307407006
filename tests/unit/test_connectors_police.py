"""Police connector (issue 5 §1): døgnrapport entries as JSON Lines — incidents become
concerns, registrations of named young people become police_registration signals."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import connectors
from connectors.base import NOT_CPR, Mapped, Refused, Result
from connectors.police import DEFAULT_UNIT, REGISTRATION_NECESSITY, PoliceDoegnrapport
from schemas.events import Agency, Area, Category, Collaboration, Consent, Kind, Severity

SAMPLES = Path(connectors.__file__).parent / "samples"
POLICE = PoliceDoegnrapport()
SAMPLE = (SAMPLES / "doegnrapport-2026-03-02.jsonl").read_bytes()
YOUNG = "0104124117"
YOUNG_NAME = "Oliver Holm Madsen"


def mapped(results: list[Result]) -> list[Mapped]:
    return [r for r in results if isinstance(r, Mapped)]


def refused(results: list[Result]) -> list[Refused]:
    return [r for r in results if isinstance(r, Refused)]


def incident(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "journalnr": "0800-80731-00413-26", "type": "haendelse",
        "tidspunkt": "2026-03-02T21:15:00+01:00", "enhed": "Lokalpolitiet Vordingborg",
        "person": {"cpr": YOUNG, "navn": YOUNG_NAME}, "kategori": "gruppekonflikt",
        "sted": "Stege Bycenter", "omraade": "stege", "alvor": "middel",
        "beskrivelse": "Slagsmål mellem to grupper.", "noedvendighed": "SSP skal kende det.",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def registration(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "journalnr": "0800-80731-00412-26", "type": "registrering",
        "tidspunkt": "2026-03-02T19:40:00+01:00", "person": {"cpr": YOUNG, "navn": YOUNG_NAME},
        "sted": "Stege Havn", "omraade": "stege",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def jsonl(*entries: Any, newline: str = "\n") -> bytes:
    return (newline.join(json.dumps(e, ensure_ascii=False) for e in entries)
            + newline).encode("utf-8")


def one(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# -- the sample døgnrapport --------------------------------------------------------------------

SAMPLE_REFUSALS = [
    (9, "person.cpr"),
    (10, "tidspunkt"),
    (11, "kategori"),
    (12, "<line>"),
]


def test_sample_maps_8_and_refuses_4() -> None:
    results = POLICE.parse(SAMPLE)
    assert Counter(type(r).__name__ for r in results) == {"Mapped": 8, "Refused": 4}
    assert [(r.line, r.field) for r in refused(results)] == SAMPLE_REFUSALS
    assert refused(results)[-1].reason == "not valid JSON"


@pytest.mark.parametrize(("line", "fld"), SAMPLE_REFUSALS[:3])
def test_sample_refusals_echo_nothing(line: int, fld: str) -> None:
    entry = json.loads(SAMPLE.splitlines()[line - 1])
    [refusal] = [r for r in refused(POLICE.parse(SAMPLE)) if r.line == line]
    assert refusal.field == fld
    for secret in (entry["person"]["cpr"], entry["person"]["navn"], entry["journalnr"],
                   entry.get("kategori", ""), *entry["person"]["navn"].split()):
        assert not secret or secret not in refusal.reason


def test_sample_has_three_distinct_young_people_registered_in_one_area() -> None:
    events = [m.event for m in mapped(POLICE.parse(SAMPLE))]
    registrations = [e for e in events if e.kind is Kind.police_registration]
    in_stege = {e.subject.cpr for e in registrations if e.area is Area.stege}
    times = [e.occurred_at for e in registrations if e.area is Area.stege]
    assert len(in_stege) >= 3
    assert max(times) - min(times) < dt.timedelta(days=7)
    assert {e.kind for e in events} == {Kind.concern, Kind.police_registration}
    assert all(e.source.agency is Agency.police for e in events)


def test_an_incident_is_a_concern() -> None:
    result = one(POLICE.parse(jsonl(incident())))
    assert isinstance(result, Mapped)
    assert result.line == 1
    e = result.event
    assert e.kind is Kind.concern
    assert e.source.model_dump() == {"agency": Agency.police, "system": "døgnrapport",
                                     "unit": "Lokalpolitiet Vordingborg"}
    assert (e.subject.cpr, e.subject.name) == (YOUNG, YOUNG_NAME)
    assert (e.category, e.area, e.severity, e.consent) == (
        Category.group_conflict, Area.stege, Severity.medium, Consent.not_sought)
    assert e.collaboration is Collaboration.SSP
    assert e.description == "Sted: Stege Bycenter. Slagsmål mellem to grupper."
    assert e.necessity == "SSP skal kende det."
    assert e.occurred_at.isoformat() == "2026-03-02T21:15:00+01:00"
    assert e.registration is None


def test_a_registration_is_a_police_registration_signal() -> None:
    result = one(POLICE.parse(jsonl(registration())))
    assert isinstance(result, Mapped)
    e = result.event
    assert e.kind is Kind.police_registration
    assert (e.category, e.severity, e.area, e.consent) == (
        Category.insecurity, Severity.low, Area.stege, Consent.not_sought)
    assert e.registration is not None
    assert e.registration.place == "Stege Havn"
    assert e.source.unit == DEFAULT_UNIT
    assert e.necessity == REGISTRATION_NECESSITY
    assert e.description == ""


def test_a_registration_ignores_kategori_and_alvor_but_keeps_its_own_necessity() -> None:
    result = one(POLICE.parse(jsonl(registration(kategori="kriminalitet", alvor="akut",
                                                 noedvendighed="Egen begrundelse."))))
    assert isinstance(result, Mapped)
    assert (result.event.category, result.event.severity) == (Category.insecurity, Severity.low)
    assert result.event.necessity == "Egen begrundelse."


@pytest.mark.parametrize(("danish", "area"), [
    ("præstø", Area.praestoe), ("PRÆSTØ", Area.praestoe), ("praestoe", Area.praestoe),
    ("stege", Area.stege), ("vordingborg", Area.vordingborg), ("andet", Area.other),
])
def test_danish_area_names(danish: str, area: Area) -> None:
    for entry in (incident(omraade=danish), registration(omraade=danish)):
        result = one(POLICE.parse(jsonl(entry)))
        assert isinstance(result, Mapped)
        assert result.event.area is area


@pytest.mark.parametrize(("danish", "category"), [
    ("kriminalitet", Category.crime), ("rusmidler", Category.substance_abuse),
    ("utryghed", Category.insecurity), ("ekstremisme", Category.extremism),
    ("negativ social kontrol", Category.negative_social_control),
])
def test_incident_categories(danish: str, category: Category) -> None:
    result = one(POLICE.parse(jsonl(incident(kategori=danish))))
    assert isinstance(result, Mapped)
    assert result.event.category is category


@pytest.mark.parametrize(("samtykke", "consent"), [
    (..., Consent.not_sought), ("søgt", Consent.sought), ("tilsidesat", Consent.overridden),
])
def test_consent_defaults_to_not_sought(samtykke: Any, consent: Consent) -> None:
    result = one(POLICE.parse(jsonl(incident(samtykke=samtykke))))
    assert isinstance(result, Mapped)
    assert result.event.consent is consent


@pytest.mark.parametrize(("entry", "fld", "reason"), [
    (incident(journalnr=...), "journalnr", "missing"),
    (incident(type="anmeldelse"), "type", "unknown value (expected haendelse or registrering)"),
    (incident(type=...), "type", "missing"),
    (incident(tidspunkt=...), "tidspunkt", "missing"),
    (incident(tidspunkt="02-03-2026 21:15"), "tidspunkt", None),
    (incident(person=...), "person", "missing"),
    (incident(person=YOUNG), "person", "not a JSON object"),
    (incident(person={"navn": YOUNG_NAME}), "person.cpr", "missing"),
    (incident(person={"cpr": "0104124117-1", "navn": YOUNG_NAME}), "person.cpr", NOT_CPR),
    (incident(person={"cpr": 104124117}), "person.cpr", None),
    (incident(kategori="færdsel"), "kategori", None),
    (incident(kategori=...), "kategori", "missing"),
    (incident(alvor=...), "alvor", "missing"),
    (incident(omraade="Nykøbing"), "omraade", None),
    (incident(omraade=...), "omraade", "missing"),
    (incident(samtykke="måske"), "samtykke", None),
    (registration(sted=...), "sted", "missing"),
    (registration(sted="Havnen " * 40), "sted", None),
    (registration(tidspunkt="2012-01-01T10:00:00+01:00"), "tidspunkt",
     "lies before the birth date given by person.cpr"),
])
def test_refusals_name_the_source_field(entry: dict[str, Any], fld: str,
                                        reason: str | None) -> None:
    result = one(POLICE.parse(jsonl(entry)))
    assert isinstance(result, Refused), result
    assert (result.line, result.field) == (1, fld)
    if reason is not None:
        assert result.reason == reason
    for secret in (YOUNG, YOUNG_NAME, "Oliver", "anmeldelse", "færdsel", "Nykøbing", "måske",
                   "Havnen", "0800-80731", "02-03-2026"):
        assert secret not in result.reason


def test_line_numbers_are_physical_lines_and_bad_lines_refuse_only_themselves() -> None:
    data = b"".join([
        jsonl(registration()),                                 # 1
        b"\n",                                                 # 2 blank
        jsonl(incident()),                                     # 3
        b'{"journalnr": "x", "person": {"cpr": "\xff\xfe"}}\n',  # 4 not UTF-8
        b"[1, 2]\n",                                           # 5 not an object
        b'{"journalnr": \n',                                   # 6 cut off
        jsonl(registration(journalnr="0800-80731-00999-26")),  # 7
    ])
    results = POLICE.parse(data)
    assert [(r.line, type(r).__name__) for r in results] == [
        (1, "Mapped"), (3, "Mapped"), (4, "Refused"), (5, "Refused"), (6, "Refused"),
        (7, "Mapped")]
    assert refused(results) == [Refused(4, "<line>", "not UTF-8 text"),
                                Refused(5, "<line>", "not a JSON object"),
                                Refused(6, "<line>", "not valid JSON")]


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_bom_and_windows_line_endings(bom: bool, newline: str) -> None:
    data = (b"\xef\xbb\xbf" if bom else b"") + jsonl(registration(), incident(), newline=newline)
    assert POLICE.parse(data) == POLICE.parse(jsonl(registration(), incident()))


def test_a_last_line_without_newline_is_read() -> None:
    assert len(mapped(POLICE.parse(jsonl(registration()).rstrip(b"\n")))) == 1


@pytest.mark.parametrize(("data", "expected"), [
    (b"", [Refused(0, "<file>", "the file is empty")]),
    (b"\n\r\n  \n", [Refused(0, "<file>", "the file is empty")]),
    (b"\xef\xbb\xbf", [Refused(0, "<file>", "the file is empty")]),
    (b"\x89PNG\r\n\x1a\n\x00\x00",
     [Refused(0, "<file>", "not a text file (it holds NUL bytes)")]),
    ("Døgnrapport\n".encode("cp1252"), [Refused(1, "<line>", "not UTF-8 text")]),
    (b"<bekymringer/>", [Refused(1, "<line>", "not valid JSON")]),
    (b"elev_cpr;dato\n0104124117;2026-03-02", [Refused(1, "<line>", "not valid JSON"),
                                               Refused(2, "<line>", "not valid JSON")]),
    (b'[{"journalnr": "1"}]', [Refused(1, "<line>", "not a JSON object")]),
])
def test_files_that_are_not_a_doegnrapport(data: bytes, expected: list[Refused]) -> None:
    assert POLICE.parse(data) == expected


def test_ids_are_per_case_kind_and_person() -> None:
    first = [m.event.event_id for m in mapped(POLICE.parse(SAMPLE))]
    assert first == [m.event.event_id for m in mapped(POLICE.parse(SAMPLE))]
    assert len(set(first)) == len(first)  # three young people in one case: three events
    base = one(POLICE.parse(jsonl(registration())))
    moved = one(POLICE.parse(jsonl(registration(sted="Stege Bycenter"))))
    other_person = one(POLICE.parse(jsonl(registration(person={"cpr": "1703094327"}))))
    as_incident = one(POLICE.parse(jsonl(incident(journalnr="0800-80731-00412-26"))))
    other_case = one(POLICE.parse(jsonl(registration(journalnr="0800-80731-00999-26"))))
    results = [base, moved, other_person, as_incident, other_case]
    assert all(isinstance(r, Mapped) for r in results)
    ids = [r.event.event_id for r in results if isinstance(r, Mapped)]
    assert ids[0] == ids[1]
    assert len({ids[0], *ids[2:]}) == 4


def test_an_unknown_field_is_not_read() -> None:
    result = one(POLICE.parse(jsonl(incident(bemaerkning="Kendt af politiet siden 2019"))))
    assert isinstance(result, Mapped)
    assert "Kendt af politiet" not in result.event.model_dump_json()
