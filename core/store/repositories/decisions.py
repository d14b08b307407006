"""The inputs of each policy decision (``decision_inputs``) and the decisions they led to, read
back for a replay against a proposed policy (``hub/policy_diff.py``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store import bulk
from core.store.rows import as_utc
from core.store.tables import decision_inputs, events

# The outcomes a policy decided (quarantined events never reached the policy).
DECIDED = ("routed", "rejected", "aggregated")


@dataclass(frozen=True)
class StoredDecision:
    """One decided event as stored: its outcome, and the facts it was decided on."""

    event_id: str
    status: str
    queues: tuple[str, ...]
    reason: str | None
    rule_ids: tuple[str, ...]
    policy_version: str | None
    decided_at: dt.datetime
    inputs: Mapping[str, str | int]


def record_decision_inputs(conn: sa.Connection, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """Store the decision inputs an outcome carries (in the projector's transaction). The first
    write wins: a redelivered outcome changes nothing."""
    rows = [{"event_id": o["event_id"], "decided_at": as_utc(o["decided_at"]),
             "inputs": json.dumps(o["decision_inputs"], separators=(",", ":"))}
            for o in outcomes if o.get("decision_inputs") and o.get("decided_at")]
    bulk.insert(conn, decision_inputs, rows, keys=["event_id"])


class DecisionRepository:
    engine: Engine

    def decisions_since(self, since: dt.datetime, *, batch: int = 2000
                        ) -> Iterator[StoredDecision]:
        """Every event the policy decided at or after ``since`` whose inputs were stored, oldest
        first. Read in pages of ``batch`` along the index on (decided_at, event_id), each page's
        outcomes then by primary key, so that memory stays flat and nothing sorts a table."""
        after: tuple[dt.datetime, str] | None = None
        while True:
            page = self._inputs_page(as_utc(since), after, batch)
            yield from self._with_outcomes(page)
            if len(page) < batch:
                return
            after = (as_utc(page[-1].decided_at), page[-1].event_id)

    def prune_decision_inputs(self, before: dt.datetime) -> int:
        """Delete the inputs of decisions made before ``before`` (retention); returns how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(decision_inputs.delete().where(
                decision_inputs.c.decided_at < as_utc(before))).rowcount)

    def not_replayable_since(self, since: dt.datetime) -> int:
        """Events decided at or after ``since`` without stored inputs (decided before migration
        0009): they cannot be replayed."""
        stored = sa.exists().where(decision_inputs.c.event_id == events.c.event_id)
        stmt = sa.select(sa.func.count()).select_from(events).where(
            events.c.status.in_(DECIDED) & (events.c.decided_at >= as_utc(since)) & ~stored)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def _inputs_page(self, since: dt.datetime, after: tuple[dt.datetime, str] | None,
                     batch: int) -> list[Any]:
        di = decision_inputs
        stmt = (sa.select(di.c.event_id, di.c.decided_at, di.c.inputs)
                .where(di.c.decided_at >= since)
                .order_by(di.c.decided_at, di.c.event_id).limit(batch))
        if after is not None:
            stmt = stmt.where(sa.tuple_(di.c.decided_at, di.c.event_id) > after)
        with self.engine.connect() as conn:
            return list(conn.execute(stmt).all())

    def _with_outcomes(self, page: Sequence[Any]) -> list[StoredDecision]:
        if not page:
            return []
        with self.engine.connect() as conn:
            found = {r.event_id: r for r in conn.execute(
                sa.select(events.c.event_id, events.c.status, events.c.queues, events.c.reason,
                          events.c.rule_ids, events.c.policy_version)
                .where(bulk.among(conn, events.c.event_id, [p.event_id for p in page])))}
        decided = [(p, found[p.event_id]) for p in page
                   if p.event_id in found and found[p.event_id].status in DECIDED]
        return [StoredDecision(
            event_id=p.event_id, status=r.status, queues=tuple(json.loads(r.queues)),
            reason=r.reason, rule_ids=tuple(json.loads(r.rule_ids)),
            policy_version=r.policy_version, decided_at=as_utc(p.decided_at),
            inputs=json.loads(p.inputs)) for p, r in decided]
