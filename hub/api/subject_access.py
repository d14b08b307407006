"""A citizen's right of access, for security officers: ``POST /api/v1/subject-access`` (every
log entry about one CPR number) and the officer's decisions on entries
(``POST``/``GET /api/v1/subject-access/decisions``)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.store import decode_cursor, encode_cursor
from hub.api.context import NO_STORE, CtxDep, LogReader, error, record
from hub.api.models import AccessDecision, AccessDecisionMade, Page, SubjectAccessAnswer
from hub.auth import StoreDep
from hub.subject_access import (
    DECISIONS,
    DecisionError,
    access_decision_entry,
    answer_subject_access,
    check_decision,
    store_decision,
    subject_access_entry,
)
from schemas.cpr import InvalidCpr

router = APIRouter()


class SubjectAccessRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    cpr: str = Field(min_length=1, max_length=20, description="the citizen's CPR number")
    include_staff: bool = Field(False, description="show staff names (withheld by default)")


class AccessDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    seq: int = Field(ge=0, le=2**53 - 1, description="the disclosure-log entry (its `seq`)")
    decision: str = Field(description=f"one of {', '.join(DECISIONS)}: withhold the entry "
                                      "from the citizen's copy (GDPR art. 15(4), DBL § 22), "
                                      "or release it in full to a related person, "
                                      "or default: undo an earlier decision")
    reason: str = Field(min_length=1, max_length=2000,
                        description="why: at least a sentence, no CPR number; it is logged")


@router.post("/api/v1/subject-access", response_model=SubjectAccessAnswer,
             summary="A citizen's right of access: every log entry about one CPR number")
async def subject_access(request: Request, principal: LogReader, store: StoreDep,
                         ctx: CtxDep, body: SubjectAccessRequest) -> JSONResponse:
    try:
        answer = await asyncio.to_thread(answer_subject_access, store, ctx.ring, ctx.policy,
                                         body.cpr, include_staff=body.include_staff)
    except InvalidCpr:
        return error(422, "invalid request", errors=[{
            "field": "cpr", "type": "cpr", "message": "not a valid CPR number"}])
    await record(request, [subject_access_entry(answer, principal.name, principal.role,
                                                ctx.policy)])
    return JSONResponse(answer.as_json(), headers=NO_STORE)


@router.post("/api/v1/subject-access/decisions", status_code=201,
             response_model=AccessDecisionMade,
             summary="Withhold a log entry from subject access, or release it to a related "
                     "person, with a reason (logged)")
async def subject_access_decision(request: Request, principal: LogReader, store: StoreDep,
                                  ctx: CtxDep, body: AccessDecisionRequest) -> JSONResponse:
    try:
        await asyncio.to_thread(check_decision, store, body.seq, body.decision, body.reason)
    except DecisionError as exc:
        return error(422, "invalid request", errors=[{
            "field": exc.field, "type": "decision", "message": str(exc)}])
    entry = access_decision_entry(body.seq, body.decision, body.reason, principal.name,
                                  principal.role, ctx.policy)
    await record(request, [entry])
    await asyncio.to_thread(store_decision, store, entry)
    return JSONResponse({"seq": body.seq, "decision": body.decision,
                         "entry_id": entry.entry_id}, status_code=201, headers=NO_STORE)


@router.get("/api/v1/subject-access/decisions", response_model=Page[AccessDecision],
            summary="The security officer's subject-access decisions, by log entry")
async def subject_access_decisions(
    _reader: LogReader, store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> JSONResponse:
    try:
        after = -1 if cursor is None else decode_cursor(cursor)
    except ValueError as exc:
        raise HTTPException(422, "cursor: not one this endpoint issued") from exc
    found = await asyncio.to_thread(store.access_decisions)
    rows = [d for seq, d in sorted(found.items()) if seq > after]
    page, more = rows[:limit], len(rows) > limit
    items = [{**d, "decided_at": d["decided_at"].isoformat()} for d in page]
    return JSONResponse({"items": items, "next_cursor": encode_cursor(page[-1]["seq"])
                         if more else None}, headers=NO_STORE)
