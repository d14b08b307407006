"""School (elevadministration): daily absence registrations (CSV) and concern notes (JSON).

``school-absence``: one row per pupil per school day, semicolon-separated UTF-8 (an optional
byte-order mark, ``\\r\\n`` or ``\\n``), Danish headers::

    elev_cpr;elev_navn;skole;klasse;dato;lektioner;lovligt_fravaer
    0104124321;Oliver Holm Madsen;Stege Skole;8.a;2026-03-03;6;nej

Each row becomes a ``school_absence`` *signal*; the hub aggregates signals per pseudonymised
pupil and only a crossed threshold leaves the hub as a concern.

``school-concern``: a JSON array of bekymringsnotater, each becoming a ``concern``.

Field by field: ``connectors/README.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

from connectors.base import (
    RECORD,
    Bad,
    BadFile,
    Connector,
    Refused,
    Result,
    category,
    consent,
    copenhagen,
    decode_utf8,
    fold,
    ident,
    need,
    need_cpr,
    role,
    severity,
    text,
    timestamp,
    validate,
)
from connectors.base import (
    cpr as opt_cpr,
)
from connectors.base import (
    date as parse_date,
)
from schemas.events import Agency, Area, CanonicalEvent, Category, Consent, Kind, Severity

SYSTEM = "elevadministration"

# School → SSP area. The one place that knows which school lies in which area; a school that
# is not listed maps to `other` (the policy routes it, the connector does not refuse it).
SCHOOL_AREAS: dict[str, Area] = {
    "Stege Skole": Area.stege,
    "Præstø Skole": Area.praestoe,
    "Vordingborg Skole": Area.vordingborg,
}
_SCHOOL_AREAS_FOLDED = {fold(name): a for name, a in SCHOOL_AREAS.items()}


def area_for_school(school: str) -> Area:
    return _SCHOOL_AREAS_FOLDED.get(fold(school), Area.other)


# The sender's necessity statement for every absence signal (the hub's policy rejects an event
# without one). A single day's absence is not shared with anyone: the hub counts it.
ABSENCE_NECESSITY = (
    "Daglig fraværsregistrering fra elevadministrationen, videregivet efter retsplejelovens "
    "§ 115 som signal. Hubben lægger fraværet sammen pr. elev og sender kun en bekymring "
    "videre til SSP, når politikkens grænse for ulovligt fravær er overskredet; den enkelte "
    "registrering videregives ikke."
)
SCHOOL_DAY_START = dt.time(8, 0)

# Columns of the absence export, in their documented order. Optional columns may be left out
# of the export altogether (data minimisation: the hub does not need the name).
ABSENCE_COLUMNS = ("elev_cpr", "elev_navn", "skole", "klasse", "dato", "lektioner",
                   "lovligt_fravaer")
ABSENCE_REQUIRED = ("elev_cpr", "skole", "dato", "lektioner", "lovligt_fravaer")
EXCUSED = {"ja": True, "nej": False}
MAX_LESSONS = 12


@dataclass(frozen=True)
class SchoolAbsence(Connector):
    """``school-absence``: the elevadministration's daily absence CSV → ``school_absence``
    signals. ``line`` is the physical line in the file; the header is line 1."""

    name: ClassVar[str] = "school-absence"
    agency: ClassVar[Agency] = Agency.school
    media_type: ClassVar[str] = "text/csv"
    system: ClassVar[str] = SYSTEM
    numbering: ClassVar[Literal["line", "record"]] = "line"

    def _results(self, data: bytes) -> Iterator[Result]:
        content = decode_utf8(data)
        reader = csv.reader(io.StringIO(content, newline=""), delimiter=";", strict=True)
        header: _Header | None = None
        last = 0  # physical lines consumed so far; a record starts on the next one
        try:
            for row in reader:
                start, last = last + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue  # a blank line, or an Excel row of empty cells (;;;;;;)
                if header is None:
                    header = _Header.read(row, start)
                    missing = [c for c in ABSENCE_REQUIRED if c not in header.columns]
                    yield from (Refused(start, c, "column missing from the header")
                                for c in missing)
                    if missing:
                        return
                    continue
                yield self._row(row, header, start)
        except csv.Error:
            raise BadFile("malformed CSV (an unclosed quote or an over-long field)",
                          line=last + 1) from None
        if header is None:
            raise BadFile("no header line")

    def _row(self, row: list[str], header: _Header, line: int) -> Result:
        if len(row) > header.width and any(c.strip() for c in row[header.width:]):
            return Refused(line, "<row>",
                           "more fields than the header has columns (an unquoted ';'?)")

        def cell(name: str) -> str | None:
            i = header.columns.get(name)
            return row[i] if i is not None and i < len(row) else None

        def build() -> CanonicalEvent:
            pupil = need_cpr(cell("elev_cpr"), "elev_cpr")
            name = text(cell("elev_navn"), "elev_navn", required=False)
            school = need(cell("skole"), "skole")
            klasse = text(cell("klasse"), "klasse", required=False)
            day = parse_date(cell("dato"), "dato")
            lessons = _lessons(cell("lektioner"))
            excused = _excused(cell("lovligt_fravaer"))
            payload = self.envelope(
                pupil, day.isoformat(), occurred_at=copenhagen(day, SCHOOL_DAY_START),
                unit=school,
                subject={"cpr": pupil, "name": name, "school": school, "class": klasse},
            ) | {
                "kind": Kind.school_absence,
                "category": Category.school_absence,
                "area": area_for_school(school),
                "severity": Severity.low,
                "consent": Consent.not_sought,
                "necessity": ABSENCE_NECESSITY,
                "absence": {"date": day, "lessons": lessons, "excused": excused},
            }
            return validate(payload, _ABSENCE_WHERE)

        return self._one(line, build)


@dataclass(frozen=True)
class _Header:
    """Known columns by position (names folded: ``lovligt_fravær`` = ``lovligt_fravaer``, any
    case). Unknown columns are ignored: their values are not read, so never forwarded."""

    columns: dict[str, int]
    width: int

    @classmethod
    def read(cls, row: list[str], line: int) -> _Header:
        names = [fold(c).replace(" ", "_") for c in row]
        if not set(names) & set(ABSENCE_COLUMNS):
            raise BadFile("not a school-absence export: no known column in the first line "
                          "(semicolon-separated, see connectors/README.md)", line=line,
                          field="<header>")
        columns: dict[str, int] = {}
        for i, n in enumerate(names):
            if n in ABSENCE_COLUMNS:
                if n in columns:
                    raise BadFile("column appears twice in the header", line=line, field=n)
                columns[n] = i
        return cls(columns, len(row))


_ABSENCE_WHERE = {
    "subject.cpr": "elev_cpr", "subject.name": "elev_navn", "subject.school": "skole",
    "subject.class": "klasse", "source.unit": "skole", "occurred_at": "dato",
    "absence.date": "dato", "absence.lessons": "lektioner", "absence.excused": "lovligt_fravaer",
}


def _lessons(value: str | None) -> int:
    raw = need(value, "lektioner")
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_LESSONS:
        raise Bad("lektioner", f"not a whole number of lessons (0-{MAX_LESSONS})")
    return int(raw)


def _excused(value: str | None) -> bool:
    raw = need(value, "lovligt_fravaer")
    try:
        return EXCUSED[fold(raw)]
    except KeyError:
        raise Bad("lovligt_fravaer", "unknown value (expected ja or nej)") from None


# --- bekymringsnotater ---------------------------------------------------------------------

@dataclass(frozen=True)
class SchoolConcern(Connector):
    """``school-concern``: a JSON array of bekymringsnotater → ``concern`` events. ``line`` is
    the note's 1-based index in the array (JSON has no useful line numbers)."""

    name: ClassVar[str] = "school-concern"
    agency: ClassVar[Agency] = Agency.school
    media_type: ClassVar[str] = "application/json"
    system: ClassVar[str] = SYSTEM
    numbering: ClassVar[Literal["line", "record"]] = "record"

    def _results(self, data: bytes) -> Iterator[Result]:
        content = decode_utf8(data)
        try:
            notes = json.loads(content)
        except (ValueError, RecursionError):
            raise BadFile("not valid JSON") from None
        if not isinstance(notes, list):
            raise BadFile("not a JSON array of bekymringsnotater")
        for index, note in enumerate(notes, start=1):
            if not isinstance(note, dict):
                yield Refused(index, RECORD, "not a JSON object")
                continue
            yield self._one(index, partial(self._note, note))

    def _note(self, note: dict[str, Any]) -> CanonicalEvent:
        note_id = ident(note.get("notat_id"), "notat_id")
        pupil = need_cpr(note.get("elev_cpr"), "elev_cpr")
        name = text(note.get("elev_navn"), "elev_navn", required=False)
        school = need(note.get("skole"), "skole")
        klasse = _klasse(note.get("klasse"))
        created = timestamp(note.get("oprettet"), "oprettet")
        cat = category(need(note.get("kategori"), "kategori"), "kategori")
        sev = severity(need(note.get("alvor"), "alvor"), "alvor")
        description = text(note.get("beskrivelse"), "beskrivelse", required=False) or ""
        necessity = text(note.get("nødvendighed"), "nødvendighed", required=False) or ""
        agreed = consent(need(note.get("samtykke"), "samtykke"), "samtykke")
        where = dict(_CONCERN_WHERE)
        related = _parents(note.get("forældre"), where)
        payload = self.envelope(
            note_id, occurred_at=created, unit=school,
            subject={"cpr": pupil, "name": name, "school": school, "class": klasse},
        ) | {
            "kind": Kind.concern,
            "related_persons": related,
            "category": cat,
            "area": area_for_school(school),
            "severity": sev,
            "description": description,
            "consent": agreed,
            "necessity": necessity,
        }
        return validate(payload, where)


_CONCERN_WHERE = {
    "subject.cpr": "elev_cpr", "subject.name": "elev_navn", "subject.school": "skole",
    "subject.class": "klasse", "source.unit": "skole", "occurred_at": "oprettet",
    "category": "kategori", "severity": "alvor", "description": "beskrivelse",
    "necessity": "nødvendighed", "consent": "samtykke", "related_persons": "forældre",
}


def _klasse(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return text(value, "klasse", required=False)


def _parents(value: object, where: dict[str, str]) -> list[dict[str, Any]]:
    """``forældre``: a list of {rolle, cpr, navn}; refusals say ``forældre[n].felt``, n from 1."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Bad("forældre", "not a JSON array")
    out = []
    for n, person in enumerate(value, start=1):
        at = f"forældre[{n}]"
        if not isinstance(person, dict):
            raise Bad(at, "not a JSON object")
        for src, dst in (("rolle", "role"), ("cpr", "cpr"), ("navn", "name")):
            where[f"related_persons.{n - 1}.{dst}"] = f"{at}.{src}"
        rolle = person.get("rolle")
        out.append({
            "role": role(need(rolle, f"{at}.rolle"), f"{at}.rolle"),
            "cpr": opt_cpr(person.get("cpr"), f"{at}.cpr", required=False),
            "name": text(person.get("navn"), f"{at}.navn", required=False),
        })
    return out
