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

from core.store.rows import as_utc, aware, insert_ignore
from core.store.tables import decision_inputs, events

# The outcomes a policy decided (quarantined events never reached the policy).
DECIDED = ("routed", "rejected", "aggregated")


@dataclass(frozen=True)
class StoredDecision:
    """One decided event as stored: its outcome, and the facts it was decided on (None when it
    was decided before those were stored, migration 0009: it cannot be replayed)."""

    event_id: str
    status: str
    queues: tuple[str, ...]
    reason: str | None
    rule_ids: tuple[str, ...]
    policy_version: str | None
    decided_at: dt.datetime
    inputs: Mapping[str, str | int] | None


def record_decision_inputs(conn: sa.Connection, outcomes: Sequence[Mapping[str, Any]]) -> None:
    """Store the decision inputs an outcome carries (in the projector's transaction). The first
    write wins: a redelivered outcome changes nothing."""
    rows = [{"event_id": o["event_id"], "decided_at": as_utc(o["decided_at"]),
             "inputs": json.dumps(o["decision_inputs"], sort_keys=True, separators=(",", ":"))}
            for o in outcomes if o.get("decision_inputs") and o.get("decided_at")]
    insert_ignore(conn, decision_inputs, rows, ["event_id"])


class DecisionRepository:
    engine: Engine

    def decisions_since(self, since: dt.datetime, *, batch: int = 2000
                        ) -> Iterator[StoredDecision]:
        """Every event the policy decided at or after ``since``, oldest first, with its inputs
        where they were stored. Read in pages of ``batch`` so that memory stays flat."""
        after: tuple[dt.datetime, str] | None = None
        while True:
            page = self._decision_page(as_utc(since), after, batch)
            yield from page
            if len(page) < batch:
                return
            after = (as_utc(page[-1].decided_at), page[-1].event_id)

    def _decision_page(self, since: dt.datetime, after: tuple[dt.datetime, str] | None,
                       batch: int) -> list[StoredDecision]:
        stmt = (sa.select(events.c.event_id, events.c.status, events.c.queues, events.c.reason,
                          events.c.rule_ids, events.c.policy_version, events.c.decided_at,
                          decision_inputs.c.inputs)
                .select_from(events.outerjoin(
                    decision_inputs, decision_inputs.c.event_id == events.c.event_id))
                .where(events.c.status.in_(DECIDED) & (events.c.decided_at >= since))
                .order_by(events.c.decided_at, events.c.event_id).limit(batch))
        if after is not None:
            stmt = stmt.where(sa.tuple_(events.c.decided_at, events.c.event_id) > after)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [StoredDecision(
            event_id=r.event_id, status=r.status, queues=tuple(json.loads(r.queues)),
            reason=r.reason, rule_ids=tuple(json.loads(r.rule_ids)),
            policy_version=r.policy_version, decided_at=aware(r.decided_at) or since,
            inputs=json.loads(r.inputs) if r.inputs is not None else None) for r in rows]
