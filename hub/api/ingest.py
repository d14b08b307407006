"""``POST /api/v1/ingest/{agency}`` (a canonical event) and ``POST
/api/v1/connectors/{connector}`` (an agency system's native export): claim, encrypt and
produce to ``ingest.<agency>``, answered only once the broker acknowledged."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

import schemas
from connectors.base import Mapped
from connectors.registry import CONNECTORS
from connectors.registry import connector as connector_named
from core.bus import BusError
from core.bus.envelope import seal
from core.settings import AGENCIES
from core.store import Principal, Store
from hub.api.context import (
    PRODUCE_TIMEOUT_S,
    ApiContext,
    CtxDep,
    answer,
    ensure_producer,
    error,
    field_errors,
    log,
)
from hub.api.models import ConnectorAnswer, IngestAccepted
from hub.auth import PrincipalDep, StoreDep
from hub.refusals import note_refusal
from schemas.events import CanonicalEvent, future_skew_context

router = APIRouter()

# One answer for an event id this agency cannot use, whoever holds it (issue 13 item 6).
ID_TAKEN = ("event_id is not available to this agency; send the event under a new event_id "
            "(nothing was accepted)")
# A claim still unacknowledged after this long belongs to an API process that died between
# claiming and producing: a retry of the same event may produce it.
STALE_CLAIM = dt.timedelta(seconds=4 * PRODUCE_TIMEOUT_S)


class CanonicalEventSchema:
    """Documents a body as the canonical event while it is read as a plain JSON object: the
    route validates it itself (with the configured clock skew), so that every refusal names
    the field and echoes no value, exactly as before the schema was published."""

    def __get_pydantic_json_schema__(self, _core: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return handler(CanonicalEvent.__pydantic_core_schema__)


# The README's example event (a 14-year-old pupil, test data only), shown in /docs too.
INGEST_EXAMPLE: dict[str, Any] = json.loads(
    (Path(schemas.__file__).parent / "examples" / "ingest-event.json").read_text("utf-8"))

EventBody = Annotated[dict[str, Any], CanonicalEventSchema(), Body(
    title="CanonicalEvent",
    description="A canonical event v1 (schemas/json/canonical-event.v1.json)",
    openapi_examples={"concern": {
        "summary": "En bekymring fra skolen om en 14-årig elev (testdata)",
        "value": INGEST_EXAMPLE}})]


def agency_sender(agency: str, principal: PrincipalDep) -> Principal:
    """The caller, if it may publish for ``agency``: 404 for an unknown agency, else 403."""
    if agency not in AGENCIES:
        raise HTTPException(404, f"unknown agency; known: {', '.join(AGENCIES)}")
    if principal.role != f"agency:{agency}":
        raise HTTPException(403, f"this token may not publish for agency {agency}")
    return principal


async def _claim(store: Store, agency: str, events: list[CanonicalEvent],
                 accepted_at: dt.datetime) -> list[bool | None]:
    fresh: list[bool | None] = []
    for event in events:
        event_id = str(event.event_id)
        claimed_now = (
            await asyncio.to_thread(store.claim_event, event_id, agency, accepted_at)
            or await asyncio.to_thread(store.take_over_stale_claim, event_id, agency,
                                       accepted_at, STALE_CLAIM))
        if not claimed_now:
            holder = await asyncio.to_thread(store.event, event_id)
            if holder is not None and holder["agency"] != agency:
                fresh.append(None)
                continue
        fresh.append(claimed_now)
    return fresh


async def publish(request: Request, ctx: ApiContext, store: Store, agency: str,
                  events: list[CanonicalEvent]) -> list[bool | None]:
    """Claim, encrypt and produce ``events`` to ``ingest.<agency>``; per event True if it
    was published now, False if this agency claimed its id before (a duplicate), None if
    another agency holds the id (refused: never dropped, and answered the same whoever
    holds it). Returns only once the broker acknowledged every one; else 503 with no
    claim left behind."""
    if not events:
        return []
    # The producer first: a 503 here must leave no claim behind, or the retry that
    # Retry-After invites would be answered as a duplicate of an event never produced.
    producer = await ensure_producer(request)
    accepted_at = dt.datetime.now(dt.UTC)
    fresh = await _claim(store, agency, events, accepted_at)
    claimed = [str(e.event_id) for e, f in zip(events, fresh, strict=True) if f]
    cipher = ctx.cipher
    try:
        # All sends first, then one wait: aiokafka slows sharply with one send per await.
        futures = []
        for event, is_fresh in zip(events, fresh, strict=True):
            if not is_fresh:
                continue
            event_id = str(event.event_id)
            payload = event.model_dump_json(by_alias=True).encode("utf-8")
            sealed = seal(cipher, ctx.order_key, payload, event_id=event_id, agency=agency,
                          cpr=event.subject.cpr)
            futures.append(await producer.send(sealed.topic, sealed.value, key=sealed.key,
                                               headers=sealed.headers(accepted_at)))
        await asyncio.wait_for(asyncio.gather(*futures), PRODUCE_TIMEOUT_S)
    except (BusError, TimeoutError) as exc:
        for event_id in claimed:
            await asyncio.to_thread(store.release_event, event_id)
        log.warning("ingest_not_acknowledged", agency=agency, events=len(claimed),
                    error=type(exc).__name__)
        raise HTTPException(503, "broker did not acknowledge; retry later",
                            headers={"Retry-After": "5"}) from exc
    for event_id in claimed:
        await asyncio.to_thread(store.mark_accepted, event_id)
    return fresh


@router.post(
    "/api/v1/ingest/{agency}", status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestAccepted, summary="Publish a canonical event (schema version 1)",
)
async def ingest(
    agency: str, request: Request, store: StoreDep, ctx: CtxDep,
    _sender: Annotated[Principal, Depends(agency_sender)], body: EventBody,
) -> Response:
    try:
        event = CanonicalEvent.model_validate(
            body, context=future_skew_context(ctx.settings.max_future_skew))
    except ValidationError as exc:
        return error(422, "invalid event", errors=field_errors(list(exc.errors())))
    if event.source.agency.value != agency:
        return error(422, "invalid event", errors=[{
            "field": "source.agency", "type": "agency_mismatch",
            "message": "must equal the agency in the path"}])
    event_id = str(event.event_id)
    [fresh] = await publish(request, ctx, store, agency, [event])
    if fresh is None:
        note_refusal(request, "event_id_taken")
        raise HTTPException(409, ID_TAKEN)
    return answer({"event_id": event_id} if fresh else {"event_id": event_id,
                                                         "duplicate": True},
                  status_code=202)


@router.post(
    "/api/v1/connectors/{connector}", response_model=ConnectorAnswer,
    summary="Publish an agency system's native export (CSV, JSON, XML, JSON Lines)",
)
async def connector_ingest(connector: str, request: Request, store: StoreDep,
                           principal: PrincipalDep, ctx: CtxDep) -> Response:
    """Each record is mapped to a canonical event and published like
    ``POST /api/v1/ingest/{agency}``; the answer says per record (by line) which were
    accepted — a record sent before is accepted again as a duplicate, under the same
    event id — and which were refused and why (the source field, never its value).
    If the broker is unavailable: 503 with ``Retry-After`` and nothing accepted."""
    name = connector
    if name not in CONNECTORS:
        raise HTTPException(404, f"unknown connector; known: {', '.join(sorted(CONNECTORS))}")
    source = connector_named(name, id_namespace=ctx.id_namespace)
    if principal.role != f"agency:{source.agency.value}":
        raise HTTPException(403, f"this token may not use connector {name}")
    # BoundedBodies authenticated the caller and capped the body while it streamed in
    # (settings.max_connector_bytes): nothing larger ever reaches this line.
    cap = ctx.settings.max_connector_bytes
    data = await request.body()
    if len(data) > cap:
        raise HTTPException(413, f"the body exceeds this route's cap of {cap} bytes; split it")
    results = await asyncio.to_thread(source.parse, data)
    mapped = [r for r in results if isinstance(r, Mapped)]
    refused = [{"line": r.line, "field": r.field, "reason": r.reason}
               for r in results if not isinstance(r, Mapped)]
    fresh = await publish(request, ctx, store, source.agency.value, [m.event for m in mapped])
    refused += [{"line": m.line, "field": "<record>", "reason": ID_TAKEN}
                for m, is_fresh in zip(mapped, fresh, strict=True) if is_fresh is None]
    accepted: list[dict[str, Any]] = [
        {"line": m.line, "event_id": str(m.event.event_id)}
        | ({} if is_fresh else {"duplicate": True})
        for m, is_fresh in zip(mapped, fresh, strict=True) if is_fresh is not None]
    accepted.sort(key=lambda a: int(a["line"]))
    log.info("connector_batch", connector=name, accepted=len(accepted), refused=len(refused))
    return answer({"connector": name, "accepted": accepted, "refused": refused,
                   "counts": {"accepted": len(accepted), "refused": len(refused)}})
