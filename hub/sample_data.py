"""Sample events for ``ssp-hub demo``, loaded from the data files in ``hub/demo_data``.

``people.yaml`` holds the fictional young people, their guardians and the agencies' systems;
``events.yaml`` the events, each naming its people by key. Both ship with the package.

Every person, CPR number, address and case note in these files is fictional. The names of
schools, units and towns follow Vordingborg Kommune's SSP action plan so the demo looks
familiar, but no event describes a real young person or a real case.

The data is deterministic: event ids are derived with ``uuid.uuid5`` from a fixed namespace
and the event's index, so the same demo data (and the same idempotency keys) appear on every
run.
"""

from __future__ import annotations

import functools
import uuid
from pathlib import Path
from typing import Any, Final

import connectors
from core.policy.evaluator import safe_load

__all__ = ["DEMO_DELIVERY", "NATIVE_SAMPLES", "native_sample", "sample_events"]

# The agencies' native sample exports (connectors/README.md, "Samples"), by connector name. They
# ship with the package, so an installed hub has them too.
NATIVE_SAMPLES: Final[dict[str, str]] = {
    "school-absence": "elevfravaer-2026-03.csv",
    "school-concern": "bekymringsnotater.json",
    "social-concern": "socialforvaltning-bekymringer.xml",
    "police-doegnrapport": "doegnrapport-2026-03-02.jsonl",
}

# How ``ssp-hub demo`` delivers each native sample: every delivery mode of issue 5 at least once.
DEMO_DELIVERY: Final[dict[str, str]] = {
    "school-concern": "http",
    "social-concern": "http",
    "school-absence": "file-drop",
    "police-doegnrapport": "kafka",
}


def native_sample(connector: str) -> Path:
    """The path of ``connector``'s native sample export."""
    return Path(connectors.__file__).resolve().parent / "samples" / NATIVE_SAMPLES[connector]


_NAMESPACE: Final = uuid.UUID("321214cf-61e8-5a2a-921c-49735d87421a")
DEMO_DATA: Final = Path(__file__).resolve().parent / "demo_data"

# An events.yaml entry's keys: these must be there, these may be.
_REQUIRED: Final = frozenset({"index", "agency", "unit", "occurred_at", "subject", "category",
                              "area", "severity", "consent", "description", "necessity"})
_OPTIONAL: Final = frozenset({"related", "co_involved", "kind", "system", "collaboration",
                              "purpose"})


def _load(name: str) -> Any:
    with (DEMO_DATA / name).open(encoding="utf-8") as file:
        return safe_load(file)


@functools.cache
def _people() -> dict[str, dict[str, dict[str, str]]]:
    people: dict[str, dict[str, dict[str, str]]] = _load("people.yaml")
    for group in ("subjects", "related"):
        for key, person in people[group].items():
            if not all(isinstance(value, str) for value in person.values()):
                raise ValueError(f"people.yaml: {group}.{key} has a value that is not text")
    return people


@functools.cache
def _entries() -> tuple[dict[str, Any], ...]:
    entries: list[dict[str, Any]] = _load("events.yaml")
    for entry in entries:
        missing, unknown = _REQUIRED - set(entry), set(entry) - _REQUIRED - _OPTIONAL
        if missing or unknown:
            raise ValueError(f"events.yaml: entry {entry.get('index')} lacks {sorted(missing)}, "
                             f"has unknown {sorted(unknown)}")
    return tuple(entries)


def _event(entry: dict[str, Any]) -> tuple[str, dict[str, object]]:
    people = _people()
    subjects, related = people["subjects"], people["related"]
    agency: str = entry["agency"]
    related_persons = [dict(related[key]) for key in entry.get("related", ())]
    related_persons += [{"role": "co_involved", "cpr": subjects[key]["cpr"],
                         "name": subjects[key]["name"]} for key in entry.get("co_involved", ())]
    event: dict[str, object] = {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"sample-event-{entry['index']:03d}")),
        "schema_version": 1,
        "kind": entry.get("kind", "concern"),
        "occurred_at": entry["occurred_at"],
        "source": {
            "agency": agency,
            "system": entry.get("system", people["systems"][agency]),
            "unit": entry["unit"],
        },
        "collaboration": entry.get("collaboration", "SSP"),
        "purpose": entry.get("purpose", "crime_prevention"),
        "subject": dict(subjects[entry["subject"]]),
        "related_persons": related_persons,
        "category": entry["category"],
        "area": entry["area"],
        "severity": entry["severity"],
        "description": entry["description"],
        "consent": entry["consent"],
        "necessity": entry["necessity"],
    }
    return agency, event


def sample_events() -> list[tuple[str, dict[str, object]]]:
    """(agency, canonical event v1 as a JSON-ready dict) pairs for the demo: fresh dicts on every
    call, in the order of events.yaml."""
    return [_event(entry) for entry in _entries()]
