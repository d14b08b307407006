"""Test events: valid canonical events with fresh ids, and a record of every identifier used,
so that a test can search the broker for any of them."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import uuid
from collections.abc import Iterable
from typing import Any

from connectors.base import Mapped
from hub.sample_data import native_sample
from schemas.events import RelatedPerson, Subject
from schemas.personal import identifying_values

# Every CPR, name and address handed to the hub in this session.
IDENTIFIERS: set[str] = set()


def identifiers_in(results: Iterable[object]) -> set[str]:
    """The direct identifiers (CPRs, names, addresses: the fields the schema marks as personal
    data, schemas.personal) of the mapped records among a connector's ``parse`` results, for
    the no-plaintext scans."""
    found: set[str] = set()
    for r in results:
        if isinstance(r, Mapped):
            found.update(value for _kind, value in identifying_values(r.event))
    return found

FIRST = ["Mads", "Sofie", "Emil", "Freja", "Noah", "Ida", "Oscar", "Clara", "Aksel", "Alma"]
LAST = ["Jørgensen", "Kristiansen", "Mikkelsen", "Frederiksen", "Thygesen", "Østergaard"]
STREETS = ["Algade", "Storegade", "Østergade", "Havnevej", "Præstøvej", "Kirkepladsen"]
TOWNS = ["4720 Præstø", "4780 Stege", "4760 Vordingborg"]
UNITS = {"school": "Stege Skole", "social": "Børn og Familie, Vordingborg",
         "police": "Sydsjællands og Lolland-Falsters Politi"}
SYSTEMS = {"school": "elevadministration", "social": "fagsystem", "police": "polsas"}


def cpr_for(born: dt.date, rng: random.Random) -> str:
    """A CPR with a real birth date and the century digit the CPR office uses."""
    yy = born.year % 100
    if born.year >= 2000:
        seventh = rng.choice(["4", "9"] if yy <= 36 else ["5", "6", "7", "8"])
    else:
        seventh = rng.choice("0123")
    return f"{born:%d%m}{yy:02d}{seventh}{rng.randrange(1000):03d}"


def cpr_writings(cpr: str) -> set[str]:
    """A CPR as people write it (issue 12): plain, dashed, with dots, a slash or spaced pairs,
    and the birth date it carries as a date of birth would be written."""
    d, m, y, s = cpr[:2], cpr[2:4], cpr[4:6], cpr[6:]
    century = "20" if (s[0] in "49" and int(y) <= 36) or (s[0] in "5678" and int(y) <= 57) \
        else "19"
    return {cpr, f"{d}{m}{y}-{s}", f"{d}.{m}.{y}-{s}", f"{d}{m}{y}/{s}",
            f"{d} {m} {y} {s[:2]} {s[2:]}", f"{d}{m}{y} {s}",
            f"{d}.{m}.{century}{y}", f"{d}-{m}-{century}{y}", f"{d}/{m}/{century}{y}"}


# Shapes of identifiers that no process log may hold, whoever's they are (issue 12): a CPR
# with separators, a date of birth after its cue, agencies' case and journal numbers, bank
# accounts (reg.+konto, IBAN) and card numbers. Scanned by test_zz_no_plaintext; a hit names
# the shape, never the value.
_DATE6 = r"(?:0[1-9]|[12]\d|3[01])[.\s/-]?(?:0[1-9]|1[0-2])[.\s/-]?\d\d"
IDENTIFIER_SHAPES: dict[str, re.Pattern[str]] = {
    "cpr with separators": re.compile(
        rf"(?<![\w.-]){_DATE6}[\s./\-\u2013\u200b\u00ad\u00a0]{{1,3}}\d{{2}}\s?\d{{2}}(?![\w.-])"),
    "date of birth": re.compile(
        r"(?i)\b(?:født|f\.|fødselsdato|dob)\s*:?\s*(?:d\.|den)?\s*\d{1,2}[./ -]\s*"
        r"(?:\d{1,2}|[a-zæøå]{3,9}\.?)[./ -]\s*\d{2,4}\b"),
    "case number (KLE)": re.compile(r"\b\d{2}\.\d{2}\.\d{2}-[A-Z]\d{2}-\d{1,4}-\d{2}\b"),
    "police journal number": re.compile(r"\b\d{4}-\d{5}-\d{5}-\d{2}\b"),
    "case number (SAG)": re.compile(r"\bSAG-\d{4}-\d{4,7}\b"),
    "IBAN": re.compile(r"\bDK\d{2}(?:\s?\d{4}){3}\s?\d{2}\b"),
    "bank account": re.compile(r"(?i)\breg\.?\s*(?:nr\.?)?\s*\d{4}\s*(?:konto(?:nr)?\.?)?\s*"
                               r"[\s/-]\s*\d{6,10}\b"),
    # Not the digits after a decimal point (a float in a library log line).
    "card number": re.compile(r"(?<![\w.,-])(?:\d{4}[ -]?){3}\d{4}(?![\w-])"),
}


def shapes_in(text: str) -> list[str]:
    """The names of the identifier shapes found in ``text`` (never the matched values)."""
    return sorted(kind for kind, pattern in IDENTIFIER_SHAPES.items() if pattern.search(text))


def make_event(agency: str = "school", *, category: str = "group_conflict",
               area: str = "stege", purpose: str = "crime_prevention", age: int = 14,
               kind: str = "concern", seed: int | None = None, **overrides: Any
               ) -> dict[str, Any]:
    rng = random.Random(seed)
    occurred = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    born = occurred.date() - dt.timedelta(days=365 * age + rng.randrange(30, 300))
    cpr = cpr_for(born, rng)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {uuid.uuid4().hex[:6]}"
    address = f"{rng.choice(STREETS)} {rng.randrange(1, 99)}, {rng.choice(TOWNS)}"
    guardian_cpr = cpr_for(dt.date(1980, 5, 17), rng)
    guardian = f"{rng.choice(FIRST)} {rng.choice(LAST)} {uuid.uuid4().hex[:6]}"
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "schema_version": 1,
        "kind": kind,
        "occurred_at": occurred.isoformat(),
        "source": {"agency": agency, "system": SYSTEMS[agency], "unit": UNITS[agency]},
        "collaboration": "SSP",
        "purpose": purpose,
        "subject": {"cpr": cpr, "name": name, "address": address, "school": "Stege Skole",
                    "class": "8.x"},
        "related_persons": [{"role": "guardian", "cpr": guardian_cpr, "name": guardian}],
        "category": category,
        "area": area,
        "severity": "medium",
        "description": f"{name} var involveret i en konflikt ved {address}.",
        "consent": "given",
        "necessity": f"Deling er nødvendig for at forebygge, at {name} begår kriminalitet.",
    }
    # What the scans search for: every field the schema marks as a direct identifier.
    people = [Subject.model_validate(event["subject"]),
              *(RelatedPerson.model_validate(p) for p in event["related_persons"])]
    for kind, value in (found for person in people for found in identifying_values(person)):
        IDENTIFIERS.update(cpr_writings(value) if kind == "cpr" else {value})
    event.update(overrides)
    return event


# Issue 2's routing table, written out independently of the policy file.
ROUTING: dict[str, str | None] = {
    "extremism": "infohus", "radicalisation": "infohus", "honour_related_conflict": "infohus",
    "negative_social_control": "infohus", "group_conflict": "beredskab",
    "insecurity": "beredskab", "crime": None, "substance_abuse": None,
    "school_absence": None, "wellbeing": None,
}
AREA_GROUP = {"praestoe": "omraade-praestoe", "stege": "omraade-stege",
              "vordingborg": "omraade-vordingborg", "other": "beredskab"}


def expected_queue(category: str, area: str) -> str:
    """The primary queue (issue 2's table)."""
    return ROUTING[category] or AREA_GROUP[area]


def expected_queues(category: str, area: str) -> list[str]:
    """All queues under Vordingborg v1 for an SSP concern about a 14-year-old, medium
    severity: insecurity also reaches the street team (issue 3, rule 5)."""
    primary = expected_queue(category, area)
    return [primary, "opsoegende"] if category == "insecurity" else [primary]


def fresh_sample(name: str, tag: str) -> bytes:
    """The sample export of ``name`` with record keys of its own: records the hub has never
    seen (the HTTP and file-drop tests send the samples as they are)."""
    data = native_sample(name).read_bytes()
    if name == "school-absence":  # its key is CPR + date: move the dates to another month
        return data.replace(b"2026-03-", b"2026-01-")
    if name == "school-concern":
        notes = json.loads(data)
        for note in notes:
            if isinstance(note, dict) and isinstance(note.get("notat_id"), str):
                note["notat_id"] = f"{tag}-{note['notat_id']}"
        return json.dumps(notes, ensure_ascii=False, indent=1).encode("utf-8")
    if name == "social-concern":
        return re.sub(rb'(<bekymring\b[^>]*\bid=")', rb"\g<1>" + tag.encode() + b"-", data)
    out = []  # police-doegnrapport
    for line in data.splitlines(keepends=True):
        try:
            entry = json.loads(line)
        except ValueError:
            out.append(line)  # the sample's cut-off line stays cut off
            continue
        entry["journalnr"] = f"{tag}-{entry['journalnr']}"
        out.append(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
    return b"".join(out)
