"""Routed concerns per queue, their case status and its history; governance statistics."""

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
from core.store.rows import (
    Page,
    as_utc,
    aware,
    decode_cursor,
    decode_time_cursor,
    encode_cursor,
    encode_time_cursor,
    utc_now,
)
from core.store.tables import (
    concern_status,
    concern_status_history,
    concerns,
    policy_decisions,
)


class ConcernRepository:
    engine: Engine

    def project_concerns(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert the concerns not stored yet and, in the same transaction, count exactly
        those in the aggregates (a redelivered or re-projected concern adds nothing)."""
        if not rows:
            return
        with self.engine.begin() as conn:
            agg.bump(conn, insert_concerns(conn, rows))

    def queue_counts(self, queues: Sequence[str] | None) -> dict[str, int]:
        """Concerns held per queue now (the maintained ``held`` aggregate; retention lowers
        it); queues holding none are left out."""
        with self.engine.connect() as conn:
            held = agg.as_table(agg.read(conn, [agg.HELD]), agg.HELD)
        wanted = None if queues is None else set(queues)
        return {q: n for (q, _p), n in held.items() if n and (wanted is None or q in wanted)}

    def concerns_page(self, *, queues: Sequence[str], pseudonym: str | None, limit: int,
                      cursor: str | None) -> Page:
        stmt = sa.select(concerns.c.seq, concerns.c.payload).where(
            concerns.c.queue.in_(list(queues)))
        if pseudonym is not None:
            stmt = stmt.where(concerns.c.pseudonym == pseudonym)
        if cursor is not None:
            stmt = stmt.where(concerns.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(concerns.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[json.loads(r.payload) for r in rows],
            next_cursor=encode_cursor(rows[-1].seq) if more and rows else None,
        )

    def subject_visible(self, *, queues: Sequence[str], pseudonyms: Iterable[str]) -> bool:
        """True if any concern about one of ``pseudonyms`` lies in one of ``queues``."""
        names, qs = list(pseudonyms), list(queues)
        if not names or not qs:
            return False
        stmt = sa.select(concerns.c.seq).where(
            concerns.c.pseudonym.in_(names) & concerns.c.queue.in_(qs)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(stmt).first() is not None

    def subject_concerns_page(self, *, queues: Sequence[str], pseudonyms: Iterable[str],
                              limit: int, cursor: str | None) -> Page:
        """The joint view: concerns about any of ``pseudonyms`` in ``queues``, oldest first
        (``occurred_at``, then arrival). Raises ValueError on a foreign cursor."""
        stmt = sa.select(concerns.c.seq, concerns.c.occurred_at, concerns.c.payload).where(
            concerns.c.queue.in_(list(queues)) & concerns.c.pseudonym.in_(list(pseudonyms)))
        if cursor is not None:
            after, seq = decode_time_cursor(cursor)
            stmt = stmt.where((concerns.c.occurred_at > after)
                              | ((concerns.c.occurred_at == after) & (concerns.c.seq > seq)))
        stmt = stmt.order_by(concerns.c.occurred_at.asc(), concerns.c.seq.asc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        return Page(
            items=[json.loads(r.payload) for r in rows],
            next_cursor=None if last is None else encode_time_cursor(last.occurred_at, last.seq),
        )

    def concern(self, event_id: str, queue: str) -> dict[str, Any] | None:
        """One routed concern as its queue received it."""
        with self.engine.connect() as conn:
            payload = conn.execute(sa.select(concerns.c.payload).where(
                (concerns.c.event_id == event_id) & (concerns.c.queue == queue))).scalar()
        return None if payload is None else dict(json.loads(payload))

    def inbox_page(self, *, queues: Sequence[str], status: str | None, limit: int,
                   cursor: str | None) -> Page:
        """Concerns in ``queues``, newest first, each with ``_status`` (its case status; "ny"
        when none was set); ``status`` keeps only those with that status."""
        current = sa.func.coalesce(concern_status.c.status, "ny")
        stmt = (sa.select(concerns.c.seq, concerns.c.payload, current.label("status"))
                .select_from(concerns.outerjoin(concern_status, sa.and_(
                    concern_status.c.event_id == concerns.c.event_id,
                    concern_status.c.queue == concerns.c.queue)))
                .where(concerns.c.queue.in_(list(queues))))
        if status is not None:
            stmt = stmt.where(current == status)
        if cursor is not None:
            stmt = stmt.where(concerns.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(concerns.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(items=[{**json.loads(r.payload), "_status": r.status} for r in rows],
                    next_cursor=encode_cursor(rows[-1].seq) if more and rows else None)

    def statuses(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The case status of each (event id, queue) that has one (no row: "ny")."""
        wanted = set(keys)
        if not wanted:
            return {}
        ids = sorted({e for e, _ in wanted})
        out: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(sa.select(concern_status).where(
                    concern_status.c.event_id.in_(ids[i:i + 500])))
                for r in rows:
                    if (r.event_id, r.queue) in wanted:
                        out[(r.event_id, r.queue)] = {
                            "status": r.status, "note": r.note, "principal": r.principal,
                            "updated_at": as_utc(r.updated_at)}
        return out

    def set_status(self, event_id: str, queue: str, status: str, note: str | None,
                   principal: str, at: dt.datetime) -> None:
        """Set a concern's case status, keeping the change in its history."""
        values = {"status": status, "note": note, "principal": principal}
        with self.engine.begin() as conn:
            done = conn.execute(concern_status.update().where(
                (concern_status.c.event_id == event_id) & (concern_status.c.queue == queue))
                .values(**values, updated_at=as_utc(at))).rowcount
            if not done:
                conn.execute(concern_status.insert().values(
                    event_id=event_id, queue=queue, **values, updated_at=as_utc(at)))
            conn.execute(concern_status_history.insert().values(
                event_id=event_id, queue=queue, **values, at=as_utc(at)))

    def status_history(self, event_id: str, queue: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(concern_status_history).where(
                (concern_status_history.c.event_id == event_id)
                & (concern_status_history.c.queue == queue))
                .order_by(concern_status_history.c.seq))
            return [{"status": r.status, "note": r.note, "principal": r.principal,
                     "at": as_utc(r.at)} for r in rows]

    def governance_counts(self) -> dict[str, dict[tuple[str, str], int]]:
        """The governance report's counts, from the maintained aggregates: per kind
        (``category`` and ``area``: routed events; ``queue``: routed concerns) a map
        {(key, local month YYYY-MM): n}. Retention does not lower them."""
        kinds = [agg.CATEGORY, agg.AREA, agg.QUEUE]
        with self.engine.connect() as conn:
            counts = agg.read(conn, kinds)
        return {kind: agg.as_table(counts, kind) for kind in kinds}

    def policy_decisions(self) -> list[dict[str, Any]]:
        """Decided events per policy version and outcome, with the first and last decision
        (maintained with the outcomes, core/store/aggregates.py)."""
        t = policy_decisions
        stmt = sa.select(t).where(t.c.n != 0).order_by(t.c.policy_version, t.c.status)
        with self.engine.connect() as conn:
            return [{"policy_version": r.policy_version, "status": r.status, "count": int(r.n),
                     "first": aware(r.first_at), "last": aware(r.last_at)}
                    for r in conn.execute(stmt)]


def insert_concerns(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> Counter[agg.Key]:
    """Insert the concerns not stored yet, in ``conn``'s transaction; the aggregate deltas of
    exactly those (for the caller to add in one :func:`agg.bump` at the end)."""
    if not rows:
        return Counter()
    now = utc_now()
    unique = {(r["event_id"], r["queue"]): r for r in rows}
    values = [{"event_id": e, "queue": q, "pseudonym": r["pseudonym"],
               "payload": r["payload"], "occurred_at": as_utc(r["occurred_at"]),
               "routed_at": now} for (e, q), r in sorted(unique.items())]
    inserted = [unique[(r.event_id, r.queue)] for r in bulk.insert(
        conn, concerns, values, keys=["event_id", "queue"],
        returning=[concerns.c.event_id, concerns.c.queue])]
    deltas: Counter[agg.Key] = Counter()
    months: dict[dt.datetime, str] = {}
    for r in inserted:
        month = months.get(r["occurred_at"]) or months.setdefault(
            r["occurred_at"], agg.local_month(r["occurred_at"]))
        deltas[(agg.QUEUE, month, r["queue"])] += 1
        deltas[(agg.HELD, "", r["queue"])] += 1
    deltas.update(agg.first_concerns(conn, {r["event_id"]: r for r in inserted}, now))
    return deltas
