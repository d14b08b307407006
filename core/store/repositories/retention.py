"""Legal holds and retirement: what the retention job reads and deletes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store import aggregates as agg
from core.store.rows import ConcernRow, Retirement, as_utc, aware
from core.store.tables import (
    concern_status,
    concern_status_history,
    concerns,
    legal_holds,
    reidentification_requests,
    vault,
)


class RetentionRepository:
    engine: Engine

    # Used by core/ledger/retention.py. Reads walk whole tables in pages; the writes re-check their
    # preconditions inside the statement, so a hold placed or a concern projected since the
    # retention run read the store is respected.
    def place_legal_hold(self, pseudonym: str, reason: str, principal: str,
                         at: dt.datetime) -> bool:
        """Hold one pseudonym (retention treats the whole alias group as held). False if that
        pseudonym is held already (the first hold's reason stays)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(legal_holds.insert().values(
                    pseudonym=pseudonym, reason=reason, principal=principal,
                    created_at=as_utc(at)))
        except sa.exc.IntegrityError:
            return False
        return True

    def release_legal_holds(self, pseudonyms: Iterable[str]) -> int:
        """Remove the holds on any of ``pseudonyms``; returns how many there were."""
        names = list(set(pseudonyms))
        if not names:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(
                legal_holds.delete().where(legal_holds.c.pseudonym.in_(names))).rowcount)

    def legal_holds(self) -> list[dict[str, Any]]:
        """Every hold, oldest first: pseudonym, reason, principal, created_at."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(legal_holds)
                                .order_by(legal_holds.c.created_at, legal_holds.c.pseudonym))
            return [{"pseudonym": r.pseudonym, "reason": r.reason, "principal": r.principal,
                     "created_at": aware(r.created_at)} for r in rows]

    def concern_rows(self, *, after: int = 0, limit: int = 2000) -> list[ConcernRow]:
        """Concerns in ``seq`` order after ``after``, for walking the table in pages. The
        payload is only fetched where it names related persons."""
        has_related = concerns.c.payload.like("%related_persons%")
        stmt = (sa.select(concerns.c.seq, concerns.c.event_id, concerns.c.queue,
                          concerns.c.pseudonym, concerns.c.routed_at,
                          sa.case((has_related, concerns.c.payload), else_=None)
                          .label("payload"))
                .where(concerns.c.seq > after).order_by(concerns.c.seq).limit(limit))
        with self.engine.connect() as conn:
            return [ConcernRow(int(r.seq), r.event_id, r.queue, r.pseudonym,
                               as_utc(r.routed_at), r.payload) for r in conn.execute(stmt)]

    def retire(self, persons: Sequence[Retirement], *, newer_than_seq: int,
               at: dt.datetime) -> list[tuple[dict[str, int], int]]:
        """Apply retention to persons, all in one transaction, so that each person's deletion
        and erasure happen together or not at all. Per person:

        * delete the concerns ``expired`` (queue → seqs) unless a legal hold names one of the
          person's ``pseudonyms`` — checked in the same statement;
        * if ``erase``: destroy the wrapped data key of each of their live vault entries
          unless — checked in the same statement — a hold names one of the pseudonyms, a
          concern has one as its subject, or a concern newer than ``newer_than_seq``
          (projected since the caller read the table) names one anywhere in its payload.

        Returns, per person, (concerns deleted per queue, vault entries erased)."""
        done: list[tuple[dict[str, int], int]] = []
        gone: Counter[agg.Key] = Counter()
        with self.engine.begin() as conn:
            for person in persons:
                names = sorted(person.pseudonyms)
                held = sa.exists().where(legal_holds.c.pseudonym.in_(names))
                deleted: dict[str, int] = {}
                for queue, seqs in person.expired.items():
                    ids = list(seqs)
                    n = 0
                    for i in range(0, len(ids), 500):
                        n += int(conn.execute(concerns.delete().where(
                            concerns.c.seq.in_(ids[i:i + 500]) & ~held)).rowcount)
                    deleted[queue] = n
                    gone[(agg.HELD, "", queue)] -= n
                erased = 0
                if person.erase:
                    named = sa.or_(*[concerns.c.payload.contains(f'"{p}"', autoescape=True)
                                     for p in names])
                    erased = int(conn.execute(vault.update().where(
                        vault.c.pseudonym.in_(names) & vault.c.wrapped_dek.is_not(None)
                        & ~held
                        & ~sa.exists().where(concerns.c.pseudonym.in_(names))
                        & ~sa.exists().where((concerns.c.seq > newer_than_seq) & named)
                    ).values(wrapped_dek=None, erased_at=as_utc(at))).rowcount)
                done.append((deleted, erased))
            # A case status and its notes go with the concern they were about.
            for table in (concern_status, concern_status_history):
                conn.execute(table.delete().where(~sa.exists().where(
                    (concerns.c.event_id == table.c.event_id)
                    & (concerns.c.queue == table.c.queue))))
            # A four-eyes request goes with the last concern about its person.
            conn.execute(reidentification_requests.delete().where(~sa.exists().where(
                concerns.c.pseudonym == reidentification_requests.c.pseudonym)))
            # The held-concerns gauge goes down with the concerns, last (aggregate rows are
            # locked last in every writer); the governance counts (core/store/aggregates.py)
            # keep counting what was routed.
            agg.bump(conn, gone)
        return done
