"""``POST /api/v1/reidentify``: pseudonym → identity, for a consultant who sees a concern
about it, with a reason; every answer, granted or refused, is in the disclosure log first.
:func:`reidentify_as` serves the web UI too."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from core.ledger.entries import random_entry_id
from core.privacy.crypto import PSEUDONYM_PATTERN
from core.privacy.vault import EntryErased, Vault
from core.store import Principal, Store
from hub.api.context import NO_STORE, ApiContext, get_ctx, log, record
from hub.api.models import Identity
from hub.auth import PrincipalDep, StoreDep, readable_queues
from hub.refusals import note_refusal
from schemas.cpr import contains_cpr_like
from schemas.disclosures import EntryKind, LogEntry

router = APIRouter()
RETRY_RATE_LIMITED = 600
REASON_MIN_CHARS = 20
REASON_MIN_WORDS = 3
REASON_RULE = (f"reason must be at least a sentence: {REASON_MIN_CHARS} characters or more "
               f"and at least {REASON_MIN_WORDS} words, saying why the identity is needed, "
               "with no CPR number in it (names, numbers and addresses are replaced before "
               "the reason is logged, and do not count)")
_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
_WORD = re.compile(r"\w*[^\W\d_]\w*")

Outcome = tuple[int, str | None, str, Identity | None]


def reason_is_sufficient(reason: str | None) -> bool:
    """At least a sentence: ≥ 20 characters and ≥ 3 words with letters; no CPR number (the
    reason goes into the disclosure log, which holds no plaintext identity)."""
    if reason is None:
        return False
    text = " ".join(reason.split())
    return (len(text) >= REASON_MIN_CHARS and len(_WORD.findall(text)) >= REASON_MIN_WORDS
            and not contains_cpr_like(text))


class ReidentifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pseudonym: str = Field(min_length=1, max_length=100,
                           description="A pseudonym from a concern, e.g. `ssp1:…`")
    reason: str | None = Field(None, max_length=2000, description=REASON_RULE)


@router.post(
    "/api/v1/reidentify", response_model=Identity,
    summary="Pseudonym → identity, for a consultant who sees a concern about it, with a "
            "reason; recorded as a disclosure",
)
async def reidentify(request: Request, store: StoreDep, principal: PrincipalDep,
                     body: ReidentifyRequest) -> JSONResponse:
    status_code, _refusal, detail, identity = await reidentify_as(
        request, store, principal, body.pseudonym, body.reason)
    if identity is None:
        retry = {"Retry-After": str(RETRY_RATE_LIMITED)} if status_code == 429 else {}
        return JSONResponse({"detail": detail}, status_code=status_code,
                            headers=NO_STORE | retry)
    return JSONResponse(identity.model_dump(), headers=NO_STORE)


def scrub_reason(ctx: ApiContext, reason: str | None, names: list[str] | None = None
                 ) -> str | None:
    if reason is None:
        return None
    # freetext also cuts out anything CPR-shaped the detectors left: never logged.
    return ctx.freetext.text(" ".join(reason.split())[:2000], known_names=names or [])


async def _known_names(vault: Vault, pseudonym: str | None) -> list[str]:
    """The person's name where the pseudonym has one: it guides the scrubber only (a reason
    may well name the young person, and a refused request's reason is logged); nothing about
    it reaches the caller."""
    if pseudonym is None:
        return []
    try:
        known = await asyncio.to_thread(vault.identity, pseudonym)
    except EntryErased:
        known = None
    return [known.name] if known is not None and known.name else []


class _Attempt:
    """One re-identification request: its log entries and refusals."""

    def __init__(self, request: Request, ctx: ApiContext, principal: Principal,
                 pseudonym: str | None, reason: str | None) -> None:
        self.request, self.ctx, self.principal = request, ctx, principal
        self.pseudonym, self.reason = pseudonym, reason

    def entry(self, kind: EntryKind, **extra: Any) -> LogEntry:
        policy, principal = self.ctx.policy, self.principal
        return LogEntry(
            entry_id=random_entry_id(), kind=kind, at=dt.datetime.now(dt.UTC),
            recipient=principal.name, recipient_type="principal", principal=principal.name,
            role=principal.role, pseudonym=self.pseudonym, reason=self.reason,
            legal_basis=policy.legal_basis(), purpose="crime_prevention",
            policy_version=policy.version, **extra)

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


async def reidentify_as(request: Request, store: Store, principal: Principal,
                        raw_pseudonym: str, raw_reason: str | None) -> Outcome:
    """Re-identification for the API and the web UI: (status, refusal code, detail,
    identity). Every answer, granted or refused, is in the disclosure log first."""
    ctx = get_ctx(request)
    vault: Vault = request.app.state.vault
    well_formed = PSEUDONYM_PATTERN.fullmatch(raw_pseudonym) is not None
    # A malformed "pseudonym" may be anything a caller typed (a CPR, say): never stored.
    pseudonym = raw_pseudonym if well_formed else None
    # Scrubbed knowing the person's name, for a refusal too.
    reason = scrub_reason(ctx, raw_reason, await _known_names(vault, pseudonym))
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

    def visible(p: str) -> bool:
        return store.subject_visible(queues=allowed_queues, pseudonyms=store.aliases(p))
    if not await asyncio.to_thread(visible, pseudonym):
        return await attempt.refuse(403, "no_visible_concern",
                                    "only a consultant who sees a concern about this "
                                    "pseudonym may re-identify it")
    # Judged as typed and as it will be logged: "Mikkel Hansen, 22 33 44 55" says nothing
    # once scrubbed, and the log must still say why.
    if not reason_is_sufficient(raw_reason) or \
            not reason_is_sufficient(_PLACEHOLDER.sub(" ", reason or "")):
        return await attempt.refuse(422, "reason_insufficient", REASON_RULE)
    try:
        identity = await asyncio.to_thread(vault.identity, pseudonym)
    except EntryErased:
        return await attempt.refuse(404, "erased",
                                    "the identity behind this pseudonym was erased")
    if identity is None:
        return await attempt.refuse(404, "unknown_pseudonym", "no identity for this pseudonym")
    # Recorded before it is answered: if the record fails, nothing is disclosed.
    granted = attempt.entry(EntryKind.reidentification, fields=["subject.cpr", "subject.name"],
                            details={"queues": list(allowed_queues)})
    await record(request, [granted])
    log.info("reidentification", principal=principal.name, entry_id=granted.entry_id)
    return 200, None, "", Identity(pseudonym=pseudonym, cpr=identity.cpr, name=identity.name)
