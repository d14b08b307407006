"""Refused requests on record (no personal data): written by the API, read by the web UI."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import Page, as_utc, aware, decode_cursor, encode_cursor
from core.store.tables import refusals


class RefusalRepository:
    engine: Engine

    def record_refusals(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append refusals: dicts with at, principal, token_hash, method, route, status,
        reason."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(refusals.insert(), [
                {**r, "at": as_utc(r["at"])} for r in rows])

    def delete_refusals_before(self, before: dt.datetime) -> int:
        """Delete refusals recorded before ``before``; the number deleted."""
        with self.engine.begin() as conn:
            return int(conn.execute(
                refusals.delete().where(refusals.c.at < as_utc(before))).rowcount or 0)

    def refusals_page(self, *, principal: str | None = None, reason: str | None = None,
                      start: dt.datetime | None = None, end: dt.datetime | None = None,
                      limit: int = 50, cursor: str | None = None) -> Page:
        """Refusals newest first; filters combine with AND, ``end`` exclusive."""
        stmt = sa.select(refusals)
        if principal is not None:
            stmt = stmt.where(refusals.c.principal == principal)
        if reason is not None:
            stmt = stmt.where(refusals.c.reason == reason)
        if start is not None:
            stmt = stmt.where(refusals.c.at >= as_utc(start))
        if end is not None:
            stmt = stmt.where(refusals.c.at < as_utc(end))
        if cursor is not None:
            stmt = stmt.where(refusals.c.seq < decode_cursor(cursor))
        stmt = stmt.order_by(refusals.c.seq.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(
            items=[{"seq": r.seq, "at": aware(r.at), "principal": r.principal,
                    "token_hash": r.token_hash, "method": r.method, "route": r.route,
                    "status": r.status, "reason": r.reason} for r in rows],
            next_cursor=encode_cursor(rows[-1].seq) if more and rows else None,
        )

    def refusal_times(self, since: dt.datetime, *, max_rows: int = 100_000
                      ) -> list[tuple[str, str | None, str, dt.datetime]]:
        """(principal, token_hash, reason, at) of refusals since ``since``, newest first,
        at most ``max_rows`` (the summary's input)."""
        stmt = sa.select(refusals.c.principal, refusals.c.token_hash, refusals.c.reason,
                         refusals.c.at).where(refusals.c.at >= as_utc(since)) \
            .order_by(refusals.c.seq.desc()).limit(max_rows)
        with self.engine.connect() as conn:
            return [(r.principal, r.token_hash, r.reason, as_utc(r.at))
                    for r in conn.execute(stmt)]
