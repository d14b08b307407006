"""The disclosure log for security officers: the log (``GET /api/v1/disclosures``), its
verification, the newest checkpoint, the verification keys, inclusion and consistency
proofs, and erasing entries' bodies."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from core.ledger.auditlog import (
    AuditLog,
    FilterError,
    check_filters,
    checkpoint_json,
    current_key_id,
    erasure_entry,
    key_fingerprint,
    public_key_b64,
)
from core.ledger.verify import verify_log
from hub.api.context import NO_STORE, CtxDep, LogReader, answer, check_cursor, error
from hub.api.models import (
    ConsistencyProof,
    EraseAnswer,
    InclusionProof,
    LatestCheckpoint,
    LogItem,
    Page,
    PublicKeys,
    VerifyAnswer,
)
from hub.refusals import parse_time
from schemas.cpr import contains_cpr_like

router = APIRouter()
DECISION_ALIASES = {"allowed": "disclosed", "routed": "disclosed", "refused": "rejected",
                    "denied": "rejected"}


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    seqs: list[Annotated[int, Field(ge=0, le=2**53 - 1)]] = Field(
        min_length=1, max_length=1000, description="the log entries whose bodies to erase")
    reason: str = Field(min_length=20, max_length=2000,
                        description="why (logged): a sentence, no CPR number")


def _audit(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


@router.get("/api/v1/disclosures", response_model=Page[LogItem],
            summary="The disclosure log, newest first (security officers)")
async def disclosures(
    request: Request, _reader: LogReader,
    pseudonym: str | None = None, agency: str | None = None, queue: str | None = None,
    kind: str | None = None, decision: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None, recipient: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> Response:
    """Filters combine with AND. ``queue`` (or ``recipient``) is the recipient queue or
    principal; ``from``/``to`` bound the time of the act (``to`` exclusive)."""
    if decision is not None:
        decision = DECISION_ALIASES.get(decision, decision)
    try:
        check_filters(kind=kind, decision=decision, pseudonym=pseudonym)
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from exc
    check_cursor(cursor)
    start, end = parse_time("from", from_), parse_time("to", to)
    page = await asyncio.to_thread(
        _audit(request).page_about, pseudonym, agency=agency, recipient=queue or recipient,
        kind=kind, decision=decision, start=start, end=end, limit=limit, cursor=cursor)
    return answer({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/api/v1/disclosures/verify", response_model=VerifyAnswer,
            summary="Verify the whole log: every entry, checkpoint signature and root "
                    "(incremental=true: only what was appended since the last verification)")
async def disclosures_verify(request: Request, _reader: LogReader, ctx: CtxDep,
                             incremental: bool = False) -> Response:
    """A full pass by default (and remembered). ``incremental=true`` verifies only the entries
    appended since the last verified checkpoint, from that checkpoint's frontier: fast at any
    size, but it does not re-read older entries (core/ledger/verify.py says what it proves);
    ``verification`` in the answer says which pass ran."""
    report = await asyncio.to_thread(verify_log, request.app.state.store, ctx.keys, ctx.ring,
                                     full=not incremental)
    return answer(report.as_dict())


@router.get("/api/v1/checkpoints/latest", response_model=LatestCheckpoint,
            summary="The newest signed checkpoint")
async def latest_checkpoint(request: Request, _reader: LogReader, ctx: CtxDep) -> Response:
    cp = await asyncio.to_thread(_audit(request).latest_checkpoint)
    if cp is None:
        raise HTTPException(404, "no checkpoint has been signed yet")
    keys = ctx.keys
    return answer({**checkpoint_json(cp), "public_key": public_key_b64(keys[cp.key_id])
                   if cp.key_id in keys else None})


@router.get("/api/v1/public-keys", response_model=PublicKeys,
            summary="The log's checkpoint verification keys")
async def log_public_keys(_reader: LogReader, ctx: CtxDep) -> Response:
    keys = ctx.keys
    return answer({"keys": {kid: public_key_b64(k) for kid, k in keys.items()},
                   "fingerprints": {kid: key_fingerprint(k) for kid, k in keys.items()},
                   "current": current_key_id(ctx.ring)})


@router.get("/api/v1/proofs/inclusion", response_model=InclusionProof,
            summary="Audit path of entry seq in a tree of tree_size")
async def inclusion_proof(
    request: Request, _reader: LogReader,
    seq: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)],
) -> Response:
    audit = _audit(request)
    if seq >= tree_size:
        raise HTTPException(422, "seq must be below tree_size")
    try:
        leaf, path = await asyncio.to_thread(audit.leaf_and_inclusion_proof, seq, tree_size)
    except ValueError as exc:
        raise HTTPException(404, "tree_size: the log is not that large yet") from exc
    cp = await asyncio.to_thread(audit.checkpoint_at, tree_size)
    return answer({"seq": seq, "tree_size": tree_size, "leaf_hash": leaf.hex(),
                   "audit_path": [h.hex() for h in path],
                   "checkpoint": None if cp is None else checkpoint_json(cp)})


@router.get("/api/v1/proofs/consistency", response_model=ConsistencyProof,
            summary="Proof that the tree of size first is a prefix of the tree of size second")
async def consistency_proof(
    request: Request, _reader: LogReader,
    first: Annotated[int, Query(ge=0)], second: Annotated[int, Query(ge=0)],
) -> Response:
    if first > second:
        raise HTTPException(422, "first must not be larger than second")
    try:
        path = await asyncio.to_thread(_audit(request).consistency_proof, first, second)
    except ValueError as exc:
        raise HTTPException(404, "second: the log is not that large yet") from exc
    return answer({"first": first, "second": second, "proof": [h.hex() for h in path]})


@router.post("/api/v1/disclosures/erase", response_model=EraseAnswer,
             summary="Erase log entries' bodies (format 2); their leaves keep the log "
                     "verifiable; the erasure is logged first")
async def erase_disclosures(request: Request, principal: LogReader,
                            body: EraseRequest) -> JSONResponse:
    if contains_cpr_like(body.reason):
        return error(422, "invalid request", errors=[{
            "field": "reason", "type": "cpr", "message": "must not hold a CPR number"}])
    audit = _audit(request)
    seqs = sorted(set(body.seqs))
    # Straight into the log (not via the topic): the record exists before the erasure.
    await asyncio.to_thread(audit.integrate, [erasure_entry(
        seqs, body.reason, principal.name, principal.role)])
    result = await asyncio.to_thread(audit.erase, seqs)
    return JSONResponse({"erased": result.erased, "already": result.already,
                         "version_1": result.version_1, "missing": result.missing},
                        headers=NO_STORE)
