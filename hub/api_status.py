"""A concern's case status over the API, the web UI's status form for API clients:

* ``GET /api/v1/queues/{queue}/concerns/{event_id}/status`` — the status and its history;
* ``PUT /api/v1/queues/{queue}/concerns/{event_id}/status`` — ``{"status", "note"}``.

Only a consultant of the queue. The note goes through the one free-text check
(:mod:`core.privacy.freetext`): a note that holds personal data is refused with 422, the error
naming the field and the kinds found (``{"field": "note", "type": "personal_data", "kinds":
[...]}``), never the value; nothing is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.logs import get_logger
from core.privacy.freetext import FreeText
from core.store import Principal, Store
from hub.auth import PrincipalDep, StoreDep, readable_queues

log = get_logger("hub.api")
NOTE_MAX = 500  # as the web UI's form


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    status: Literal["ny", "under_behandling", "afsluttet"]
    note: str | None = Field(None, max_length=NOTE_MAX,
                             description="a short note, without personal data (refused if it "
                                         "holds names, numbers, addresses, …)")


def status_router(queues: tuple[str, ...], freetext: FreeText) -> APIRouter:
    router = APIRouter()

    def concern_or_404(store: Store, principal: Principal, queue: str, event_id: str) -> None:
        if principal.role != "consultant":
            raise HTTPException(403, f"role {principal.role} has no case statuses")
        if queue not in readable_queues(principal, queues) or \
                store.concern(event_id, queue) is None:
            raise HTTPException(404, "no such concern in the caller's queues")

    @router.get("/api/v1/queues/{queue}/concerns/{event_id}/status",
                summary="A concern's case status and its history (consultants of the queue)")
    async def get_status(queue: str, event_id: str, store: StoreDep,
                         principal: PrincipalDep) -> dict[str, Any]:
        await asyncio.to_thread(concern_or_404, store, principal, queue, event_id)
        current = await asyncio.to_thread(store.statuses, [(event_id, queue)])
        history = await asyncio.to_thread(store.status_history, event_id, queue)
        return {"event_id": event_id, "queue": queue,
                "status": current.get((event_id, queue), {}).get("status", "ny"),
                "history": history}

    @router.put("/api/v1/queues/{queue}/concerns/{event_id}/status",
                summary="Set a concern's case status, with a note without personal data")
    async def put_status(queue: str, event_id: str, body: StatusRequest, store: StoreDep,
                         principal: PrincipalDep) -> JSONResponse:
        await asyncio.to_thread(concern_or_404, store, principal, queue, event_id)
        note = " ".join((body.note or "").split()) or None
        refusal = None if note is None else \
            await asyncio.to_thread(freetext.refusal, "note", note)
        if refusal is not None:
            log.info("note_refused", kinds=list(refusal.kinds))
            return JSONResponse({"detail": "the note holds personal data; nothing was stored",
                                 "errors": [refusal.as_error()]}, status_code=422)
        at = dt.datetime.now(dt.UTC)
        await asyncio.to_thread(store.set_status, event_id, queue, body.status, note,
                                principal.name, at)
        return JSONResponse({"event_id": event_id, "queue": queue, "status": body.status,
                             "note": note, "principal": principal.name, "at": at.isoformat()})

    return router
