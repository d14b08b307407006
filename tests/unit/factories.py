"""Builders shared by the unit tests: canonical events, CPR numbers, ingest records, and
issue 2's routing table written out independently of the policy file."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.bus.envelope import OrderKey, PayloadCipher, seal
from schemas.events import CanonicalEvent, Category
from schemas.personal import identifying_values
from streams.pipeline import IngestRecord

REPO = Path(__file__).resolve().parents[2]
SHIPPED_POLICY = REPO / "core" / "policy" / "policies" / "vordingborg.yaml"
DATA = Path(__file__).resolve().parent / "data"

# Born 2010-02-01 (7th digit 4, YY 10 < 37 → 20xx). Fails the old modulus-11 check.
SUBJECT_CPR = "0102104321"
GUARDIAN_CPR = "1705804123"  # born 1980-05-17
SUBJECT_NAME = "Mikkel Østergård Sørensen"
SUBJECT_ADDRESS = "Algade 12, 4720 Præstø"
SUBJECT_SCHOOL = "Kalvehave Skole"
SUBJECT_CLASS = "8.b"
GUARDIAN_NAME = "Hanne Østergård"
DESCRIPTION = "Mikkel blev set ved havnen med ældre drenge; hærværk mod klubhuset."
NECESSITY = "Fælles indsats med skole og forvaltning kan forebygge kriminalitet for Mikkel."
INGESTED_AT = "2026-03-02T13:06:00+00:00"

# -- issue 2, item 5: the default routing table --------------------------------------------
INFOHUS_CATEGORIES = frozenset({
    "extremism", "radicalisation", "honour_related_conflict", "negative_social_control",
})
BEREDSKAB_CATEGORIES = frozenset({"group_conflict", "insecurity"})
AREA_GROUP_CATEGORIES = frozenset({"crime", "substance_abuse", "school_absence", "wellbeing"})
AREA_GROUP = {
    "praestoe": "omraade-praestoe",
    "stege": "omraade-stege",
    "vordingborg": "omraade-vordingborg",
    "other": "beredskab",
}
ALL_CATEGORIES = tuple(c.value for c in Category)


def expected_queue(category: str, area: str) -> str:
    """The primary queue a crime-prevention concern goes to (issue 2's table)."""
    if category in INFOHUS_CATEGORIES:
        return "infohus"
    if category in BEREDSKAB_CATEGORIES:
        return "beredskab"
    if category in AREA_GROUP_CATEGORIES:
        return AREA_GROUP[area]
    raise AssertionError(f"issue 2 gives no route for {category}")


def expected_queues(category: str, area: str) -> tuple[str, ...]:
    """All queues under Vordingborg v1 for an SSP concern (age 14, medium, consent given):
    issue 2's table, and insecurity also to the street team (issue 3, rule 5)."""
    primary = expected_queue(category, area)
    return (primary, "opsoegende") if category == "insecurity" else (primary,)


# -- CPR numbers ---------------------------------------------------------------------------
def century_digits(born: dt.date) -> str:
    """7th digits that the CPR office's table maps to ``born``'s century."""
    yy = born.year % 100
    if 1858 <= born.year <= 1899:
        return "5678"
    if 1900 <= born.year <= 1936:
        return "0123"
    if 1937 <= born.year <= 1999:
        return "012349"
    if 2000 <= born.year <= 2036:
        return "456789"
    if 2037 <= born.year <= 2057 and yy <= 57:
        return "5678"
    raise ValueError(f"no CPR century digit for {born.year}")


def make_cpr(born: dt.date, seventh: str, serial: int) -> str:
    assert seventh in century_digits(born)
    return f"{born:%d%m}{born.year % 100:02d}{seventh}{serial:03d}"


def dashed(cpr: str) -> str:
    return f"{cpr[:6]}-{cpr[6:]}"


def modulus11_ok(cpr: str) -> bool:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
    return sum(w * int(d) for w, d in zip(weights, cpr, strict=True)) % 11 == 0


# -- events --------------------------------------------------------------------------------
def design_example() -> dict[str, Any]:
    """The canonical event of DESIGN.md §6, with the elisions filled in."""
    return {
        "event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e",
        "schema_version": 1,
        "kind": "concern",
        "occurred_at": "2026-03-02T14:05:00+01:00",
        "source": {"agency": "school", "system": "elevadministration", "unit": "Stege Skole"},
        "collaboration": "SSP",
        "purpose": "crime_prevention",
        "subject": {"cpr": SUBJECT_CPR, "name": SUBJECT_NAME, "address": SUBJECT_ADDRESS,
                    "school": SUBJECT_SCHOOL, "class": SUBJECT_CLASS},
        "related_persons": [{"role": "guardian", "cpr": GUARDIAN_CPR, "name": GUARDIAN_NAME}],
        "category": "group_conflict",
        "area": "stege",
        "severity": "medium",
        "description": DESCRIPTION,
        "consent": "given",
        "necessity": NECESSITY,
    }


def make_event(agency: str = "police", **overrides: Any) -> dict[str, Any]:
    """A valid event from ``agency`` with a fresh id; top-level fields overridable."""
    event = design_example()
    event["event_id"] = str(uuid.uuid4())
    event["source"] = {"agency": agency, "system": "fagsystem",
                       "unit": {"school": "Stege Skole", "social": "Børn og Familie",
                                "police": "Vordingborg Politi"}[agency]}
    event.update(copy.deepcopy(overrides))
    return event


def personal_strings(event: dict[str, Any]) -> list[str]:
    """Every direct identifier an event carries (the fields the schema marks as personal
    data, schemas.personal), each CPR in both forms."""
    found: list[str] = []
    for kind, value in identifying_values(CanonicalEvent.model_validate(event)):
        found += [value, dashed(value)] if kind == "cpr" else [value]
    return found


def keys_of(doc: Any) -> Iterator[str]:
    """Every mapping key in a JSON document, recursively."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield key
            yield from keys_of(value)
    elif isinstance(doc, list):
        for item in doc:
            yield from keys_of(item)


# -- ingest records, built the way hub.api builds them -------------------------------------
def api_payload(event: dict[str, Any]) -> bytes:
    """What the API encrypts: the validated event, dumped with its aliases."""
    return CanonicalEvent.model_validate(event).model_dump_json(by_alias=True).encode("utf-8")


# The ordering key's secret comes from the key ring in the hub; any secret will do here.
ORDER_KEY = OrderKey(b"unit-test ingest order secret")


def sealed_record(cipher: PayloadCipher, payload: bytes, *, event_id: str, agency: str,
                  topic: str | None = None, headers: dict[str, bytes] | None = None,
                  cpr: str = "") -> IngestRecord:
    """``payload`` sealed the way the API seals it (:func:`core.bus.envelope.seal`)."""
    sealed = seal(cipher, ORDER_KEY, payload, event_id=event_id, agency=agency, cpr=cpr)
    all_headers = dict(sealed.headers(dt.datetime.fromisoformat(INGESTED_AT)))
    all_headers.update(headers or {})
    return IngestRecord(topic=topic or sealed.topic, key=sealed.key, value=sealed.value,
                        headers=all_headers)


def record_for(cipher: PayloadCipher, event: dict[str, Any]) -> IngestRecord:
    agency = event["source"]["agency"]
    return sealed_record(cipher, api_payload(event), event_id=event["event_id"], agency=agency,
                         cpr=event["subject"]["cpr"])


def raw_record_for(cipher: PayloadCipher, event: dict[str, Any], agency: str) -> IngestRecord:
    """Encrypt the JSON as given, without validating it first (a sender that bypassed the API)."""
    return sealed_record(cipher, json.dumps(event).encode("utf-8"),
                         event_id=str(event["event_id"]), agency=agency,
                         cpr=str((event.get("subject") or {}).get("cpr", "")))
