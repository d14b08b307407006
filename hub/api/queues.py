"""Outcomes, queues and concerns: ``GET /api/v1/events/{event_id}``, ``GET /api/v1/queues``,
``GET /api/v1/queues/{queue}/concerns``, the joint view ``GET
/api/v1/subjects/{pseudonym}/concerns``, and a concern's case status
(``GET``/``PUT /api/v1/queues/{queue}/concerns/{event_id}/status``).

Every concern shown is a consultation in the disclosure log, recorded before the answer.
The case status is for consultants of the queue; its note goes through the one free-text
check (:mod:`core.privacy.freetext`): a note that holds personal data is refused with 422, the error
naming the field and the kinds found (``{"field": "note", "type": "personal_data", "kinds":
[...]}``), never the value; nothing is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core.store import Principal, Store, decode_cursor, encode_cursor
from hub.api.context import (
    CtxDep,
    answer,
    check_cursor,
    consultations,
    log,
    record,
    require_role,
)
from hub.api.models import (
    ConcernItem,
    ConcernStatus,
    EventOutcomeAnswer,
    Page,
    QueueItem,
    StatusSet,
)
from hub.auth import PrincipalDep, StoreDep, readable_queues
from hub.reasons import reason_text

router = APIRouter()
NOTE_MAX = 500  # as the web UI's form
OUTCOME_READERS = ("security_officer", "admin")


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    status: Literal["ny", "under_behandling", "afsluttet"]
    note: str | None = Field(None, max_length=NOTE_MAX,
                             description="a short note, without personal data (refused if it "
                                         "holds names, numbers, addresses, …)")


def outcome_reader(principal: PrincipalDep) -> Principal:
    if principal.role not in OUTCOME_READERS and not principal.role.startswith("agency:"):
        raise HTTPException(403, f"role {principal.role} may not read event outcomes")
    return principal


@router.get("/api/v1/events/{event_id}", response_model=EventOutcomeAnswer,
            summary="The outcome of one event")
async def event_outcome(event_id: str, store: StoreDep,
                        principal: Annotated[Principal, Depends(outcome_reader)]) -> Response:
    row = await asyncio.to_thread(store.event, event_id)
    if row is None or (principal.role.startswith("agency:")
                       and principal.role != f"agency:{row['agency']}"):
        raise HTTPException(404, "no such event for this caller")
    return answer({
        "event_id": row["event_id"], "status": row["status"], "queues": row["queues"],
        "reason": row["reason"], "reason_text": reason_text(row["reason"]),
        "rule_ids": row["rule_ids"],
        "policy_version": row["policy_version"], "agency": row["agency"],
        "accepted_at": row["accepted_at"], "decided_at": row["decided_at"],
    })


@router.get("/api/v1/queues", response_model=Page[QueueItem],
            summary="Queues the caller may see, with concern counts")
async def list_queues(
    store: StoreDep, principal: PrincipalDep, ctx: CtxDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> Response:
    check_cursor(cursor)
    policy = ctx.policy
    if principal.role in OUTCOME_READERS:
        visible: tuple[str, ...] = policy.queues
    else:
        visible = readable_queues(principal, policy.queues)
        if principal.role != "consultant":
            raise HTTPException(403, f"role {principal.role} has no queues")
    counts = await asyncio.to_thread(store.queue_counts, visible)
    items = [{"queue": q, "title": policy.doc.queues[q], "concerns": counts.get(q, 0)}
             for q in visible]
    # Paged like every list (DESIGN §6), though a policy has only a handful of queues: the
    # cursor is the position of the next queue in the policy's order.
    start = 0 if cursor is None else decode_cursor(cursor)
    if start < 0:
        raise HTTPException(422, "cursor is not one this API issued")
    more = start + limit < len(items)
    return answer({"items": items[start:start + limit],
                   "next_cursor": encode_cursor(start + limit) if more else None})


@router.get("/api/v1/queues/{queue}/concerns", response_model=Page[ConcernItem],
            summary="Routed concerns in a queue, newest first")
async def queue_concerns(
    queue: str, request: Request, store: StoreDep, principal: PrincipalDep, ctx: CtxDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> Response:
    if queue not in ctx.policy.queues:
        raise HTTPException(404, "unknown queue")
    if queue not in readable_queues(principal, ctx.policy.queues):
        raise HTTPException(403, "this principal may not read that queue")
    check_cursor(cursor)
    page = await asyncio.to_thread(store.concerns_page, queues=[queue], pseudonym=None,
                                   limit=limit, cursor=cursor)
    await record(request, consultations(ctx.policy, principal, page.items, "queue"))
    return answer({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/api/v1/subjects/{pseudonym}/concerns", response_model=Page[ConcernItem],
            summary="Joint view: one pseudonymised young person across agencies")
async def subject_concerns(
    pseudonym: str, request: Request, store: StoreDep, principal: PrincipalDep, ctx: CtxDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> Response:
    """Concerns about one young person in the caller's queues, oldest first, including
    those filed under the person's pseudonyms from earlier key versions."""
    queues = readable_queues(principal, ctx.policy.queues)
    if not queues:
        raise HTTPException(403, "only consultants with queues see the joint view")

    def read() -> Any:
        return store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(pseudonym),
                                           limit=limit, cursor=cursor)
    try:
        page = await asyncio.to_thread(read)
    except ValueError as exc:
        raise HTTPException(422, "cursor is not one this API issued") from exc
    await record(request, consultations(ctx.policy, principal, page.items, "joint"))
    return answer({"items": page.items, "next_cursor": page.next_cursor})


# -- case status (consultants of the queue) ---------------------------------------------------
Consultant = Annotated[Principal, Depends(require_role(
    ("consultant",), "role {role} has no case statuses"))]


def _concern_or_404(store: Store, queues: tuple[str, ...], principal: Principal, queue: str,
                    event_id: str) -> None:
    if queue not in readable_queues(principal, queues) or \
            store.concern(event_id, queue) is None:
        raise HTTPException(404, "no such concern in the caller's queues")


@router.get("/api/v1/queues/{queue}/concerns/{event_id}/status",
            response_model=ConcernStatus,
            summary="A concern's case status and its history (consultants of the queue)")
async def get_status(queue: str, event_id: str, store: StoreDep, principal: Consultant,
                     ctx: CtxDep) -> Response:
    await asyncio.to_thread(_concern_or_404, store, ctx.policy.queues, principal, queue,
                            event_id)
    current = await asyncio.to_thread(store.statuses, [(event_id, queue)])
    history = await asyncio.to_thread(store.status_history, event_id, queue)
    return answer({"event_id": event_id, "queue": queue,
                   "status": current.get((event_id, queue), {}).get("status", "ny"),
                   "history": history})


@router.put("/api/v1/queues/{queue}/concerns/{event_id}/status", response_model=StatusSet,
            summary="Set a concern's case status, with a note without personal data")
async def put_status(queue: str, event_id: str, body: StatusRequest, store: StoreDep,
                     principal: Consultant, ctx: CtxDep) -> JSONResponse:
    await asyncio.to_thread(_concern_or_404, store, ctx.policy.queues, principal, queue,
                            event_id)
    note = " ".join((body.note or "").split()) or None
    refusal = None if note is None else \
        await asyncio.to_thread(ctx.freetext.refusal, "note", note)
    if refusal is not None:
        log.info("note_refused", kinds=list(refusal.kinds))
        return JSONResponse({"detail": "the note holds personal data; nothing was stored",
                             "errors": [refusal.as_error()]}, status_code=422)
    at = dt.datetime.now(dt.UTC)
    await asyncio.to_thread(store.set_status, event_id, queue, body.status, note,
                            principal.name, at)
    return JSONResponse({"event_id": event_id, "queue": queue, "status": body.status,
                         "note": note, "principal": principal.name, "at": at.isoformat()})
