"""School connectors (issue 5 §1): the elevadministration's absence CSV and its
bekymringsnotat JSON, mapped to canonical events v1. Real files, real parsing, no mocks."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import connectors
from connectors.base import NOT_CPR, Mapped, Refused, Result
from connectors.school import (
    ABSENCE_NECESSITY,
    SCHOOL_AREAS,
    SchoolAbsence,
    SchoolConcern,
    area_for_school,
)
from schemas.events import Agency, Area, Category, Collaboration, Consent, Kind, Severity

SAMPLES = Path(connectors.__file__).parent / "samples"
ABSENCE = SchoolAbsence()
CONCERN = SchoolConcern()
HEADER = "elev_cpr;elev_navn;skole;klasse;dato;lektioner;lovligt_fravaer"
PUPIL = "0104124117"  # born 2012-04-01 (7th digit 4: 2000-2036)
PUPIL_NAME = "Oliver Holm Madsen"


def mapped(results: list[Result]) -> list[Mapped]:
    return [r for r in results if isinstance(r, Mapped)]


def refused(results: list[Result]) -> list[Refused]:
    return [r for r in results if isinstance(r, Refused)]


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = False, crlf: bool = False) -> bytes:
    text = ("\r\n" if crlf else "\n").join([header, *rows]) + ("\r\n" if crlf else "\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def row(cpr: str = PUPIL, name: str = PUPIL_NAME, school: str = "Stege Skole",
        klasse: str = "8.a", date: str = "2026-03-03", lessons: str = "6",
        excused: str = "nej") -> str:
    return ";".join([cpr, name, school, klasse, date, lessons, excused])


def one(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# -- the sample absence export ---------------------------------------------------------------

ABSENCE_SAMPLE = (SAMPLES / "elevfravaer-2026-03.csv").read_bytes()
# line, source field, the offending value (never in the reason)
ABSENCE_REFUSALS = [
    (12, "elev_cpr", "3102124418"),
    (21, "dato", None),
    (25, "lovligt_fravaer", "syg"),
    (27, "dato", "19-03-2026"),
]


def test_absence_sample_maps_36_rows_and_refuses_4() -> None:
    results = ABSENCE.parse(ABSENCE_SAMPLE)

    assert Counter(type(r).__name__ for r in results) == {"Mapped": 36, "Refused": 4}
    assert [(r.line, r.field) for r in refused(results)] == [
        (line, fld) for line, fld, _ in ABSENCE_REFUSALS]


@pytest.mark.parametrize(("line", "fld", "value"), ABSENCE_REFUSALS)
def test_absence_sample_refusals_echo_nothing_of_the_row(line: int, fld: str,
                                                         value: str | None) -> None:
    physical = ABSENCE_SAMPLE.decode("utf-8-sig").split("\r\n")[line - 1]
    cpr, name, school, *_ = physical.split(";")
    [refusal] = [r for r in refused(ABSENCE.parse(ABSENCE_SAMPLE)) if r.line == line]

    assert refusal.field == fld
    for secret in (cpr, name, school, *(name.split()), value or cpr):
        assert secret not in refusal.reason


def test_absence_sample_has_a_pupil_over_the_threshold_and_excused_days() -> None:
    events = [m.event for m in mapped(ABSENCE.parse(ABSENCE_SAMPLE))]
    unexcused: dict[str, list[dt.date]] = {}
    for e in events:
        assert e.absence is not None
        if not e.absence.excused:
            unexcused.setdefault(e.subject.cpr, []).append(e.absence.date)
    school_days = sorted({e.absence.date for e in events if e.absence is not None})

    def crosses(days: list[dt.date]) -> bool:  # ≥ 4 unexcused days within 20 school days
        return any(sum(1 for d in days if d in school_days[i:i + 20]) >= 4
                   for i in range(len(school_days)))

    assert [cpr for cpr, days in unexcused.items() if crosses(sorted(days))] == [PUPIL]
    assert sum(1 for e in events if e.absence and e.absence.excused) >= 10


def test_absence_event_carries_the_fixed_signal_fields() -> None:
    event = one(ABSENCE.parse(csv_bytes(row())))
    assert isinstance(event, Mapped)
    e = event.event

    assert event.line == 2
    assert e.kind is Kind.school_absence
    assert e.category is Category.school_absence
    assert e.severity is Severity.low
    assert e.consent is Consent.not_sought
    assert e.collaboration is Collaboration.SSP
    assert e.purpose.value == "crime_prevention"
    assert e.necessity == ABSENCE_NECESSITY
    assert "§ 115" in e.necessity
    assert e.source.model_dump() == {"agency": Agency.school, "system": "elevadministration",
                                     "unit": "Stege Skole"}
    assert (e.subject.cpr, e.subject.name, e.subject.school, e.subject.class_) == (
        PUPIL, PUPIL_NAME, "Stege Skole", "8.a")
    assert e.area is Area.stege
    assert e.absence is not None
    assert (e.absence.date, e.absence.lessons, e.absence.excused) == (
        dt.date(2026, 3, 3), 6, False)
    assert e.occurred_at.isoformat() == "2026-03-03T08:00:00+01:00"


@pytest.mark.parametrize(("school", "area"), [
    ("Stege Skole", Area.stege),
    ("Præstø Skole", Area.praestoe),
    ("Vordingborg Skole", Area.vordingborg),
    ("  stege   SKOLE ", Area.stege),
    ("Praestoe Skole", Area.praestoe),
    ("Kalvehave Skole", Area.other),
    ("Ukendt Friskole", Area.other),
])
def test_school_to_area(school: str, area: Area) -> None:
    assert area_for_school(school) is area
    result = one(ABSENCE.parse(csv_bytes(row(school=school))))
    assert isinstance(result, Mapped)
    assert result.event.area is area


def test_the_area_table_is_the_three_area_schools() -> None:
    assert set(SCHOOL_AREAS.values()) == {Area.stege, Area.praestoe, Area.vordingborg}


@pytest.mark.parametrize(("date", "offset"), [
    ("2026-01-15", "+01:00"),
    ("2026-03-27", "+01:00"),  # Friday before summer time starts (Sunday 29 March 2026)
    ("2026-03-30", "+02:00"),  # Monday after
    ("2026-06-10", "+02:00"),
    ("2026-10-23", "+02:00"),  # Friday before winter time (Sunday 25 October 2026)
    ("2026-10-26", "+01:00"),
])
def test_absence_occurs_at_eight_copenhagen_time_with_the_right_offset(date: str,
                                                                     offset: str) -> None:
    result = one(ABSENCE.parse(csv_bytes(row(date=date))))
    assert isinstance(result, Mapped)
    assert result.event.occurred_at.isoformat() == f"{date}T08:00:00{offset}"


@pytest.mark.parametrize(("value", "excused"), [
    ("ja", True), ("nej", False), ("Ja", True), (" NEJ ", False),
])
def test_lovligt_fravaer_ja_nej(value: str, excused: bool) -> None:
    result = one(ABSENCE.parse(csv_bytes(row(excused=value))))
    assert isinstance(result, Mapped)
    assert result.event.absence is not None
    assert result.event.absence.excused is excused


@pytest.mark.parametrize(("overrides", "fld", "reason"), [
    ({"cpr": "3102124418"}, "elev_cpr", NOT_CPR),
    ({"cpr": "01041241"}, "elev_cpr", NOT_CPR),
    ({"cpr": ""}, "elev_cpr", "missing"),
    ({"school": " "}, "skole", "missing"),
    ({"date": ""}, "dato", "missing"),
    ({"date": "03-03-2026"}, "dato", "not a date (YYYY-MM-DD)"),
    ({"date": "2026-02-30"}, "dato", "not a date (YYYY-MM-DD)"),
    ({"date": "2026-03-03T08:00"}, "dato", "not a date (YYYY-MM-DD)"),
    ({"lessons": ""}, "lektioner", "missing"),
    ({"lessons": "13"}, "lektioner", "not a whole number of lessons (0-12)"),
    ({"lessons": "-4"}, "lektioner", "not a whole number of lessons (0-12)"),
    ({"lessons": "2,5"}, "lektioner", "not a whole number of lessons (0-12)"),
    ({"lessons": "٣"}, "lektioner", "not a whole number of lessons (0-12)"),
    ({"excused": "syg"}, "lovligt_fravaer", "unknown value (expected ja or nej)"),
    ({"excused": ""}, "lovligt_fravaer", "missing"),
    ({"date": "2011-06-01"}, "dato", "lies before the birth date given by elev_cpr"),
])
def test_absence_row_refusals_name_the_source_field(overrides: dict[str, str], fld: str,
                                                    reason: str) -> None:
    result = one(ABSENCE.parse(csv_bytes(row(**overrides))))
    assert result == Refused(2, fld, reason)
    for value in overrides.values():
        if value.strip():
            assert value not in result.reason


def test_optional_name_and_class_columns_may_be_left_out_and_order_is_free() -> None:
    data = csv_bytes("2026-03-03;nej;4;Stege Skole;0104124117",
                     header="dato;lovligt_fravaer;lektioner;skole;elev_cpr")
    result = one(ABSENCE.parse(data))
    assert isinstance(result, Mapped)
    assert result.event.subject.name is None
    assert result.event.subject.class_ is None
    assert result.event.absence is not None
    assert result.event.absence.lessons == 4


def test_header_names_fold_case_and_danish_letters_and_unknown_columns_are_not_read() -> None:
    header = "Elev_CPR;Elev_Navn;Skole;Klasse;Dato;Lektioner;Lovligt_Fravær;bemærkning"
    result = one(ABSENCE.parse(csv_bytes(row() + ";ondt i maven", header=header)))
    assert isinstance(result, Mapped)
    assert "ondt i maven" not in result.event.model_dump_json()


def test_a_header_without_a_required_column_is_refused_at_line_1() -> None:
    results = ABSENCE.parse(csv_bytes("0104124117;Stege Skole;2026-03-03",
                                      header="elev_cpr;skole;dato"))
    assert results == [Refused(1, "lektioner", "column missing from the header"),
                       Refused(1, "lovligt_fravaer", "column missing from the header")]


def test_a_comma_separated_file_is_not_this_format() -> None:
    result = one(ABSENCE.parse(csv_bytes(row().replace(";", ","),
                                         header=HEADER.replace(";", ","))))
    assert isinstance(result, Refused)
    assert (result.line, result.field) == (1, "<header>")


@pytest.mark.parametrize("bom", [False, True])
@pytest.mark.parametrize("crlf", [False, True])
def test_bom_and_windows_line_endings(bom: bool, crlf: bool) -> None:
    data = csv_bytes(row(), row(date="2026-03-04", excused="ja"), bom=bom, crlf=crlf)
    plain = ABSENCE.parse(csv_bytes(row(), row(date="2026-03-04", excused="ja")))
    results = ABSENCE.parse(data)
    assert results == plain
    assert [r.line for r in results] == [2, 3]


def test_the_sample_is_utf8_with_bom_and_crlf_like_an_excel_export() -> None:
    assert ABSENCE_SAMPLE.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in ABSENCE_SAMPLE


def test_line_numbers_are_physical_lines_across_blanks_excel_rows_and_quoted_newlines() -> None:
    data = csv_bytes(
        row(),                                              # line 2
        "",                                                 # line 3: blank
        ";;;;;;",                                           # line 4: Excel's empty row
        row(name='"Oliver\nHolm Madsen"', date="2026-03-04"),  # lines 5-6: quoted newline
        row(cpr="3102124418"),                              # line 7
    )
    results = ABSENCE.parse(data)
    assert [(r.line, type(r).__name__) for r in results] == [
        (2, "Mapped"), (5, "Mapped"), (7, "Refused")]


def test_a_row_longer_than_the_header_is_refused_but_trailing_empty_cells_are_not() -> None:
    results = ABSENCE.parse(csv_bytes(row() + ";;", row(date="2026-03-04") + ";Stege;x"))
    assert isinstance(results[0], Mapped)
    assert results[1] == Refused(3, "<row>",
                                 "more fields than the header has columns (an unquoted ';'?)")


def test_a_short_row_is_refused_for_its_first_missing_field() -> None:
    assert ABSENCE.parse(csv_bytes(f"{PUPIL};{PUPIL_NAME};Stege Skole")) == [
        Refused(2, "dato", "missing")]


def test_a_cpr_with_a_dash_is_accepted_and_normalised() -> None:
    result = one(ABSENCE.parse(csv_bytes(row(cpr="010412-4117"))))
    assert isinstance(result, Mapped)
    assert result.event.subject.cpr == PUPIL


def test_an_eighteen_year_old_is_ssp_plus() -> None:
    result = one(ABSENCE.parse(csv_bytes(row(cpr="0102074412", date="2026-03-03"))))
    assert isinstance(result, Mapped)
    assert result.event.collaboration is Collaboration.SSP_PLUS


@pytest.mark.parametrize(("data", "line", "fld", "reason"), [
    (b"", 0, "<file>", "the file is empty"),
    (b"\xef\xbb\xbf", 0, "<file>", "the file is empty"),
    (b"\r\n\r\n  \n", 0, "<file>", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", 0, "<file>",
     "not UTF-8 text (export as UTF-8)"),
    ("elev_cpr;elev_navn\n".encode("cp1252") + "0104124117;Søren".encode("cp1252"), 0, "<file>",
     "not UTF-8 text (export as UTF-8)"),
    (HEADER.encode() + b"\n0104124117;\x00;Stege Skole", 0, "<file>",
     "not a text file (it holds NUL bytes)"),
    (b"<?xml version='1.0'?><bekymringer/>", 1, "<header>", None),
    (b'[{"elev_cpr": "0104124117"}]', 1, "<header>", None),
    (HEADER.encode() + b'\n0104124117;"never closed', 2, "<file>", None),
])
def test_files_that_are_not_an_absence_export(data: bytes, line: int, fld: str,
                                              reason: str | None) -> None:
    result = one(ABSENCE.parse(data))
    assert isinstance(result, Refused)
    assert (result.line, result.field) == (line, fld)
    if reason is not None:
        assert result.reason == reason
    assert "0104124117" not in result.reason


def test_rows_before_a_malformed_part_are_kept() -> None:
    results = ABSENCE.parse(csv_bytes(row(), row(name='"never closed', date="2026-03-04")))
    assert [(r.line, type(r).__name__) for r in results] == [(2, "Mapped"), (3, "Refused")]
    assert results[1] == Refused(3, "<file>",
                                 "malformed CSV (an unclosed quote or an over-long field)")


def test_a_mapped_result_prints_no_personal_data() -> None:
    result = one(ABSENCE.parse(csv_bytes(row())))
    assert isinstance(result, Mapped)
    for shown in (repr(result), str(result)):
        assert PUPIL not in shown
        assert "Oliver" not in shown
        assert str(result.event.event_id) in shown


def test_a_header_alone_is_a_file_with_no_records() -> None:
    assert ABSENCE.parse(csv_bytes()) == []


def test_absence_event_ids_are_deterministic_per_pupil_and_day() -> None:
    first = [m.event.event_id for m in mapped(ABSENCE.parse(ABSENCE_SAMPLE))]
    again = [m.event.event_id for m in mapped(ABSENCE.parse(ABSENCE_SAMPLE))]
    assert first == again
    assert len(set(first)) == len(first)
    # the key is pupil + day: a re-export of the same registration is the same event (the
    # hub's de-duplication absorbs it), another day or another pupil is another event
    base = one(ABSENCE.parse(csv_bytes(row())))
    same = one(ABSENCE.parse(csv_bytes(row(lessons="2", klasse="8.b"), crlf=True, bom=True)))
    other_day = one(ABSENCE.parse(csv_bytes(row(date="2026-03-04"))))
    other_pupil = one(ABSENCE.parse(csv_bytes(row(cpr="2309119046"))))
    assert isinstance(base, Mapped)
    assert isinstance(same, Mapped)
    assert isinstance(other_day, Mapped)
    assert isinstance(other_pupil, Mapped)
    assert base.event.event_id == same.event.event_id
    assert len({base.event.event_id, other_day.event.event_id,
                other_pupil.event.event_id}) == 3
    assert base.event.event_id.version == 5


# -- bekymringsnotater ------------------------------------------------------------------------

CONCERN_SAMPLE = (SAMPLES / "bekymringsnotater.json").read_bytes()
CONCERN_REFUSALS = [
    (6, "kategori", "andet"),
    (7, "elev_cpr", "290213-4512"),
    (8, "oprettet", None),
]


def note(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "notat_id": "BN-1", "elev_cpr": PUPIL, "elev_navn": PUPIL_NAME, "skole": "Stege Skole",
        "klasse": "8.a", "oprettet": "2026-03-02T13:20:00+01:00", "kategori": "gruppekonflikt",
        "alvor": "middel", "beskrivelse": "Slagsmål ved havnen.",
        "nødvendighed": "SSP skal kende konflikten.", "samtykke": "søgt",
        "forældre": [{"rolle": "mor", "cpr": "1206841236", "navn": "Lene Holm Madsen"}],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


def notes(*items: Any) -> bytes:
    return json.dumps(list(items), ensure_ascii=False).encode()


def test_concern_sample_maps_7_notes_and_refuses_3() -> None:
    results = CONCERN.parse(CONCERN_SAMPLE)
    assert Counter(type(r).__name__ for r in results) == {"Mapped": 7, "Refused": 3}
    assert [(r.line, r.field) for r in refused(results)] == [
        (line, fld) for line, fld, _ in CONCERN_REFUSALS]


@pytest.mark.parametrize(("index", "fld", "value"), CONCERN_REFUSALS)
def test_concern_sample_refusals_echo_nothing(index: int, fld: str, value: str | None) -> None:
    source = json.loads(CONCERN_SAMPLE)[index - 1]
    [refusal] = [r for r in refused(CONCERN.parse(CONCERN_SAMPLE)) if r.line == index]
    assert refusal.field == fld
    for secret in (source["elev_cpr"], source["elev_navn"], source["notat_id"],
                   *source["elev_navn"].split(), value or source["elev_cpr"]):
        assert secret not in refusal.reason


def test_concern_note_maps_field_by_field() -> None:
    result = one(CONCERN.parse(notes(note())))
    assert isinstance(result, Mapped)
    assert result.line == 1
    e = result.event
    assert e.kind is Kind.concern
    assert e.source.agency is Agency.school
    assert e.source.unit == "Stege Skole"
    assert (e.subject.cpr, e.subject.name, e.subject.school, e.subject.class_) == (
        PUPIL, PUPIL_NAME, "Stege Skole", "8.a")
    assert e.occurred_at.isoformat() == "2026-03-02T13:20:00+01:00"
    assert (e.category, e.severity, e.consent, e.area) == (
        Category.group_conflict, Severity.medium, Consent.sought, Area.stege)
    assert e.description == "Slagsmål ved havnen."
    assert e.necessity == "SSP skal kende konflikten."
    assert [(p.role, p.cpr, p.name) for p in e.related_persons] == [
        ("mother", "1206841236", "Lene Holm Madsen")]
    assert e.absence is None
    assert e.registration is None


@pytest.mark.parametrize(("danish", "category"), [
    ("gruppekonflikt", Category.group_conflict),
    ("bekymrende fravær", Category.school_absence),
    ("kriminalitet", Category.crime),
    ("rusmidler", Category.substance_abuse),
    ("trivsel", Category.wellbeing),
    ("utryghed", Category.insecurity),
    ("ekstremisme", Category.extremism),
    ("radikalisering", Category.radicalisation),
    ("æresrelateret konflikt", Category.honour_related_conflict),
    ("Æresrelateret  Konflikt", Category.honour_related_conflict),
    ("aeresrelateret konflikt", Category.honour_related_conflict),
    ("negativ social kontrol", Category.negative_social_control),
])
def test_danish_categories(danish: str, category: Category) -> None:
    result = one(CONCERN.parse(notes(note(kategori=danish))))
    assert isinstance(result, Mapped)
    assert result.event.category is category


@pytest.mark.parametrize(("danish", "severity"), [
    ("lav", Severity.low), ("middel", Severity.medium), ("høj", Severity.high),
    ("hoej", Severity.high), ("AKUT", Severity.acute),
])
def test_danish_severities(danish: str, severity: Severity) -> None:
    result = one(CONCERN.parse(notes(note(alvor=danish))))
    assert isinstance(result, Mapped)
    assert result.event.severity is severity


@pytest.mark.parametrize(("danish", "consent"), [
    ("søgt", Consent.sought), ("givet", Consent.given), ("afvist", Consent.refused),
    ("tilsidesat", Consent.overridden), ("ikke søgt", Consent.not_sought),
    ("Ikke  søgt", Consent.not_sought),
])
def test_danish_consent(danish: str, consent: Consent) -> None:
    result = one(CONCERN.parse(notes(note(samtykke=danish))))
    assert isinstance(result, Mapped)
    assert result.event.consent is consent


@pytest.mark.parametrize(("danish", "role"), [
    ("mor", "mother"), ("far", "father"), ("værge", "guardian"), ("søskende", "sibling"),
    ("plejemor", "foster_mother"), ("Forælder", "parent"),
])
def test_danish_roles(danish: str, role: str) -> None:
    result = one(CONCERN.parse(notes(note(forældre=[{"rolle": danish, "navn": "Lene"}]))))
    assert isinstance(result, Mapped)
    assert [p.role for p in result.event.related_persons] == [role]
    assert result.event.related_persons[0].cpr is None


@pytest.mark.parametrize(("overrides", "fld", "reason"), [
    ({"notat_id": ...}, "notat_id", "missing"),
    ({"elev_cpr": 104124117}, "elev_cpr",
     "not text (write the CPR number as a string: a number loses its leading zero)"),
    ({"elev_cpr": "0104124118x"}, "elev_cpr", NOT_CPR),
    ({"skole": ...}, "skole", "missing"),
    ({"oprettet": "2026-03-02"}, "oprettet", None),
    ({"oprettet": "i går"}, "oprettet", None),
    ({"kategori": "mobning"}, "kategori", None),
    ({"kategori": ...}, "kategori", "missing"),
    ({"alvor": "meget"}, "alvor", None),
    ({"samtykke": "ja"}, "samtykke", None),
    ({"samtykke": ...}, "samtykke", "missing"),
    ({"beskrivelse": 42}, "beskrivelse", "not text"),
    ({"forældre": {"rolle": "mor"}}, "forældre", "not a JSON array"),
    ({"forældre": [{"rolle": "mor"}, {"rolle": "nabo", "navn": "Poul"}]}, "forældre[2].rolle",
     None),
    ({"forældre": [{"rolle": "far", "cpr": "3102841236"}]}, "forældre[1].cpr", NOT_CPR),
    ({"forældre": [{"cpr": "1206841236"}]}, "forældre[1].rolle", "missing"),
    ({"forældre": ["mor"]}, "forældre[1]", "not a JSON object"),
    ({"beskrivelse": "x" * 10_001}, "beskrivelse", None),
    ({"forældre": [{"rolle": "mor"}] * 21}, "forældre", None),
    ({"oprettet": "2010-01-01T10:00:00+01:00"}, "oprettet",
     "lies before the birth date given by elev_cpr"),
])
def test_concern_refusals_name_the_source_field(overrides: dict[str, Any], fld: str,
                                                reason: str | None) -> None:
    result = one(CONCERN.parse(notes(note(**overrides))))
    assert isinstance(result, Refused), result
    assert (result.line, result.field) == (1, fld)
    if reason is not None:
        assert result.reason == reason
    for secret in (PUPIL, PUPIL_NAME, "1206841236", "Lene", "mobning", "nabo", "Poul", "i går",
                   "meget", "xxxxxxxxxx"):
        assert secret not in result.reason


@pytest.mark.parametrize(("oprettet", "expected"), [
    ("2026-03-02T13:20:00+01:00", "2026-03-02T13:20:00+01:00"),
    ("2026-03-02T12:20:00Z", "2026-03-02T12:20:00+00:00"),
    ("2026-03-02T13:20", "2026-03-02T13:20:00+01:00"),         # Danish local time, winter
    ("2026-06-02 13:20:00", "2026-06-02T13:20:00+02:00"),      # and summer
])
def test_oprettet_without_offset_is_danish_local_time(oprettet: str, expected: str) -> None:
    result = one(CONCERN.parse(notes(note(oprettet=oprettet))))
    assert isinstance(result, Mapped)
    assert result.event.occurred_at.isoformat() == expected


def test_klasse_may_be_a_number_and_nodvendighed_may_be_blank() -> None:
    result = one(CONCERN.parse(notes(note(klasse=8, **{"nødvendighed": ...}))))
    assert isinstance(result, Mapped)
    assert result.event.subject.class_ == "8"
    assert result.event.necessity == ""


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "the file is empty"),
    (b"{}", "not a JSON array of bekymringsnotater"),
    (b'"BN-1"', "not a JSON array of bekymringsnotater"),
    (b"[{", "not valid JSON"),
    (b"[" * 100_000, "not valid JSON"),
    (b"\xff\xfe[\x00]\x00", "not UTF-8 text (export as UTF-8)"),
    (HEADER.encode(), "not valid JSON"),
])
def test_files_that_are_not_a_concern_export(data: bytes, reason: str) -> None:
    assert CONCERN.parse(data) == [Refused(0, "<file>", reason)]


def test_an_empty_array_has_no_records_and_a_non_object_is_refused_by_index() -> None:
    assert CONCERN.parse(b"[]") == []
    results = CONCERN.parse(notes(note(), "BN-2", note(notat_id="BN-3")))
    assert [(r.line, type(r).__name__) for r in results] == [
        (1, "Mapped"), (2, "Refused"), (3, "Mapped")]
    assert results[1] == Refused(2, "<record>", "not a JSON object")


def test_concern_event_ids_follow_the_notat_id() -> None:
    first = [m.event.event_id for m in mapped(CONCERN.parse(CONCERN_SAMPLE))]
    assert first == [m.event.event_id for m in mapped(CONCERN.parse(CONCERN_SAMPLE))]
    assert len(set(first)) == len(first)
    a = one(CONCERN.parse(notes(note(notat_id="BN-7"))))
    a_edited = one(CONCERN.parse(notes(note(notat_id="BN-7", alvor="høj"))))
    a_number = one(CONCERN.parse(notes(note(notat_id=7))))
    b = one(CONCERN.parse(notes(note(notat_id="BN-8"))))
    assert all(isinstance(r, Mapped) for r in (a, a_edited, a_number, b))
    ids = [r.event.event_id for r in (a, a_edited, a_number, b) if isinstance(r, Mapped)]
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3
