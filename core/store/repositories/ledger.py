"""Rows beside the disclosure log: rejections, access decisions on subject-access entries."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import as_utc, aware
from core.store.tables import access_decisions, disclosure_log, disclosure_log_subjects


class LedgerRepository:
    engine: Engine

    def log_rejections(self) -> list[tuple[str, str]]:
        """(agency, reason code) of every rejection in the disclosure log."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(disclosure_log.c.agency, disclosure_log.c.entry,
                                          disclosure_log.c.body)
                                .where(disclosure_log.c.kind == "rejection"))
            # Format 2 keeps the members in the body (gone once erased), format 1 in the leaf.
            return [(r.agency or "", str(json.loads(bytes(
                r.body if r.body is not None else r.entry)).get("reason_code") or ""))
                for r in rows]

    def set_access_decision(self, seq: int, decision: str, reason: str, principal: str,
                            entry_id: str, at: dt.datetime) -> None:
        """Record the officer's decision on log entry ``seq`` (replaces an earlier one)."""
        row = {"decision": decision, "reason": reason, "principal": principal,
               "entry_id": entry_id, "decided_at": as_utc(at)}
        with self.engine.begin() as conn:
            if not conn.execute(access_decisions.update()
                                .where(access_decisions.c.seq == seq).values(**row)).rowcount:
                conn.execute(access_decisions.insert().values(seq=seq, **row))

    def clear_access_decision(self, seq: int) -> None:
        """Back to the default view of log entry ``seq``."""
        with self.engine.begin() as conn:
            conn.execute(access_decisions.delete().where(access_decisions.c.seq == seq))

    def log_entry_has_subjects(self, seq: int) -> bool:
        """Whether disclosure-log entry ``seq`` exists and is about at least one person."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(disclosure_log_subjects.c.seq)
                                .where(disclosure_log_subjects.c.seq == seq).limit(1)
                                ).first() is not None

    def access_decisions(self, seqs: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        """The decisions on the given log entries (all, if None), by sequence number."""
        stmt = sa.select(access_decisions)
        wanted = None if seqs is None else sorted(set(seqs))
        out: dict[int, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            chunks = [None] if wanted is None else \
                [wanted[i:i + 500] for i in range(0, len(wanted), 500)]
            for chunk in chunks:
                query = stmt if chunk is None else stmt.where(access_decisions.c.seq.in_(chunk))
                for r in conn.execute(query):
                    out[int(r.seq)] = {"seq": int(r.seq), "decision": r.decision,
                                       "reason": r.reason, "principal": r.principal,
                                       "entry_id": r.entry_id,
                                       "decided_at": aware(r.decided_at)}
        return out
