"""The demo's sample data: hub/demo_data/*.yaml, loaded by hub/sample_data.py.

The data moved from code into data files reproducing sample_events()'s earlier output byte for
byte (sha256 52444383…33bb of its compact JSON, checked when it moved); these tests keep the
files' structure honest as the data changes."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

import pytest

import hub.sample_data as sample_data
from hub.sample_data import DEMO_DATA, sample_events
from schemas.events import CanonicalEvent

ROOT = Path(__file__).resolve().parents[2]


def test_every_sample_event_is_a_valid_canonical_event_from_its_agency() -> None:
    events = sample_events()
    assert len(events) >= 40
    for agency, doc in events:
        event = CanonicalEvent.model_validate(doc)
        assert event.source.agency == agency


def test_event_ids_are_unique_and_stable_across_calls() -> None:
    ids = [doc["event_id"] for _agency, doc in sample_events()]
    assert len(set(ids)) == len(ids)
    assert ids == [doc["event_id"] for _agency, doc in sample_events()]
    assert all(uuid.UUID(str(i)).version == 5 for i in ids)


def test_each_call_returns_fresh_dicts() -> None:
    first = sample_events()
    subject = first[0][1]["subject"]
    assert isinstance(subject, dict)
    subject["name"] = "ændret"
    first[0][1]["description"] = "ændret"
    again = sample_events()[0][1]
    assert again["description"] != "ændret"
    assert isinstance(again["subject"], dict)
    assert again["subject"]["name"] != "ændret"


def test_people_are_shared_between_their_events() -> None:
    """A subject named in several events is the same person (one CPR) in each."""
    cprs: dict[str, set[str]] = {}
    for _agency, doc in sample_events():
        subject = doc["subject"]
        assert isinstance(subject, dict)
        cprs.setdefault(subject["name"], set()).add(subject["cpr"])
    assert all(len(found) == 1 for found in cprs.values())
    assert len(cprs) >= 10


def test_an_unknown_key_in_events_yaml_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = (DEMO_DATA / "events.yaml").read_text(encoding="utf-8")
    (tmp_path / "people.yaml").write_bytes((DEMO_DATA / "people.yaml").read_bytes())
    (tmp_path / "events.yaml").write_text(
        text.replace("  severity: medium\n", "  severity: medium\n  severty: high\n", 1),
        encoding="utf-8")
    monkeypatch.setattr(sample_data, "DEMO_DATA", tmp_path)
    sample_data._entries.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"unknown \['severty'\]"):
            sample_events()
    finally:
        sample_data._entries.cache_clear()


def test_the_data_files_ship_with_the_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["hub"]
    files = {p.relative_to(ROOT / "hub") for p in DEMO_DATA.iterdir()}
    assert files == {Path("demo_data/events.yaml"), Path("demo_data/people.yaml")}
    assert all(any(f.match(g) for g in globs) for f in files)
