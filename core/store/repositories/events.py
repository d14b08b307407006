"""Ingested events: the API's claims, the worker's ledger of processed events, their outcomes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import aware, insert_ignore, utc_now
from core.store.tables import ACCEPTING, concerns, events, processed


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
            conn.execute(events.delete().where(
                (events.c.event_id == event_id) & (events.c.status == ACCEPTING)))

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
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(processed.c.event_id).where(processed.c.event_id.in_(ids))
            )
            return {r.event_id for r in rows}

    def mark_processed(self, outcomes: Sequence[tuple[str, str]]) -> None:
        if not outcomes:
            return
        now = utc_now()
        rows = [{"event_id": e, "status": s, "processed_at": now} for e, s in outcomes]
        with self.engine.begin() as conn:
            insert_ignore(conn, processed, rows, ["event_id"])

    def project_outcomes(self, outcomes: Sequence[dict[str, Any]]) -> None:
        """Upsert outcomes. A decided outcome never goes back to pending."""
        if not outcomes:
            return
        with self.engine.begin() as conn:
            insert_ignore(conn, events, [
                {"event_id": o["event_id"], "agency": o["agency"], "status": "pending",
                 "queues": "[]", "rule_ids": "[]", "accepted_at": o["ingested_at"]}
                for o in outcomes
            ], ["event_id"])
            conn.execute(
                events.update().where(events.c.event_id == sa.bindparam("b_event_id")),
                [{"b_event_id": o["event_id"], "status": o["status"],
                  "queues": json.dumps(o["queues"]), "reason": o["reason"],
                  "rule_ids": json.dumps(o["rule_ids"]), "policy_version": o["policy_version"],
                  "decided_at": o["decided_at"]} for o in outcomes],
            )

    def outcome_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(events.c.status, sa.func.count())
                                .group_by(events.c.status))
            counts: dict[str, int] = {}
            for status, n in rows:
                key = "pending" if status == ACCEPTING else status
                counts[key] = counts.get(key, 0) + int(n)
            return counts

    def routed_latency_histogram(self, bounds: Sequence[float]
                                 ) -> tuple[list[int], int, float]:
        """Ingest → routed: from the API's acknowledgement (``accepted_at``) until the event's
        first concern is readable in the store (``routed_at``). Cumulative counts per bound,
        the total and the sum of seconds — counted in SQL, not by loading rows."""
        first = (sa.select(concerns.c.event_id,
                           sa.func.min(concerns.c.routed_at).label("routed_at"))
                 .group_by(concerns.c.event_id).subquery())
        if self.engine.dialect.name == "sqlite":
            seconds = (sa.func.julianday(first.c.routed_at)
                       - sa.func.julianday(events.c.accepted_at)) * 86400.0
        else:
            seconds = sa.func.extract("epoch", first.c.routed_at - events.c.accepted_at)
        cols = [sa.func.coalesce(sa.func.sum(sa.case((seconds <= b, 1), else_=0)), 0)
                for b in bounds]
        stmt = (sa.select(*cols, sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0.0))
                .select_from(events.join(first, first.c.event_id == events.c.event_id))
                .where((events.c.status == "routed") & events.c.accepted_at.is_not(None)))
        with self.engine.connect() as conn:
            row = conn.execute(stmt).one()
        return [int(v) for v in row[:-2]], int(row[-2]), max(0.0, float(row[-1]))
