"""The inputs of each policy decision (``events.decision_inputs``) and the decisions they led
to, read back for a replay against a proposed policy (``hub/policy_diff.py``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import as_utc
from core.store.tables import events

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
    inputs: Mapping[str, str | int]


def inputs_json(outcome: Mapping[str, Any]) -> str | None:
    """The ``decision_inputs`` column for an outcome (None when it carries none)."""
    inputs = outcome.get("decision_inputs")
    return json.dumps(inputs, separators=(",", ":")) if inputs else None


class DecisionRepository:
    engine: Engine

    def decisions_since(self, since: dt.datetime, *, batch: int = 2000
                        ) -> Iterator[StoredDecision]:
        """Every event the policy decided at or after ``since`` whose inputs are stored, in no
        particular order: one pass over the events, streamed ``batch`` rows at a time (a server-
        side cursor on PostgreSQL), so that memory stays flat and nothing is sorted."""
        stmt = (sa.select(events.c.event_id, events.c.status, events.c.queues, events.c.reason,
                          events.c.rule_ids, events.c.policy_version, events.c.decision_inputs)
                .where(events.c.status.in_(DECIDED) & (events.c.decided_at >= as_utc(since))
                       & events.c.decision_inputs.is_not(None)))
        with self.engine.connect() as conn:
            for r in conn.execution_options(yield_per=batch).execute(stmt):
                yield StoredDecision(
                    event_id=r.event_id, status=r.status, queues=tuple(json.loads(r.queues)),
                    reason=r.reason, rule_ids=tuple(json.loads(r.rule_ids)),
                    policy_version=r.policy_version, inputs=json.loads(r.decision_inputs))

    def not_replayable_since(self, since: dt.datetime) -> int:
        """Events decided at or after ``since`` without stored inputs (decided before migration
        0011, or pruned by retention): they cannot be replayed."""
        stmt = sa.select(sa.func.count()).select_from(events).where(
            events.c.status.in_(DECIDED) & (events.c.decided_at >= as_utc(since))
            & events.c.decision_inputs.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def prune_decision_inputs(self, before: dt.datetime) -> int:
        """Forget the inputs of decisions made before ``before`` (retention); returns how many."""
        with self.engine.begin() as conn:
            return int(conn.execute(events.update().where(
                (events.c.decided_at < as_utc(before)) & events.c.decision_inputs.is_not(None)
            ).values(decision_inputs=None)).rowcount)
