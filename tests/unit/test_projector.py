"""The projector's mapping from topic records to store rows, and its idempotent writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from core.policy.evaluator import load_policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import new_keyring
from core.store import Store
from streams.pipeline import Pipeline, Routed, concern_json, outcome_json
from streams.projector import rows_from_records
from tests.unit.factories import SHIPPED_POLICY, make_event, record_for

NOW = dt.datetime(2026, 3, 2, 13, 7, tzinfo=dt.UTC)


def _routed() -> Routed:
    ring = new_keyring()
    pipeline = Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"),
                        load_policy(SHIPPED_POLICY))
    result = pipeline.process(record_for(pipeline.cipher, make_event(
        "school", category="insecurity", area="stege")), NOW)
    assert isinstance(result, Routed)
    return result


def test_outcome_and_concern_records_become_store_rows() -> None:
    result = _routed()
    records = [("cases." + c.queue, concern_json(c)) for c in result.concerns]
    records.append(("outcomes", outcome_json(result.outcome)))

    outcomes, concerns = rows_from_records(records)

    assert [o["status"] for o in outcomes] == ["routed"]
    assert outcomes[0]["decided_at"] == NOW
    assert [(c["event_id"], c["queue"]) for c in concerns] == [
        (str(result.outcome.event_id), q) for q in result.outcome.queues]
    assert all(c["pseudonym"].startswith("ssp1:") for c in concerns)


def test_projecting_the_same_records_twice_changes_nothing(tmp_path: Path) -> None:
    result = _routed()
    records = [("cases." + c.queue, concern_json(c)) for c in result.concerns]
    records.append(("outcomes", outcome_json(result.outcome)))
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        for _ in range(2):
            outcomes, concerns = rows_from_records(records)
            store.project_concerns(concerns)
            store.project_outcomes(outcomes)
        assert store.outcome_counts() == {"routed": 1}
        assert store.queue_counts(None) == {q: 1 for q in result.outcome.queues}
    finally:
        store.close()


def test_latency_histogram_runs_from_acceptance_until_the_concern_is_readable(
        tmp_path: Path) -> None:
    result = _routed()
    event_id = str(result.outcome.event_id)
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        accepted = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        assert store.claim_event(event_id, "school", accepted)
        outcomes, concerns = rows_from_records(
            [("cases." + c.queue, concern_json(c)) for c in result.concerns]
            + [("outcomes", outcome_json(result.outcome))])
        store.project_concerns(concerns)  # routed_at = now, about 2 s after acceptance
        store.project_outcomes(outcomes)

        cumulative, total, seconds = store.routed_latency_histogram([1.0, 2.5, 60.0])
    finally:
        store.close()
    assert (cumulative, total) == ([0, 1, 1], 1)
    assert 1.9 < seconds < 2.5


def test_the_route_stage_records_concerns_outcome_and_ledger_together(tmp_path: Path) -> None:
    """``record_decided`` (the route stage's one transaction): all of it, once, however
    often it runs; and none of it when any part fails, so a replay finds the event not yet
    processed and decides it again."""
    result = _routed()
    event_id = str(result.outcome.event_id)
    records = [("cases." + c.queue, concern_json(c)) for c in result.concerns]
    records.append(("outcomes", outcome_json(result.outcome)))
    outcomes, concerns = rows_from_records(records)
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        broken = [{k: v for k, v in o.items() if k != "agency"} for o in outcomes]
        with pytest.raises(KeyError):
            store.record_decided([(event_id, "routed")], broken, concerns)
        assert store.already_processed([event_id]) == set()
        assert store.queue_counts(None) == {}
        assert store.concern(event_id, result.outcome.queues[0]) is None

        for _ in range(2):
            store.record_decided([(event_id, "routed")], outcomes, concerns)
        assert store.already_processed([event_id]) == {event_id}
        assert store.outcome_counts() == {"routed": 1}
        assert store.queue_counts(None) == {q: 1 for q in result.outcome.queues}
        assert store.event(event_id)["status"] == "routed"  # type: ignore[index]
    finally:
        store.close()
