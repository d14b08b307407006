"""Maintained aggregates (issue 15 §4): governance counts and metrics without full scans.

Every write that changes a count adds its delta to the ``aggregates`` table in the same
transaction, by upsert (``n = n + excluded.n``), so several worker processes can write at once
without a read-modify-write. The writes themselves are idempotent (insert-ignore with
``RETURNING``, status transitions read under a row lock), so a redelivered batch adds nothing.

Kinds (``period`` is the local month of the concern's ``occurred_at``, else ""):

* ``category`` / ``area`` (month, category/area): routed events, counted once when their first
  concern lands, wherever their queues are projected;
* ``queue`` (month, queue): routed concerns — the governance report. Governance counts what
  happened: retention and erasure do not take it back;
* ``held`` ("", queue): concerns held now — the ``/metrics`` gauge and ``GET /api/v1/queues``.
  Retention deletes concerns, and this count goes down with them;
* ``outcome`` ("", status): events per status (``accepting`` counted as ``pending``);
* ``latency`` ("", bound): ingest→routed seconds of routed events, one bucket per event (the
  smallest bound not below it, or ``+Inf``); ``latency_us`` ("", "sum"): their sum in µs.

:func:`recount` computes the same numbers from the base tables (the migration's backfill, and
the tests' check that maintenance never drifts).
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from core.store import bulk
from core.store.rows import as_utc
from core.store.tables import (
    ACCEPTING,
    aggregate_events,
    aggregates,
    concerns,
    events,
    policy_decisions,
)

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
LATENCY_BOUNDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
INF = "+Inf"

CATEGORY, AREA, QUEUE, HELD, OUTCOME = "category", "area", "queue", "held", "outcome"
LATENCY, LATENCY_SUM = "latency", "latency_us"

Key = tuple[str, str, str]  # (kind, period, key)


def local_month(at: dt.datetime) -> str:
    """YYYY-MM of ``at`` in Europe/Copenhagen (naive times are UTC, as stored)."""
    local = as_utc(at).astimezone(LOCAL_TZ)
    return f"{local.year:04d}-{local.month:02d}"


def status_key(status: str) -> str:
    return "pending" if status == ACCEPTING else status


def latency_deltas(seconds: float) -> Counter[Key]:
    """One event's ingest→routed seconds as deltas: its bucket and its share of the sum."""
    i = bisect.bisect_left(LATENCY_BOUNDS, seconds)
    bucket = repr(LATENCY_BOUNDS[i]) if i < len(LATENCY_BOUNDS) else INF
    return Counter({(LATENCY, "", bucket): 1, (LATENCY_SUM, "", "sum"): round(seconds * 1e6)})


def bump(conn: sa.Connection, deltas: Mapping[Key, int]) -> None:
    """Add ``deltas`` to the aggregates, in key order (the same lock order in every writer,
    so concurrent transactions on PostgreSQL never deadlock on these rows)."""
    rows = [{"kind": k, "period": p, "key": key, "n": n}
            for (k, p, key), n in sorted(deltas.items()) if n]
    if not rows:
        return
    bulk.insert(conn, aggregates, rows, keys=["kind", "period", "key"],
                update=lambda ins: {"n": aggregates.c.n + ins.excluded.n})


def read(conn: sa.Connection, kinds: Sequence[str]) -> dict[Key, int]:
    rows = conn.execute(sa.select(aggregates).where(aggregates.c.kind.in_(list(kinds))))
    return {(r.kind, r.period, r.key): int(r.n) for r in rows}


def current(conn: sa.Connection) -> dict[Key, int]:
    """Every maintained aggregate that is not zero (compare with :func:`recount`)."""
    return {(r.kind, r.period, r.key): int(r.n)
            for r in conn.execute(sa.select(aggregates).where(aggregates.c.n != 0))}


def first_concerns(conn: sa.Connection, firsts: Mapping[str, dict[str, Any]],
                   now: dt.datetime) -> Counter[Key]:
    """Mark ``firsts`` (event id → one of its concerns just inserted) as having a concern;
    the deltas for the events whose first concern this is: category, area and, if their
    outcome said routed already, the latency — up to ``now``, the stamp of the transaction
    whose concern is the first one committed (a recount takes the earliest ``routed_at``,
    which differs when two transactions project one event's queues at once)."""
    if not firsts:
        return Counter()
    new = bulk.insert(
        conn, aggregate_events, [{"event_id": e, "first_routed_at": now, "routed": False,
                                  "accepted_at": None} for e in sorted(firsts)],
        keys=["event_id"],
        update=lambda ins: {"first_routed_at": ins.excluded.first_routed_at},
        where=lambda _ins: aggregate_events.c.first_routed_at.is_(None),
        returning=[aggregate_events.c.event_id, aggregate_events.c.routed,
                   aggregate_events.c.accepted_at])
    out: Counter[Key] = Counter()
    for r in new:
        row = firsts[r.event_id]
        out.update(event_deltas(row["payload"], row["occurred_at"]))
        if r.routed and r.accepted_at is not None:
            out.update(latency_deltas((now - as_utc(r.accepted_at)).total_seconds()))
    return out


def event_deltas(payload: str, occurred_at: dt.datetime) -> Counter[Key]:
    doc = json.loads(payload)
    month = local_month(occurred_at)
    return Counter({(CATEGORY, month, str(doc.get("category", ""))): 1,
                    (AREA, month, str(doc.get("area", ""))): 1})


def routed_events(conn: sa.Connection, accepted: Mapping[str, dt.datetime | None]
                  ) -> Counter[Key]:
    """Mark the events in ``accepted`` (event id → accepted_at) as routed; the latency deltas
    of those whose first concern had landed already (the others count when it lands)."""
    if not accepted:
        return Counter()
    new = bulk.insert(
        conn, aggregate_events, [{"event_id": e, "first_routed_at": None, "routed": True,
                                  "accepted_at": accepted[e]} for e in sorted(accepted)],
        keys=["event_id"],
        update=lambda ins: {"routed": True, "accepted_at": ins.excluded.accepted_at},
        where=lambda _ins: aggregate_events.c.routed.is_(False),
        returning=[aggregate_events.c.first_routed_at, aggregate_events.c.accepted_at])
    out: Counter[Key] = Counter()
    for r in new:
        if r.first_routed_at is not None and r.accepted_at is not None:
            out.update(latency_deltas(
                (as_utc(r.first_routed_at) - as_utc(r.accepted_at)).total_seconds()))
    return out


Decision = tuple[str, str, dt.datetime]  # (policy version or "", status, decided_at)


def decisions(conn: sa.Connection, changes: Iterable[tuple[Decision | None, Decision | None]]
              ) -> None:
    """Apply decision changes (before, after) of events to ``policy_decisions``: the group an
    event leaves loses one, the group it joins gains one and widens its first/last. A
    redelivered outcome (same group) only widens them."""
    groups: dict[tuple[str, str], tuple[int, dt.datetime, dt.datetime]] = {}

    def add(d: Decision, n: int) -> None:
        at = as_utc(d[2])
        n0, first, last = groups.get((d[0], d[1]), (0, at, at))
        groups[(d[0], d[1])] = (n0 + n, min(first, at), max(last, at))
    for old, new in changes:
        if old is not None and (new is None or old[:2] != new[:2]):
            add(old, -1)
        if new is not None:
            add(new, 0 if old is not None and old[:2] == new[:2] else 1)
    if not groups:
        return
    t = policy_decisions

    def widened(ins: Any) -> dict[str, Any]:
        return {"n": t.c.n + ins.excluded.n,
                "first_at": sa.case((ins.excluded.first_at < t.c.first_at, ins.excluded.first_at),
                                    else_=t.c.first_at),
                "last_at": sa.case((ins.excluded.last_at > t.c.last_at, ins.excluded.last_at),
                                   else_=t.c.last_at)}
    bulk.insert(conn, t, [{"policy_version": v, "status": st, "n": n, "first_at": f,
                           "last_at": la} for (v, st), (n, f, la) in sorted(groups.items())],
                keys=["policy_version", "status"], update=widened)


# --- recount from the base tables (backfill, and the check that nothing drifts) ---------------

def recount(conn: sa.Connection, batch: int = 5000) -> Counter[Key]:
    """Every aggregate, counted from ``events`` and ``concerns`` as they are now."""
    out: Counter[Key] = Counter()
    label = sa.case((events.c.status == ACCEPTING, "pending"), else_=events.c.status)
    for status, n in conn.execute(sa.select(label, sa.func.count()).group_by(label)):
        out[(OUTCOME, "", status)] += int(n)
    for queue, n in conn.execute(sa.select(concerns.c.queue, sa.func.count())
                                 .group_by(concerns.c.queue)):
        out[(HELD, "", queue)] += int(n)
    out.update(_recount_concerns(conn, batch))
    out.update(_recount_latency(conn, batch))
    return Counter({k: n for k, n in out.items() if n})


def _recount_concerns(conn: sa.Connection, batch: int) -> Counter[Key]:
    out: Counter[Key] = Counter()
    last = None
    stmt = (sa.select(concerns.c.event_id, concerns.c.queue, concerns.c.payload,
                      concerns.c.occurred_at)
            .order_by(concerns.c.event_id, concerns.c.queue))
    for r in conn.execute(stmt.execution_options(yield_per=batch)):
        out[(QUEUE, local_month(r.occurred_at), r.queue)] += 1
        if r.event_id != last:
            out.update(event_deltas(r.payload, r.occurred_at))
            last = r.event_id
    return out


def _recount_latency(conn: sa.Connection, batch: int) -> Counter[Key]:
    first = (sa.select(concerns.c.event_id, sa.func.min(concerns.c.routed_at).label("at"))
             .group_by(concerns.c.event_id).subquery())
    stmt = (sa.select(first.c.at, events.c.accepted_at)
            .select_from(events.join(first, first.c.event_id == events.c.event_id))
            .where((events.c.status == "routed") & events.c.accepted_at.is_not(None)))
    out: Counter[Key] = Counter()
    for r in conn.execute(stmt.execution_options(yield_per=batch)):
        out.update(latency_deltas((as_utc(r.at) - as_utc(r.accepted_at)).total_seconds()))
    return out


def backfill(conn: sa.Connection) -> None:
    """Fill ``aggregate_events`` and ``aggregates`` from the base tables (migration 0007)."""
    firsts = (sa.select(concerns.c.event_id, sa.func.min(concerns.c.routed_at),
                        sa.false(), sa.null())
              .group_by(concerns.c.event_id))
    conn.execute(aggregate_events.insert().from_select(
        ["event_id", "first_routed_at", "routed", "accepted_at"], firsts))
    routed = (events.c.event_id == aggregate_events.c.event_id) & (events.c.status == "routed")
    conn.execute(aggregate_events.update().where(sa.exists().where(routed)).values(
        routed=True, accepted_at=sa.select(events.c.accepted_at).where(
            events.c.event_id == aggregate_events.c.event_id).scalar_subquery()))
    missing = ~sa.exists().where(aggregate_events.c.event_id == events.c.event_id)
    conn.execute(aggregate_events.insert().from_select(
        ["event_id", "first_routed_at", "routed", "accepted_at"],
        sa.select(events.c.event_id, sa.null(), sa.true(), events.c.accepted_at)
        .where((events.c.status == "routed") & missing)))
    bump(conn, recount(conn))
    version = sa.func.coalesce(events.c.policy_version, "")
    conn.execute(policy_decisions.insert().from_select(
        ["policy_version", "status", "n", "first_at", "last_at"],
        sa.select(version, events.c.status, sa.func.count(), sa.func.min(events.c.decided_at),
                  sa.func.max(events.c.decided_at))
        .where(events.c.decided_at.is_not(None)).group_by(version, events.c.status)))


def as_table(counts: Mapping[Key, int], kind: str) -> dict[tuple[str, str], int]:
    """One kind's counts as {(key, period): n}."""
    return {(key, period): n for (k, period, key), n in counts.items() if k == kind}
