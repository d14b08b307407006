"""What every router shares: the :class:`ApiContext` built once by
:func:`hub.api.create_api` (settings, policy, key ring, cipher, the free-text scrubber, the
disclosure sink, counters), reached through ``request.app.state`` by FastAPI dependencies;
role checks as dependencies; the producer; recording disclosures before an answer; and the
one way a route sends its JSON answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import Counter
from pydantic import TypeAdapter

from core.bus import BusError, Producer
from core.bus.envelope import OrderKey, PayloadCipher
from core.ledger.disclosures import DisclosureSink, TopicSink
from core.ledger.entries import random_entry_id
from core.logs import get_logger
from core.policy.evaluator import Policy
from core.privacy.freetext import FreeText
from core.privacy.keys import KeyRing
from core.settings import Settings
from core.store import Principal, decode_cursor
from hub.auth import PrincipalDep
from hub.limits import RateLimiter
from schemas.disclosures import EntryKind, LogEntry
from schemas.events import error_loc

log = get_logger("hub.api")
PRODUCE_TIMEOUT_S = 15.0
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class ApiContext:
    """Built once per app by :func:`hub.api.create_api`; on ``app.state.api``."""

    settings: Settings
    policy: Policy
    ring: KeyRing
    cipher: PayloadCipher
    keys: dict[str, Ed25519PublicKey]
    # Connector event ids come from the source record's identity under a secret namespace
    # (the first HMAC key, which never changes): a re-sent record gets the same id, and an id
    # in the log cannot be recomputed from a guessed CPR.
    id_namespace: uuid.UUID
    # The ingest key: a keyed hash of the subject, so that one young person's events share a
    # partition and keep their order through the worker (signal windows count them in the
    # order sent). Keyed, so that it cannot be recomputed from a guessed CPR.
    order_key: OrderKey
    # Reasons go into the log through the one free-text scrubber (core/privacy/freetext.py:
    # scrubbed, not refused, because the reason is the disclosure's justification and must be kept).
    freetext: FreeText
    sink: DisclosureSink | None
    reidentify_limit: RateLimiter
    reidentify_limited_total: Counter
    refusals_total: Counter



def get_ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx


CtxDep = Annotated[ApiContext, Depends(get_ctx)]


def require_role(roles: tuple[str, ...], refusal: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if its role is one of ``roles``; else 403 with ``refusal``
    (``{role}`` is replaced by the caller's role)."""
    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise HTTPException(403, refusal.format(role=principal.role))
        return principal
    return check


LOG_READERS = ("security_officer",)
LogReader = Annotated[Principal, Depends(require_role(
    LOG_READERS, "role {role} may not read the disclosure log"))]


# -- answers ----------------------------------------------------------------------------------
_ANY = TypeAdapter(dict[str, Any])


def answer(content: dict[str, Any], *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """A JSON answer serialised exactly as FastAPI serialises a returned ``dict`` (pydantic's
    JSON mode: times as RFC 3339). The route's ``response_model`` documents it."""
    return Response(_ANY.dump_json(content, by_alias=True), status_code=status_code,
                    media_type="application/json", headers=headers)


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors without ``input``/``ctx``: they can hold the submitted value."""
    out = []
    for err in errors:
        loc = [p for p in error_loc(err) if p != "body"]
        out.append({"field": ".".join(loc) or "<body>", "type": str(err.get("type", "")),
                    "message": str(err.get("msg", ""))})
    return out


def error(status_code: int, reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": reason, **extra}, status_code=status_code)


def check_cursor(cursor: str | None) -> None:
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError as exc:
            raise HTTPException(422, "cursor is not one this API issued") from exc


# -- the broker and the disclosure log --------------------------------------------------------
async def ensure_producer(request: Request) -> Producer:
    producer: Producer = request.app.state.producer
    if not request.app.state.producer_started:
        try:
            await producer.start()
            request.app.state.producer_started = True
        except BusError as exc:
            await producer.stop()
            raise HTTPException(503, "broker unavailable; retry later",
                                headers={"Retry-After": "5"}) from exc
    return producer


async def record(request: Request, entries: list[LogEntry]) -> None:
    """Make log entries durable before the act they describe is answered (503 if not)."""
    if not entries:
        return
    sink = get_ctx(request).sink
    target: DisclosureSink = sink or TopicSink(await ensure_producer(request))
    try:
        await asyncio.wait_for(target.append(entries), PRODUCE_TIMEOUT_S)
    except (BusError, TimeoutError) as exc:
        log.warning("disclosure_not_recorded", error=type(exc).__name__)
        raise HTTPException(503, "the disclosure log is unavailable; retry later",
                            headers={"Retry-After": "5"}) from exc


def _the_one(values: list[Any]) -> Any:
    """The value all of ``values`` share, else None (a view across agencies has no agency)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def consultations(policy: Policy, principal: Principal, items: list[dict[str, Any]],
                  view: str) -> list[LogEntry]:
    """One consultation entry for one view (a page of a queue, a concern, the joint view):
    every concern shown (``concerns``) and every young person they are about
    (``subjects_shown``, which the subject index and subject access find). The event, agency,
    unit and pseudonym members are set where the whole view shares one. An inbox page of 50
    is one entry, not 50: the log stays readable and grows by views, not by rows."""
    if not items:
        return []
    sources = [item.get("source") or {} for item in items]
    subjects = list(dict.fromkeys(str(i["pseudonym"]) for i in items if i.get("pseudonym")))
    return [LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.consultation, at=dt.datetime.now(dt.UTC),
        event_id=_the_one([item.get("event_id") for item in items]),
        agency=_the_one([s.get("agency") for s in sources]),
        unit=_the_one([s.get("unit") for s in sources]), recipient=principal.name,
        recipient_type="principal", principal=principal.name, role=principal.role,
        legal_basis=policy.legal_basis(), purpose="crime_prevention",
        pseudonym=subjects[0] if len(subjects) == 1 else None,
        fields=sorted({f for item in items for f in item.get("disclosed") or []}),
        policy_version=policy.version,
        concerns=[f"{item.get('event_id')}:{item.get('queue', '')}" for item in items],
        subjects_shown=subjects if len(subjects) > 1 else [],
        details={"view": view, "queue": _the_one([item.get("queue", "") for item in items])
                 or "", "shown": len(items)},
    )]
