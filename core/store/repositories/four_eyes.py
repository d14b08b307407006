"""Four-eyes re-identification requests (``reidentification_requests``): what
:mod:`hub.four_eyes` writes and reads. A decision is one conditional UPDATE, so two
consultants deciding at once, a decision after expiry, or the requester deciding their own
request cannot slip through between a read and a write."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import as_utc, aware
from core.store.tables import reidentification_requests as requests

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


def _row(r: Any) -> dict[str, Any]:
    return {"seq": int(r.seq), "request_id": r.request_id, "pseudonym": r.pseudonym,
            "requester": r.requester, "reason": r.reason, "queues": list(json.loads(r.queues)),
            "status": r.status,
            "created_at": aware(r.created_at), "expires_at": aware(r.expires_at),
            "decided_by": r.decided_by, "decision_reason": r.decision_reason,
            "decided_at": aware(r.decided_at)}


class FourEyesRepository:
    engine: Engine

    def add_reidentification_request(self, *, request_id: str, pseudonym: str,
                                      requester: str, reason: str, queues: Sequence[str],
                                      created_at: dt.datetime, expires_at: dt.datetime
                                      ) -> None:
        with self.engine.begin() as conn:
            conn.execute(requests.insert().values(
                request_id=request_id, pseudonym=pseudonym, requester=requester,
                reason=reason, queues=json.dumps(list(queues)), status=PENDING,
                created_at=as_utc(created_at), expires_at=as_utc(expires_at)))

    def reidentification_request(self, request_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(requests)
                               .where(requests.c.request_id == request_id)).first()
        return None if row is None else _row(row)

    def reidentification_requests_about(self, pseudonyms: Iterable[str]
                                        ) -> list[dict[str, Any]]:
        """Every request about any of ``pseudonyms`` (one person's aliases), newest first."""
        names = list(set(pseudonyms))
        if not names:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(requests).where(requests.c.pseudonym.in_(names))
                                .order_by(requests.c.seq.desc()))
            return [_row(r) for r in rows]

    def open_reidentification_requests(self, now: dt.datetime, *, limit: int = 1000
                                       ) -> list[dict[str, Any]]:
        """Requests still waiting for a decision and not expired, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(requests).where(
                (requests.c.status == PENDING) & (requests.c.expires_at > as_utc(now)))
                .order_by(requests.c.seq.asc()).limit(limit))
            return [_row(r) for r in rows]

    def decide_reidentification_request(self, request_id: str, *, approve: bool, by: str,
                                        reason: str, at: dt.datetime) -> bool:
        """Approve or refuse a pending, unexpired request of someone other than ``by``.
        False (nothing changed) otherwise."""
        with self.engine.begin() as conn:
            done = conn.execute(requests.update().where(
                (requests.c.request_id == request_id) & (requests.c.status == PENDING)
                & (requests.c.expires_at > as_utc(at)) & (requests.c.requester != by))
                .values(status=APPROVED if approve else REFUSED, decided_by=by,
                        decision_reason=reason, decided_at=as_utc(at)))
            return bool(done.rowcount)

    def undo_reidentification_decision(self, request_id: str) -> None:
        """Back to pending: the decision could not be written to the disclosure log."""
        with self.engine.begin() as conn:
            conn.execute(requests.update().where(requests.c.request_id == request_id).values(
                status=PENDING, decided_by=None, decision_reason=None, decided_at=None))
