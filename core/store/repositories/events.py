"""Ingested events: the API's claims, the worker's ledger of processed events, their outcomes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store import aggregates as agg
from core.store import bulk
from core.store.engine import reading
from core.store.repositories.concerns import insert_concerns
from core.store.repositories.decisions import inputs_json
from core.store.rows import aware, insert_ignore, utc_now
from core.store.tables import ACCEPTING, events, processed


class EventRepository:
    engine: Engine

    # Ingest is two-phase: a claim is ``accepting`` until the broker acknowledged the event,
    # then ``pending`` until the worker's outcome arrives. Readers see both as pending.
    def claim_event(self, event_id: str, agency: str, accepted_at: dt.datetime) -> bool:
        """Claim an event id before producing it. False if the id was seen before."""
        try:
            with self.engine.begin() as conn:
                conn.execute(events.insert().values(
                    event_id=event_id, agency=agency, status=ACCEPTING, queues="[]",
                    rule_ids="[]", accepted_at=accepted_at,
                ))
                agg.bump(conn, {(agg.OUTCOME, "", "pending"): 1})
        except sa.exc.IntegrityError:
            return False
        return True

    def take_over_stale_claim(self, event_id: str, agency: str, now: dt.datetime,
                              older_than: dt.timedelta) -> bool:
        """True if an earlier claim by the same agency never got its acknowledgement (the API
        died in between) and this caller may produce the event again. The worker's ledger
        absorbs the copy if the first one did reach the broker after all."""
        with self.engine.begin() as conn:
            result = conn.execute(events.update().where(
                (events.c.event_id == event_id) & (events.c.agency == agency)
                & (events.c.status == ACCEPTING) & (events.c.accepted_at < now - older_than)
            ).values(accepted_at=now))
            return bool(result.rowcount)

    def mark_accepted(self, event_id: str) -> None:
        """The broker acknowledged the event: ``accepting`` → ``pending``."""
        with self.engine.begin() as conn:
            conn.execute(events.update().where(
                (events.c.event_id == event_id) & (events.c.status == ACCEPTING)
            ).values(status="pending"))

    def release_event(self, event_id: str) -> None:
        """Undo :meth:`claim_event` when the broker never acknowledged the event."""
        with self.engine.begin() as conn:
            gone = conn.execute(events.delete().where(
                (events.c.event_id == event_id) & (events.c.status == ACCEPTING))).rowcount
            agg.bump(conn, {(agg.OUTCOME, "", "pending"): -int(gone)})

    def event(self, event_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(events).where(events.c.event_id == event_id)).first()
        if row is None:
            return None
        return {
            "event_id": row.event_id, "agency": row.agency,
            "status": "pending" if row.status == ACCEPTING else row.status,
            "queues": json.loads(row.queues), "reason": row.reason,
            "rule_ids": json.loads(row.rule_ids), "policy_version": row.policy_version,
            "accepted_at": aware(row.accepted_at), "decided_at": aware(row.decided_at),
        }

    def already_processed(self, event_ids: Iterable[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        with reading(self.engine) as conn:
            # bulk.select_in: its SQL compiled once, where SQLAlchemy's execute built, keyed
            # and looked up the statement again for every batch.
            rows = bulk.select_in(conn, [processed.c.event_id], processed.c.event_id, ids)
            return {r.event_id for r in rows}

    def project_outcomes(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Upsert outcomes. A decided outcome never goes back to pending. The outcome counts
        and the latency change by the status transitions only, read under the rows' lock in
        this transaction: a redelivered outcome changes nothing."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            agg.bump(conn, upsert_outcomes(conn, outcomes))

    def record_decided(self, ledger: Sequence[tuple[str, str]],
                       outcomes: Sequence[dict[str, Any]],
                       concern_rows: Sequence[dict[str, Any]]) -> None:
        """The route stage's batch in one transaction: its concerns and outcomes projected
        (as :meth:`project_concerns` and :meth:`project_outcomes` do) and its events marked
        processed. The ledger entry and the readable result commit together, so a replay
        after a crash either finds both or neither."""
        if not ledger and not outcomes and not concern_rows:
            return
        now = utc_now()
        with self.engine.begin() as conn, bulk.pipelined(conn):
            # Concerns first, as the projector does; the aggregates once, at the end, in key
            # order (core/store/aggregates.py: the one lock order of every writer).
            deltas = insert_concerns(conn, concern_rows)
            deltas.update(upsert_outcomes(conn, outcomes))
            agg.bump(conn, deltas)
            insert_ignore(conn, processed, [
                {"event_id": e, "status": s, "processed_at": now} for e, s in ledger],
                ["event_id"])

    def outcome_counts(self) -> dict[str, int]:
        """Events per status (``accepting`` counted as pending), from the aggregates."""
        with self.engine.connect() as conn:
            counts = agg.read(conn, [agg.OUTCOME])
        return {key: n for (_k, _p, key), n in counts.items() if n}

    def routed_latency_histogram(self, bounds: Sequence[float]
                                 ) -> tuple[list[int], int, float]:
        """Ingest → routed: from the API's acknowledgement (``accepted_at``) until the event's
        first concern is readable in the store (``routed_at``). Cumulative counts per bound,
        the total and the sum of seconds — from the maintained buckets. ``bounds`` must be
        among :data:`core.store.aggregates.LATENCY_BOUNDS`."""
        unknown = set(bounds) - set(agg.LATENCY_BOUNDS)
        if unknown:
            raise ValueError(f"no maintained latency bucket for {sorted(unknown)}")
        with self.engine.connect() as conn:
            counts = agg.read(conn, [agg.LATENCY, agg.LATENCY_SUM])
        per_bucket = {key: n for (kind, _p, key), n in counts.items() if kind == agg.LATENCY}
        cumulative = [sum(n for key, n in per_bucket.items() if key != agg.INF
                          and float(key) <= b) for b in bounds]
        micros = counts.get((agg.LATENCY_SUM, "", "sum"), 0)
        return cumulative, sum(per_bucket.values()), max(0.0, micros / 1e6)


def decision(version: str | None, status: str, decided_at: dt.datetime | None
             ) -> agg.Decision | None:
    return None if decided_at is None else (version or "", status, decided_at)


def upsert_outcomes(conn: sa.Connection, outcomes: Sequence[dict[str, Any]]) -> Counter[agg.Key]:
    """Upsert outcomes in ``conn``'s transaction (a decided outcome never goes back to
    pending); the aggregate deltas of the status transitions, read under the rows' lock, for
    the caller to add (a redelivered outcome changes nothing)."""
    if not outcomes:
        return Counter()
    latest = {o["event_id"]: o for o in outcomes}
    ids = sorted(latest)
    inserted = bulk.insert(conn, events, [
        {"event_id": e, "agency": latest[e]["agency"], "status": "pending",
         "queues": "[]", "rule_ids": "[]", "accepted_at": latest[e]["ingested_at"]}
        for e in ids], keys=["event_id"], returning=[events.c.event_id])
    before = {r.event_id: r for r in bulk.select_in(
        conn, [events.c.event_id, events.c.status, events.c.accepted_at,
               events.c.policy_version, events.c.decided_at], events.c.event_id, ids, lock=True)}
    bulk.update(conn, events, [
        {"event_id": o["event_id"], "status": o["status"],
         "queues": json.dumps(o["queues"]), "reason": o["reason"],
         "rule_ids": json.dumps(o["rule_ids"]), "policy_version": o["policy_version"],
         "decided_at": o["decided_at"], "decision_inputs": inputs_json(o)}
        for o in latest.values()], key="event_id")
    deltas: Counter[agg.Key] = Counter({(agg.OUTCOME, "", "pending"): len(inserted)})
    routed: dict[str, dt.datetime | None] = {}
    ids = [e for e in ids if e in before]  # (a claim released meanwhile: no row)
    for e in ids:
        old, new = agg.status_key(before[e].status), latest[e]["status"]
        if old != new:
            deltas[(agg.OUTCOME, "", old)] -= 1
            deltas[(agg.OUTCOME, "", new)] += 1
        if new == "routed":
            routed[e] = before[e].accepted_at
    deltas.update(agg.routed_events(conn, routed))
    agg.decisions(conn, [(decision(before[e].policy_version, before[e].status,
                                   before[e].decided_at),
                          decision(latest[e]["policy_version"], latest[e]["status"],
                                   latest[e]["decided_at"])) for e in ids])
    return deltas
