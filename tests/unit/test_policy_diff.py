"""Policy what-if (issue 16): the stored decisions of the last days, replayed against a proposed
policy, list exactly the events that would change outcome; the ``ssp-hub policy diff`` CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.ledger.retention import run_retention
from core.policy.evaluator import Policy, load_policy, parse_policy
from core.privacy.keys import KeyRing
from core.settings import Settings
from core.store import Store
from hub.cli import app
from hub.policy_diff import Outcome, policy_diff
from streams.pipeline import Pipeline, Rejected, Routed, concern_json, outcome_json
from streams.projector import rows_from_records
from tests.unit.factories import SHIPPED_POLICY, make_cpr, make_event, record_for

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
OCCURRED = "2026-03-02T14:05:00+01:00"
# Born so that they are 14, 16 and 17 on 2026-03-02.
BORN = {14: dt.date(2012, 1, 5), 16: dt.date(2010, 1, 5), 17: dt.date(2008, 6, 1)}


def lowered_age_limit(limit: int = 15) -> str:
    """The shipped policy with SSP's target group cut from 0-17 to 0-``limit``."""
    text = SHIPPED_POLICY.read_text(encoding="utf-8")
    old = "when: {collaboration: {in: [SSP]}, age: {not_between: [0, 17]}}"
    assert old in text
    return text.replace(old, old.replace("[0, 17]", f"[0, {limit}]"))


def _event(age: int, serial: int, **overrides: Any) -> dict[str, Any]:
    subject = {"cpr": make_cpr(BORN[age], "4", serial), "name": "Testperson",
               "school": "Stege Skole", "class": "8.b"}
    fields = {"category": "crime", "area": "stege", "occurred_at": OCCURRED,
              "subject": subject, "related_persons": [], **overrides}
    return make_event("school", **fields)


def _decide(store: Store, pipeline: Pipeline, event: dict[str, Any], decided_at: dt.datetime,
            *, with_inputs: bool = True) -> Routed | Rejected:
    """The worker's decision, projected into the store the way the projector does it."""
    result = pipeline.process(record_for(pipeline.cipher, event), decided_at)
    assert isinstance(result, Routed | Rejected)
    outcome = result.outcome
    if not with_inputs:  # decided by a hub from before migration 0011
        outcome = outcome.model_copy(update={"decision_inputs": None})
    records = [("cases." + c.queue, concern_json(c))
               for c in getattr(result, "concerns", ())]
    outcomes, concerns = rows_from_records([*records, ("outcomes", outcome_json(outcome))])
    store.project_concerns(concerns)
    store.project_outcomes(outcomes)
    return result


@pytest.fixture
def decided(store: Store, pipeline: Pipeline) -> dict[str, str]:
    """A few days of decisions: 14-, 16- and 17-year-olds, one SSP+ rejection, one acute
    concern (also to underretning), one decided before inputs were stored, one 40 days ago."""
    recent = NOW - dt.timedelta(days=3)
    ids = {}
    for name, event in {
        "age14": _event(14, 1),
        "age16": _event(16, 2),
        "age17": _event(17, 3, category="group_conflict"),
        "age16_acute": _event(16, 4, severity="acute", category="radicalisation"),
        "age14_ssp_plus": _event(14, 5, collaboration="SSP+"),
        "age16_investigation": _event(16, 6, purpose="investigation"),
    }.items():
        ids[name] = str(_decide(store, pipeline, event, recent).outcome.event_id)
    ids["age16_old_hub"] = str(_decide(store, pipeline, _event(16, 7), recent,
                                       with_inputs=False).outcome.event_id)
    ids["age16_long_ago"] = str(_decide(store, pipeline, _event(16, 8),
                                        NOW - dt.timedelta(days=40)).outcome.event_id)
    return ids


def test_the_same_policy_changes_nothing(store: Store, shipped_policy: Policy,
                                         decided: dict[str, str]) -> None:
    diff = policy_diff(store, shipped_policy, shipped_policy, days=30, now=NOW)

    assert (diff.replayed, diff.changed, diff.not_replayable) == (6, 0, 1)
    assert diff.changes == []
    assert diff.failing_examples == []
    assert diff.rules == []
    assert diff.queues == []


def test_a_lowered_age_limit_lists_exactly_the_events_it_would_reject(
        store: Store, shipped_policy: Policy, decided: dict[str, str]) -> None:
    proposed = parse_policy(lowered_age_limit(15), "proposed.yaml")

    diff = policy_diff(store, shipped_policy, proposed, days=30, now=NOW)

    assert (diff.replayed, diff.changed, diff.not_replayable) == (6, 3, 1)
    # The proposal's own example (a 17-year-old in SSP is routed) no longer holds.
    assert diff.failing_examples == ["ssp-target-group #1"]
    assert sorted(diff.changed_ids) == sorted(
        [decided["age16"], decided["age17"], decided["age16_acute"]])
    changes = {(c.before, c.after): c.event_ids for c in diff.changes}
    rejected = Outcome("rejected", reason="outside_target_group")
    assert changes == {
        (Outcome("routed", ("omraade-stege",)), rejected): [decided["age16"]],
        (Outcome("routed", ("beredskab",)), rejected): [decided["age17"]],
        (Outcome("routed", ("infohus", "underretning")), rejected): [decided["age16_acute"]],
    }
    rules = {r.rule_id: (sorted(r.newly), sorted(r.no_longer)) for r in diff.rules}
    assert rules["ssp-target-group"] == (sorted(diff.changed_ids), [])
    assert rules["route-area-group"] == ([], [decided["age16"]])
    assert rules["underretning-acute-child"] == ([], [decided["age16_acute"]])
    queues = {q.queue: (q.gained, q.lost) for q in diff.queues}
    assert queues == {"omraade-stege": ([], [decided["age16"]]),
                      "beredskab": ([], [decided["age17"]]),
                      "infohus": ([], [decided["age16_acute"]]),
                      "underretning": ([], [decided["age16_acute"]])}


def test_a_raised_age_limit_routes_what_was_rejected(store: Store, pipeline: Pipeline,
                                                     shipped_policy: Policy) -> None:
    eighteen = _event(14, 9, subject={"cpr": make_cpr(dt.date(2007, 6, 1), "4", 9),
                                      "name": "Testperson"})
    ident = str(_decide(store, pipeline, eighteen, NOW - dt.timedelta(hours=1)).outcome.event_id)
    proposed = parse_policy(lowered_age_limit(18), "proposed.yaml")

    diff = policy_diff(store, shipped_policy, proposed, days=1, now=NOW)

    assert [(c.before, c.after, c.event_ids) for c in diff.changes] == [
        (Outcome("rejected", reason="outside_target_group"),
         Outcome("routed", ("omraade-stege",)), [ident])]
    assert [(q.queue, q.gained) for q in diff.queues] == [("omraade-stege", [ident])]


def test_the_stored_inputs_hold_no_identifier_and_no_free_text(
        store: Store, decided: dict[str, str]) -> None:
    stored = {d.event_id: d.inputs for d in store.decisions_since(NOW - dt.timedelta(days=30))}
    inputs = stored[decided["age16"]]
    assert inputs == {"age": 16, "agency": "school", "area": "stege", "category": "crime",
                      "collaboration": "SSP", "consent": "given", "kind": "concern",
                      "necessity": "stated", "purpose": "crime_prevention",
                      "severity": "medium"}
    assert decided["age16_old_hub"] not in stored
    assert store.not_replayable_since(NOW - dt.timedelta(days=30)) == 1


# -- the CLI -------------------------------------------------------------------------------
def _hub(tmp_path: Path, pipeline: Pipeline) -> tuple[Path, dict[int, str]]:
    data_dir = tmp_path / "hub"
    data_dir.mkdir()
    store = Store.open(Settings(data_dir=data_dir).resolved_database_url)
    try:
        recent = NOW - dt.timedelta(days=1)
        ids = {age: str(_decide(store, pipeline, _event(age, age), recent).outcome.event_id)
               for age in (14, 16, 17)}
    finally:
        store.close()
    return data_dir, ids


def test_cli_lists_the_affected_events(tmp_path: Path, pipeline: Pipeline) -> None:
    data_dir, ids = _hub(tmp_path, pipeline)
    proposed = tmp_path / "proposed.yaml"
    proposed.write_text(lowered_age_limit(16), encoding="utf-8")

    text = CliRunner().invoke(app, ["policy", "diff", str(proposed), "--data-dir",
                                    str(data_dir)])
    as_json = CliRunner().invoke(app, ["policy", "diff", str(proposed), "--days", "7",
                                       "--data-dir", str(data_dir), "--json"])

    assert text.exit_code == 0, text.output
    assert "3 replayed, 1 would change, 2 unchanged" in text.output
    assert "routed to omraade-stege  ->  rejected (outside_target_group)" in text.output
    assert "the proposal's own examples fail: ssp-target-group #1" in text.output
    assert ids[17] in text.output
    assert ids[16] not in text.output
    assert ids[14] not in text.output
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.output)
    assert (doc["days"], doc["replayed"], doc["changed"]) == (7, 3, 1)
    assert doc["changes"] == [{"from": {"status": "routed", "queues": ["omraade-stege"],
                                        "reason": None},
                               "to": {"status": "rejected", "queues": [],
                                      "reason": "outside_target_group"},
                               "count": 1, "event_ids": [ids[17]]}]
    assert doc["proposed_version"] == parse_policy(lowered_age_limit(16), "p").version
    assert doc["current_version"] == load_policy(SHIPPED_POLICY).version


def test_cli_refuses_an_invalid_proposal_naming_the_field(tmp_path: Path,
                                                          pipeline: Pipeline) -> None:
    data_dir, _ids = _hub(tmp_path, pipeline)
    proposed = tmp_path / "proposed.yaml"
    proposed.write_text(lowered_age_limit().replace("not_between: [0, 15]",
                                                    "not_between: [15, 0]"), encoding="utf-8")

    result = CliRunner().invoke(app, ["policy", "diff", str(proposed), "--data-dir",
                                      str(data_dir)])

    assert result.exit_code == 2
    assert "rules.2.when.age" in result.output
    assert "proposed.yaml" in result.output


def test_streaming_decisions_in_small_batches_misses_none_and_repeats_none(
        store: Store, decided: dict[str, str]) -> None:
    since = NOW - dt.timedelta(days=30)
    paged = sorted(d.event_id for d in store.decisions_since(since, batch=2))
    whole = sorted(d.event_id for d in store.decisions_since(since))

    assert paged == whole
    assert paged == sorted(v for k, v in decided.items()
                                   if k not in ("age16_old_hub", "age16_long_ago"))


def test_retention_deletes_decision_inputs_older_than_the_shortest_retention(
        store: Store, pipeline: Pipeline, shipped_policy: Policy, keyring: KeyRing) -> None:
    old = str(_decide(store, pipeline, _event(16, 10), NOW - dt.timedelta(days=400))
              .outcome.event_id)  # beredskab and opsoegende keep concerns 12 months
    recent = str(_decide(store, pipeline, _event(16, 11), NOW - dt.timedelta(days=300))
                 .outcome.event_id)

    run_retention(store, shipped_policy, keyring, now=NOW)

    kept = [d.event_id for d in store.decisions_since(NOW - dt.timedelta(days=3660))]
    assert kept == [recent]
    assert store.not_replayable_since(NOW - dt.timedelta(days=3660)) == 1  # the old one
    assert old not in kept
