"""``POST /api/v1/reidentify``: pseudonym → identity, for a consultant who sees a concern
about it, with a reason; every answer, granted or refused, is in the disclosure log first.
:func:`reidentify_as` serves the web UI too.

Where the policy asks for four eyes (``reidentification`` in the policy file,
:mod:`hub.reidentification`), the first request answers 202 with a request id; a second
consultant approves or refuses it (``POST /api/v1/reidentify/requests/{id}/decision``), and
the same request repeated after the approval answers 200 with the identity, as without four
eyes. Queues without four eyes answer exactly as before."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core.privacy.crypto import PSEUDONYM_PATTERN
from core.privacy.vault import EntryErased, Vault
from core.store import Principal, Store, decode_cursor, encode_cursor
from hub.api.context import NO_STORE, ApiContext, answer, check_cursor, get_ctx, log, record
from hub.api.models import Identity
from hub.auth import PrincipalDep, StoreDep, readable_queues
from hub.refusals import note_refusal
from hub.reidentification import (
    APPROVED,
    PENDING,
    REASON_RULE,
    Need,
    decidable,
    decide,
    document,
    known_names,
    log_entry,
    may_decide,
    need,
    new_request,
    reason_accepted,
    reason_is_sufficient,
    request_details,
    scrub,
    seen_concerns,
    standing,
    status_of,
)
from schemas.disclosures import EntryKind, LogEntry

__all__ = ["REASON_RULE", "reason_is_sufficient", "reidentify_as", "router"]

router = APIRouter()
RETRY_RATE_LIMITED = 600
AWAITING = ("a second consultant of the queue must approve this re-identification; repeat "
            "the request once it is approved")

Outcome = tuple[int, str | None, str, Identity | None]


class ReidentifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonym: str = Field(min_length=1, max_length=100,
                           description="A pseudonym from a concern, e.g. `ssp1:…`")
    reason: str | None = Field(None, max_length=2000, description=REASON_RULE)


class PendingRequest(BaseModel):
    """A four-eyes re-identification request (202 from ``POST /api/v1/reidentify``, and the
    request endpoints)."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    pseudonym: str
    status: Literal["pending", "approved", "refused", "expired"]
    requested_by: str
    reason: str = Field(description="the requester's reason, as the disclosure log holds it")
    queues: list[str] = Field(description="the four-eyes queues the request is about")
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None
    decision_reason: str | None
    decided_at: dt.datetime | None
    detail: str | None = None


class PendingPage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[PendingRequest]
    next_cursor: str | None


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "refuse"]
    reason: str | None = Field(None, max_length=2000, description=REASON_RULE)


@router.post(
    "/api/v1/reidentify", response_model=Identity,
    responses={202: {"model": PendingRequest,
                     "description": "Four eyes: waiting for a second consultant's approval"}},
    summary="Pseudonym → identity, for a consultant who sees a concern about it, with a "
            "reason; recorded as a disclosure",
)
async def reidentify(request: Request, store: StoreDep, principal: PrincipalDep,
                     body: ReidentifyRequest) -> Response:
    status_code, _refusal, detail, identity = await reidentify_as(
        request, store, principal, body.pseudonym, body.reason)
    if status_code == 202:  # four eyes: ``detail`` is the request id
        row = await asyncio.to_thread(store.reidentification_request, detail)
        assert row is not None
        return answer({**document(row, dt.datetime.now(dt.UTC)), "detail": AWAITING},
                      status_code=202, headers=NO_STORE | {
                          "Location": f"/api/v1/reidentify/requests/{detail}"})
    if identity is None:
        retry = {"Retry-After": str(RETRY_RATE_LIMITED)} if status_code == 429 else {}
        return JSONResponse({"detail": detail}, status_code=status_code,
                            headers=NO_STORE | retry)
    return JSONResponse(identity.model_dump(), headers=NO_STORE)


class _Attempt:
    """One re-identification request: its log entries and refusals."""

    def __init__(self, request: Request, ctx: ApiContext, principal: Principal,
                 pseudonym: str | None, reason: str | None) -> None:
        self.request, self.ctx, self.principal = request, ctx, principal
        self.pseudonym, self.reason = pseudonym, reason

    def entry(self, kind: EntryKind, **extra: Any) -> LogEntry:
        return log_entry(self.ctx.policy, self.principal, kind, self.pseudonym, self.reason,
                         **extra)

    async def refuse(self, status_code: int, refusal: str, detail: str) -> Outcome:
        await record(self.request, [self.entry(EntryKind.reidentification_refused,
                                               reason_code=refusal,
                                               details={"status": status_code})])
        log.warning("reidentification_refused", principal=self.principal.name,
                    refusal=refusal, status=status_code)
        return status_code, refusal, detail, None

    async def rate_limited(self) -> Outcome | None:
        # Bulk re-identification: at most settings.reidentify_per_hour per principal; each
        # refusal is in the disclosure log, and an alert (log event + metric) goes out.
        ctx = self.ctx
        per_hour = ctx.settings.reidentify_per_hour
        if not ctx.reidentify_limit.hit(self.principal.name):
            return None
        ctx.reidentify_limited_total.inc()
        log.warning("alert_reidentification_rate_limit", principal=self.principal.name,
                    limit_per_hour=per_hour)
        note_refusal(self.request, "reidentify_rate_limited")
        return await self.refuse(429, "rate_limited",
                                 f"at most {per_hour} re-identifications per hour; the "
                                 "security officer has been alerted")

    async def reveal(self, vault: Vault, pseudonym: str, **extra: Any) -> Outcome:
        """The identity, recorded before it is answered: if the record fails, nothing is
        disclosed."""
        try:
            identity = await asyncio.to_thread(vault.identity, pseudonym)
        except EntryErased:
            return await self.refuse(404, "erased",
                                     "the identity behind this pseudonym was erased")
        if identity is None:
            return await self.refuse(404, "unknown_pseudonym",
                                     "no identity for this pseudonym")
        granted = self.entry(EntryKind.reidentification,
                             fields=["subject.cpr", "subject.name"], **extra)
        await record(self.request, [granted])
        log.info("reidentification", principal=self.principal.name,
                 entry_id=granted.entry_id)
        return 200, None, "", Identity(pseudonym=pseudonym, cpr=identity.cpr,
                                       name=identity.name)


async def reidentify_as(request: Request, store: Store, principal: Principal,
                        raw_pseudonym: str, raw_reason: str | None) -> Outcome:
    """Re-identification for the API and the web UI: (status, refusal code, detail,
    identity). Every answer, granted or refused, is in the disclosure log first. Four eyes:
    202 with the request id as ``detail`` until a second consultant has approved."""
    ctx = get_ctx(request)
    vault: Vault = request.app.state.vault
    well_formed = PSEUDONYM_PATTERN.fullmatch(raw_pseudonym) is not None
    # A malformed "pseudonym" may be anything a caller typed (a CPR, say): never stored.
    pseudonym = raw_pseudonym if well_formed else None
    # Scrubbed knowing the person's name, for a refusal too.
    reason = scrub(ctx.freetext, raw_reason, await known_names(vault, pseudonym))
    attempt = _Attempt(request, ctx, principal, pseudonym, reason)
    if principal.role != "consultant":
        return await attempt.refuse(403, "role_not_allowed",
                                    f"role {principal.role} may not re-identify")
    limited = await attempt.rate_limited()
    if limited is not None:
        return limited
    if pseudonym is None:
        return await attempt.refuse(422, "malformed_pseudonym",
                                    "pseudonym is not one the hub issued")
    allowed_queues = readable_queues(principal, ctx.policy.queues)
    seen = await asyncio.to_thread(seen_concerns, store, ctx.policy, principal, pseudonym)
    if not seen:
        return await attempt.refuse(403, "no_visible_concern",
                                    "only a consultant who sees a concern about this "
                                    "pseudonym may re-identify it")
    needed = need(ctx.policy, seen)
    if needed is not None:
        return await _four_eyes(attempt, store, vault, pseudonym, raw_reason, needed)
    if not reason_accepted(raw_reason, reason):
        return await attempt.refuse(422, "reason_insufficient", REASON_RULE)
    return await attempt.reveal(vault, pseudonym, details={"queues": list(allowed_queues)})


async def _four_eyes(attempt: _Attempt, store: Store, vault: Vault, pseudonym: str,
                     raw_reason: str | None, needed: Need) -> Outcome:
    """Approved: the identity, the entry naming both consultants and both reasons. Pending:
    202 again (nothing new is logged). Else a new request, if the reason holds."""
    now = dt.datetime.now(dt.UTC)
    principal = attempt.principal
    row = await asyncio.to_thread(standing, store, principal.name, pseudonym, now)
    if row is not None and status_of(row, now) == APPROVED:
        # The request's reason is the one that was approved: it is the reveal's reason.
        attempt.reason = row["reason"]
        return await attempt.reveal(vault, pseudonym, details={
            **request_details(row), "approved_by": str(row["decided_by"]),
            "approval_reason": str(row["decision_reason"])})
    if row is not None and status_of(row, now) == PENDING:
        return 202, None, str(row["request_id"]), None
    if not reason_accepted(raw_reason, attempt.reason):
        return await attempt.refuse(422, "reason_insufficient", REASON_RULE)
    try:
        known = await asyncio.to_thread(vault.identity, pseudonym)
    except EntryErased:
        return await attempt.refuse(404, "erased", "the identity behind this pseudonym was "
                                                   "erased")
    if known is None:
        return await attempt.refuse(404, "unknown_pseudonym", "no identity for this pseudonym")
    assert attempt.reason is not None
    # Logged first: if the log cannot take it, the request is not made.
    entry = attempt.entry(EntryKind.reidentification_requested, details={
        "queues": list(needed.queues), "expires_after_s": int(needed.expires_after
                                                               .total_seconds())})
    await record(attempt.request, [entry])
    row = await asyncio.to_thread(new_request, store, principal, pseudonym, attempt.reason,
                                  needed, now)
    log.info("reidentification_requested", principal=principal.name,
             request_id=row["request_id"])
    return 202, None, str(row["request_id"]), None


# -- four-eyes requests -----------------------------------------------------------------------
@router.get("/api/v1/reidentify/requests", response_model=PendingPage,
            summary="Four eyes: open re-identification requests of other consultants that "
                    "the caller may approve or refuse, oldest first")
async def pending_requests(request: Request, store: StoreDep, principal: PrincipalDep,
                           limit: int = Query(50, ge=1, le=1000),
                           cursor: str | None = None) -> Response:
    check_cursor(cursor)
    ctx = get_ctx(request)
    now = dt.datetime.now(dt.UTC)
    rows = await asyncio.to_thread(decidable, store, ctx.policy, principal, now)
    if cursor is not None:
        after = decode_cursor(cursor)
        rows = [r for r in rows if r["seq"] > after]
    page = rows[:limit]
    more = len(rows) > limit
    return answer({"items": [document(r, now) for r in page],
                   "next_cursor": encode_cursor(page[-1]["seq"]) if more else None},
                  headers=NO_STORE)


@router.get("/api/v1/reidentify/requests/{request_id}", response_model=PendingRequest,
            summary="Four eyes: one request, for the consultant who made it and those who "
                    "may decide it")
async def one_request(request: Request, store: StoreDep, principal: PrincipalDep,
                      request_id: str) -> Response:
    ctx = get_ctx(request)
    row = await asyncio.to_thread(store.reidentification_request, request_id)
    mine = row is not None and row["requester"] == principal.name
    if row is None or not (mine or (principal.role == "consultant" and await asyncio.to_thread(
            may_decide, store, ctx.policy, principal, row))):
        return JSONResponse({"detail": "no such request that you may see"}, status_code=404,
                            headers=NO_STORE)
    return answer(document(row, dt.datetime.now(dt.UTC)), headers=NO_STORE)


@router.post("/api/v1/reidentify/requests/{request_id}/decision",
             response_model=PendingRequest,
             summary="Four eyes: a second consultant approves or refuses a request, with a "
                     "reason; recorded in the disclosure log with both names and reasons")
async def decide_request(request: Request, store: StoreDep, principal: PrincipalDep,
                         request_id: str, body: DecisionBody) -> Response:
    ctx = get_ctx(request)
    decided = await decide(request, store, ctx.policy, ctx.freetext, record, principal,
                           request_id, approve=body.decision == "approve",
                           raw_reason=body.reason)
    if decided.refusal is not None:
        log.warning("reidentification_decision_refused", principal=principal.name,
                    refusal=decided.refusal)
        return JSONResponse({"detail": decided.detail}, status_code=decided.status,
                            headers=NO_STORE)
    assert decided.row is not None
    return answer(document(decided.row, dt.datetime.now(dt.UTC)), headers=NO_STORE)
