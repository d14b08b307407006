"""The FastAPI service: ingest, outcomes, queues, joint view, re-identification, the
disclosure log (review, verification, checkpoints, proofs, subject access), health and metrics.

Every act that shows personal data to a person — a concern read, a joint view, an identity, a
subject-access answer — is recorded in the disclosure log *before* it is answered: if the
entry cannot be made durable, the caller gets 503 and sees nothing.

``create_api(settings)`` builds everything; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.base import Mapped, keyed_namespace
from connectors.registry import CONNECTORS
from connectors.registry import connector as connector_named
from connectors.watch import drop_status
from core.ledger.auditlog import (
    AuditLog,
    FilterError,
    check_filters,
    checkpoint_json,
    current_key_id,
    erasure_entry,
    key_fingerprint,
    public_key_b64,
    public_keys,
    verify_store,
)
from core.ledger.disclosures import DisclosureSink, TopicSink
from core.ledger.entries import random_entry_id
from core.logs import get_logger
from core.policy.evaluator import load_policy
from core.privacy.crypto import PSEUDONYM_PATTERN, PayloadCipher
from core.privacy.freetext import FreeText
from core.privacy.keys import provider_for
from core.privacy.vault import EntryErased, Vault
from core.settings import AGENCIES, Settings
from core.store import Principal, Store, decode_cursor, encode_cursor
from hub.api_status import status_router
from hub.auth import PrincipalDep, StoreDep, readable_queues
from hub.limits import BodyCaps, BoundedBodies, RateLimiter
from hub.metrics import StoreCollector, metrics_allowed
from hub.problems import COMMON_ERRORS, reject_unknown_query
from hub.refusals import (
    AccessLog,
    mount_refusals,
    note_refusal,
    parse_time,
    refusal_counter,
)
from hub.subject_access import (
    DECISIONS,
    DecisionError,
    access_decision_entry,
    answer_subject_access,
    check_decision,
    store_decision,
    subject_access_entry,
)
from hub.web.routes import WebContext, mount_web
from schemas.cpr import InvalidCpr, contains_cpr_like
from schemas.disclosures import EntryKind, LogEntry
from schemas.events import CanonicalEvent, error_loc, future_skew_context
from schemas.wire import H_AGENCY, H_EVENT_ID, H_INGESTED_AT, H_KEY_ID, ingest_topic

log = get_logger("hub.api")
PRODUCE_TIMEOUT_S = 15.0
PRODUCER_STOP_S = 5.0
RETRY_RATE_LIMITED = 600
# One answer for an event id this agency cannot use, whoever holds it (issue 13 item 6).
ID_TAKEN = ("event_id is not available to this agency; send the event under a new event_id "
            "(nothing was accepted)")
# A claim still unacknowledged after this long belongs to an API process that died between
# claiming and producing: a retry of the same event may produce it.
STALE_CLAIM = dt.timedelta(seconds=4 * PRODUCE_TIMEOUT_S)


def _field_errors(errors: list[Any]) -> list[dict[str, str]]:
    """Pydantic errors without ``input``/``ctx``: they can hold the submitted value."""
    out = []
    for err in errors:
        loc = [p for p in error_loc(err) if p != "body"]
        out.append({"field": ".".join(loc) or "<body>", "type": str(err.get("type", "")),
                    "message": str(err.get("msg", ""))})
    return out


def _error(status_code: int, reason: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": reason, **extra}, status_code=status_code)


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REASON_MIN_CHARS = 20
REASON_MIN_WORDS = 3
REASON_RULE = (f"reason must be at least a sentence: {REASON_MIN_CHARS} characters or more "
               f"and at least {REASON_MIN_WORDS} words, saying why the identity is needed, "
               "with no CPR number in it (names, numbers and addresses are replaced before "
               "the reason is logged, and do not count)")
_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
_WORD = re.compile(r"\w*[^\W\d_]\w*")


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


class Identity(BaseModel):
    pseudonym: str
    cpr: str
    name: str | None


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


class EraseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    seqs: list[Annotated[int, Field(ge=0, le=2**53 - 1)]] = Field(
        min_length=1, max_length=1000, description="the log entries whose bodies to erase")
    reason: str = Field(min_length=20, max_length=2000,
                        description="why (logged): a sentence, no CPR number")


LOG_READERS = ("security_officer",)
DECISION_ALIASES = {"allowed": "disclosed", "routed": "disclosed", "refused": "rejected",
                    "denied": "rejected"}


def create_api(settings: Settings, *, store: Store | None = None,
               sink: DisclosureSink | None = None) -> FastAPI:
    """``sink`` overrides where disclosure-log entries go (default: the ``disclosures``
    topic); tests without a broker pass a :class:`core.ledger.disclosures.StoreSink`."""
    policy = load_policy(settings.resolved_policy_file)
    ring = provider_for(settings, create=settings.mode != "production").load()
    cipher = PayloadCipher(ring)
    keys = public_keys(ring)
    # Connector event ids come from the source record's identity under a secret namespace
    # (the first HMAC key, which never changes): a re-sent record gets the same id, and an id
    # in the log cannot be recomputed from a guessed CPR.
    id_namespace = keyed_namespace(ring.connector_id_secret())
    # The ingest key: a keyed hash of the subject, so that one young person's events share a
    # partition and keep their order through the worker (signal windows count them in the
    # order sent). Keyed, so that it cannot be recomputed from a guessed CPR.
    order_mac = hmac.new(ring.connector_id_secret(), b"ssp-hub ingest order key v1",
                         hashlib.sha256).digest()

    def order_key(cpr: str) -> bytes:
        return hmac.new(order_mac, cpr.encode("ascii"), hashlib.sha256).hexdigest()[:32].encode()

    # Reasons go into the log through the one free-text scrubber (core/privacy/freetext.py:
    # scrubbed, not refused, because the reason is the disclosure's justification and must be kept).
    freetext = FreeText()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or Store.open(settings.resolved_database_url)
        app.state.vault = Vault(app.state.store, ring)
        app.state.audit = AuditLog(app.state.store, origin=settings.log_origin)
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers, acks="all",
            enable_idempotence=False, linger_ms=2, request_timeout_ms=10_000,
        )
        app.state.producer = producer
        app.state.producer_started = False
        try:
            await producer.start()
            app.state.producer_started = True
        except KafkaError:
            await producer.stop()
            log.warning("broker_unavailable_at_start")
        registry = CollectorRegistry()
        registry.register(StoreCollector(app.state.store))
        registry.register(refusals_total)
        registry.register(reidentify_limited_total)
        app.state.registry = registry
        try:
            yield
        finally:
            if app.state.producer_started:
                # Bounded: a broker that does not answer must not hold the shutdown up (every
                # acknowledged request was answered only after its produce completed).
                try:
                    await asyncio.wait_for(producer.stop(), PRODUCER_STOP_S)
                except TimeoutError:
                    log.warning("producer_stop_timed_out")
            if store is None:
                app.state.store.close()

    app = FastAPI(
        title="SSP Hub", version="0.1.0", lifespan=lifespan,
        description="Secure integration hub for SSP (retsplejeloven §115).",
        # Every operation documents the one error model for each refusal it can answer
        # (hub.problems); the middleware below can answer 401/413/503 before any route runs.
        responses=COMMON_ERRORS, dependencies=[Depends(reject_unknown_query)],
    )
    # Refusals on record and the access log (outermost), then bounded bodies: authenticate
    # before reading a body, cap it per route, and share a few slots among large uploads.
    refusals_total = refusal_counter()
    reidentify_limited_total = Counter(
        "ssp_hub_reidentify_rate_limited", "Re-identifications refused by the hourly "
        "per-principal limit (an alert: bulk re-identification)", registry=None)
    reidentify_limit = RateLimiter(settings.reidentify_per_hour, 3600.0)
    token_key = hmac.new(ring.connector_id_secret(), b"ssp-hub refusal token prefix v1",
                         hashlib.sha256).digest()

    async def authenticate(scope: Any, token: str) -> str | None:
        found = await asyncio.to_thread(scope["app"].state.store.principal_by_token, token)
        return None if found is None else found.name

    app.add_middleware(BoundedBodies, caps=BodyCaps.from_settings(settings),
                       slots=settings.max_concurrent_large_uploads, authenticate=authenticate)
    app.add_middleware(AccessLog, counter=refusals_total, token_key=token_key,
                       store_of=lambda scope: getattr(scope["app"].state, "store", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid request", errors=_field_errors(list(exc.errors())))

    async def _ensure_producer(request: Request) -> AIOKafkaProducer:
        producer: AIOKafkaProducer = request.app.state.producer
        if not request.app.state.producer_started:
            try:
                await producer.start()
                request.app.state.producer_started = True
            except KafkaError as exc:
                await producer.stop()
                raise HTTPException(503, "broker unavailable; retry later",
                                    headers={"Retry-After": "5"}) from exc
        return producer

    async def publish(request: Request, store: Store, agency: str,
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
        producer = await _ensure_producer(request)
        accepted_at = dt.datetime.now(dt.UTC)
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
        claimed = [str(e.event_id) for e, f in zip(events, fresh, strict=True) if f]
        try:
            # All sends first, then one wait: aiokafka slows sharply with one send per await.
            futures = []
            for event, is_fresh in zip(events, fresh, strict=True):
                if not is_fresh:
                    continue
                event_id = str(event.event_id)
                payload = event.model_dump_json(by_alias=True).encode("utf-8")
                key_id, blob = cipher.encrypt(payload, event_id, agency)
                headers = [
                    (H_KEY_ID, key_id.encode()), (H_AGENCY, agency.encode()),
                    (H_EVENT_ID, event_id.encode()),
                    (H_INGESTED_AT, accepted_at.isoformat().encode()),
                ]
                futures.append(await producer.send(ingest_topic(agency), blob,
                                                   key=order_key(event.subject.cpr),
                                                   headers=headers))
            await asyncio.wait_for(asyncio.gather(*futures), PRODUCE_TIMEOUT_S)
        except (KafkaError, TimeoutError) as exc:
            for event_id in claimed:
                await asyncio.to_thread(store.release_event, event_id)
            log.warning("ingest_not_acknowledged", agency=agency, events=len(claimed),
                        error=type(exc).__name__)
            raise HTTPException(503, "broker did not acknowledge; retry later",
                                headers={"Retry-After": "5"}) from exc
        for event_id in claimed:
            await asyncio.to_thread(store.mark_accepted, event_id)
        return fresh

    async def record(request: Request, entries: list[LogEntry]) -> None:
        """Make log entries durable before the act they describe is answered (503 if not)."""
        if not entries:
            return
        target: DisclosureSink = sink or TopicSink(await _ensure_producer(request))
        try:
            await asyncio.wait_for(target.append(entries), PRODUCE_TIMEOUT_S)
        except (KafkaError, TimeoutError) as exc:
            log.warning("disclosure_not_recorded", error=type(exc).__name__)
            raise HTTPException(503, "the disclosure log is unavailable; retry later",
                                headers={"Retry-After": "5"}) from exc

    def consultations(principal: Principal, items: list[dict[str, Any]], view: str
                      ) -> list[LogEntry]:
        now = dt.datetime.now(dt.UTC)
        return [LogEntry(
            entry_id=random_entry_id(), kind=EntryKind.consultation, at=now,
            event_id=item.get("event_id"), agency=(item.get("source") or {}).get("agency"),
            unit=(item.get("source") or {}).get("unit"), recipient=principal.name,
            recipient_type="principal", principal=principal.name, role=principal.role,
            legal_basis=policy.legal_basis(), purpose="crime_prevention",
            pseudonym=item.get("pseudonym"), fields=list(item.get("disclosed") or []),
            policy_version=policy.version, details={"view": view, "queue": item.get("queue", "")},
        ) for item in items]

    @app.post(
        "/api/v1/ingest/{agency}", status_code=status.HTTP_202_ACCEPTED,
        summary="Publish a canonical event (schema version 1)",
    )
    async def ingest(
        agency: str, request: Request, store: StoreDep, principal: PrincipalDep,
        body: Annotated[dict[str, Any], Body(
            description="A canonical event v1 (schemas/json/canonical-event.v1.json)")],
    ) -> dict[str, Any]:
        if agency not in AGENCIES:
            raise HTTPException(404, f"unknown agency; known: {', '.join(AGENCIES)}")
        if principal.role != f"agency:{agency}":
            raise HTTPException(403, f"this token may not publish for agency {agency}")
        try:
            event = CanonicalEvent.model_validate(
                body, context=future_skew_context(settings.max_future_skew))
        except ValidationError as exc:
            return _error(422, "invalid event",  # type: ignore[return-value]
                          errors=_field_errors(list(exc.errors())))
        if event.source.agency.value != agency:
            return _error(422, "invalid event", errors=[{  # type: ignore[return-value]
                "field": "source.agency", "type": "agency_mismatch",
                "message": "must equal the agency in the path"}])
        event_id = str(event.event_id)
        [fresh] = await publish(request, store, agency, [event])
        if fresh is None:
            note_refusal(request, "event_id_taken")
            raise HTTPException(409, ID_TAKEN)
        return {"event_id": event_id} if fresh else {"event_id": event_id, "duplicate": True}

    @app.post(
        "/api/v1/connectors/{connector}",
        summary="Publish an agency system's native export (CSV, JSON, XML, JSON Lines)",
    )
    async def connector_ingest(connector: str, request: Request, store: StoreDep,
                               principal: PrincipalDep) -> dict[str, Any]:
        """Each record is mapped to a canonical event and published like
        ``POST /api/v1/ingest/{agency}``; the answer says per record (by line) which were
        accepted — a record sent before is accepted again as a duplicate, under the same
        event id — and which were refused and why (the source field, never its value).
        If the broker is unavailable: 503 with ``Retry-After`` and nothing accepted."""
        name = connector
        if name not in CONNECTORS:
            raise HTTPException(404, f"unknown connector; known: {', '.join(sorted(CONNECTORS))}")
        source = connector_named(name, id_namespace=id_namespace)
        if principal.role != f"agency:{source.agency.value}":
            raise HTTPException(403, f"this token may not use connector {name}")
        # BoundedBodies authenticated the caller and capped the body while it streamed in
        # (settings.max_connector_bytes): nothing larger ever reaches this line.
        data = await request.body()
        if len(data) > settings.max_connector_bytes:
            raise HTTPException(413, f"the body exceeds this route's cap of "
                                     f"{settings.max_connector_bytes} bytes; split it")
        results = await asyncio.to_thread(source.parse, data)
        mapped = [r for r in results if isinstance(r, Mapped)]
        refused = [{"line": r.line, "field": r.field, "reason": r.reason}
                   for r in results if not isinstance(r, Mapped)]
        fresh = await publish(request, store, source.agency.value, [m.event for m in mapped])
        refused += [{"line": m.line, "field": "<record>", "reason": ID_TAKEN}
                    for m, is_fresh in zip(mapped, fresh, strict=True) if is_fresh is None]
        accepted: list[dict[str, Any]] = [
            {"line": m.line, "event_id": str(m.event.event_id)}
            | ({} if is_fresh else {"duplicate": True})
            for m, is_fresh in zip(mapped, fresh, strict=True) if is_fresh is not None]
        accepted.sort(key=lambda a: int(a["line"]))
        log.info("connector_batch", connector=name, accepted=len(accepted),
                 refused=len(refused))
        return {"connector": name, "accepted": accepted, "refused": refused,
                "counts": {"accepted": len(accepted), "refused": len(refused)}}

    @app.get("/api/v1/events/{event_id}", summary="The outcome of one event")
    async def event_outcome(event_id: str, store: StoreDep,
                            principal: PrincipalDep) -> dict[str, Any]:
        if principal.role not in ("security_officer", "admin") and \
                not principal.role.startswith("agency:"):
            raise HTTPException(403, f"role {principal.role} may not read event outcomes")
        row = await asyncio.to_thread(store.event, event_id)
        if row is None or (principal.role.startswith("agency:")
                           and principal.role != f"agency:{row['agency']}"):
            raise HTTPException(404, "no such event for this caller")
        return {
            "event_id": row["event_id"], "status": row["status"], "queues": row["queues"],
            "reason": row["reason"], "rule_ids": row["rule_ids"],
            "policy_version": row["policy_version"], "agency": row["agency"],
            "accepted_at": row["accepted_at"], "decided_at": row["decided_at"],
        }

    @app.get("/api/v1/queues", summary="Queues the caller may see, with concern counts")
    async def list_queues(store: StoreDep, principal: PrincipalDep) -> dict[str, Any]:
        if principal.role in ("security_officer", "admin"):
            visible: tuple[str, ...] = policy.queues
        else:
            visible = readable_queues(principal, policy.queues)
            if principal.role != "consultant":
                raise HTTPException(403, f"role {principal.role} has no queues")
        counts = await asyncio.to_thread(store.queue_counts, visible)
        items = [{"queue": q, "title": policy.doc.queues[q], "concerns": counts.get(q, 0)}
                 for q in visible]
        return {"items": items, "next_cursor": None}

    def _check_cursor(cursor: str | None) -> None:
        if cursor is not None:
            try:
                decode_cursor(cursor)
            except ValueError as exc:
                raise HTTPException(422, "cursor is not one this API issued") from exc

    @app.get("/api/v1/queues/{queue}/concerns", summary="Routed concerns in a queue, newest first")
    async def queue_concerns(
        queue: str, request: Request, store: StoreDep, principal: PrincipalDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
    ) -> dict[str, Any]:
        if queue not in policy.queues:
            raise HTTPException(404, "unknown queue")
        if queue not in readable_queues(principal, policy.queues):
            raise HTTPException(403, "this principal may not read that queue")
        _check_cursor(cursor)
        page = await asyncio.to_thread(store.concerns_page, queues=[queue], pseudonym=None,
                                       limit=limit, cursor=cursor)
        await record(request, consultations(principal, page.items, "queue"))
        return {"items": page.items, "next_cursor": page.next_cursor}

    @app.get("/api/v1/subjects/{pseudonym}/concerns",
             summary="Joint view: one pseudonymised young person across agencies")
    async def subject_concerns(
        pseudonym: str, request: Request, store: StoreDep, principal: PrincipalDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
    ) -> dict[str, Any]:
        """Concerns about one young person in the caller's queues, oldest first, including
        those filed under the person's pseudonyms from earlier key versions."""
        queues = readable_queues(principal, policy.queues)
        if not queues:
            raise HTTPException(403, "only consultants with queues see the joint view")

        def read() -> Any:
            return store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(pseudonym),
                                               limit=limit, cursor=cursor)
        try:
            page = await asyncio.to_thread(read)
        except ValueError as exc:
            raise HTTPException(422, "cursor is not one this API issued") from exc
        await record(request, consultations(principal, page.items, "joint"))
        return {"items": page.items, "next_cursor": page.next_cursor}

    @app.post(
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

    async def reidentify_as(request: Request, store: Store, principal: Principal,
                            raw_pseudonym: str, raw_reason: str | None
                            ) -> tuple[int, str | None, str, Identity | None]:
        """Re-identification for the API and the web UI: (status, refusal code, detail,
        identity). Every answer, granted or refused, is in the disclosure log first."""
        vault: Vault = request.app.state.vault
        well_formed = PSEUDONYM_PATTERN.fullmatch(raw_pseudonym) is not None
        # A malformed "pseudonym" may be anything a caller typed (a CPR, say): never stored.
        pseudonym = raw_pseudonym if well_formed else None

        # Scrubbed knowing the person's name where the pseudonym has one, for a refusal too: a
        # reason may well name the young person, and a refused request's reason is logged.
        # The name only guides the scrubber here; nothing about it reaches the caller.
        names: list[str] = []
        if pseudonym is not None:
            try:
                known = await asyncio.to_thread(vault.identity, pseudonym)
            except EntryErased:
                known = None
            names = [known.name] if known is not None and known.name else []
        reason = scrub_reason(raw_reason, names)

        def entry(kind: EntryKind, **extra: Any) -> LogEntry:
            return LogEntry(
                entry_id=random_entry_id(), kind=kind, at=dt.datetime.now(dt.UTC),
                recipient=principal.name, recipient_type="principal", principal=principal.name,
                role=principal.role, pseudonym=pseudonym, reason=reason,
                legal_basis=policy.legal_basis(), purpose="crime_prevention",
                policy_version=policy.version, **extra)

        async def refuse(status_code: int, refusal: str, detail: str
                         ) -> tuple[int, str | None, str, Identity | None]:
            await record(request, [entry(EntryKind.reidentification_refused,
                                         reason_code=refusal,
                                         details={"status": status_code})])
            log.warning("reidentification_refused", principal=principal.name,
                        refusal=refusal, status=status_code)
            return status_code, refusal, detail, None

        if principal.role != "consultant":
            return await refuse(403, "role_not_allowed",
                                f"role {principal.role} may not re-identify")
        # Bulk re-identification: at most settings.reidentify_per_hour per principal; each
        # refusal is in the disclosure log, and an alert (log event + metric) goes out.
        if reidentify_limit.hit(principal.name):
            reidentify_limited_total.inc()
            log.warning("alert_reidentification_rate_limit", principal=principal.name,
                        limit_per_hour=settings.reidentify_per_hour)
            note_refusal(request, "reidentify_rate_limited")
            return await refuse(429, "rate_limited",
                                f"at most {settings.reidentify_per_hour} re-identifications "
                                "per hour; the security officer has been alerted")
        if pseudonym is None:
            return await refuse(422, "malformed_pseudonym",
                                "pseudonym is not one the hub issued")
        allowed_queues = readable_queues(principal, policy.queues)

        def visible(p: str) -> bool:
            return store.subject_visible(queues=allowed_queues, pseudonyms=store.aliases(p))
        if not await asyncio.to_thread(visible, pseudonym):
            return await refuse(403, "no_visible_concern",
                                "only a consultant who sees a concern about this pseudonym "
                                "may re-identify it")
        # Judged as typed and as it will be logged: "Mikkel Hansen, 22 33 44 55" says nothing
        # once scrubbed, and the log must still say why.
        if not reason_is_sufficient(raw_reason) or \
                not reason_is_sufficient(_PLACEHOLDER.sub(" ", reason or "")):
            return await refuse(422, "reason_insufficient", REASON_RULE)
        try:
            identity = await asyncio.to_thread(vault.identity, pseudonym)
        except EntryErased:
            return await refuse(404, "erased", "the identity behind this pseudonym was erased")
        if identity is None:
            return await refuse(404, "unknown_pseudonym", "no identity for this pseudonym")
        # Recorded before it is answered: if the record fails, nothing is disclosed.
        granted = entry(EntryKind.reidentification, fields=["subject.cpr", "subject.name"],
                        details={"queues": list(allowed_queues)})
        await record(request, [granted])
        log.info("reidentification", principal=principal.name, entry_id=granted.entry_id)
        return 200, None, "", Identity(pseudonym=pseudonym, cpr=identity.cpr,
                                       name=identity.name)

    def scrub_reason(reason: str | None, names: list[str] | None = None) -> str | None:
        if reason is None:
            return None
        # freetext also cuts out anything CPR-shaped the detectors left: never logged.
        return freetext.text(" ".join(reason.split())[:2000], known_names=names or [])

    # -- the disclosure log (security officers) -------------------------------------------
    def require_log_reader(principal: Principal) -> None:
        if principal.role not in LOG_READERS:
            raise HTTPException(403, f"role {principal.role} may not read the disclosure log")

    @app.get("/api/v1/disclosures", summary="The disclosure log, newest first (security officers)")
    async def disclosures(
        request: Request, principal: PrincipalDep,
        pseudonym: str | None = None, agency: str | None = None, queue: str | None = None,
        kind: str | None = None, decision: str | None = None,
        from_: Annotated[str | None, Query(alias="from")] = None,
        to: str | None = None, recipient: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
    ) -> dict[str, Any]:
        """Filters combine with AND. ``queue`` (or ``recipient``) is the recipient queue or
        principal; ``from``/``to`` bound the time of the act (``to`` exclusive)."""
        require_log_reader(principal)
        if decision is not None:
            decision = DECISION_ALIASES.get(decision, decision)
        try:
            check_filters(kind=kind, decision=decision, pseudonym=pseudonym)
        except FilterError as exc:
            raise HTTPException(422, str(exc)) from exc
        _check_cursor(cursor)
        start, end = parse_time("from", from_), parse_time("to", to)
        audit: AuditLog = request.app.state.audit
        page = await asyncio.to_thread(
            audit.page_about, pseudonym, agency=agency, recipient=queue or recipient,
            kind=kind, decision=decision, start=start, end=end, limit=limit, cursor=cursor)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @app.get("/api/v1/disclosures/verify",
             summary="Verify the whole log: every entry, checkpoint signature and root")
    async def disclosures_verify(request: Request, principal: PrincipalDep) -> dict[str, Any]:
        require_log_reader(principal)
        report = await asyncio.to_thread(verify_store, request.app.state.store, keys)
        return report.as_dict()

    @app.get("/api/v1/checkpoints/latest", summary="The newest signed checkpoint")
    async def latest_checkpoint(request: Request, principal: PrincipalDep) -> dict[str, Any]:
        require_log_reader(principal)
        cp = await asyncio.to_thread(request.app.state.audit.latest_checkpoint)
        if cp is None:
            raise HTTPException(404, "no checkpoint has been signed yet")
        return {**checkpoint_json(cp), "public_key": public_key_b64(keys[cp.key_id])
                if cp.key_id in keys else None}

    @app.get("/api/v1/public-keys", summary="The log's checkpoint verification keys")
    async def log_public_keys(principal: PrincipalDep) -> dict[str, Any]:
        require_log_reader(principal)
        return {"keys": {kid: public_key_b64(k) for kid, k in keys.items()},
                "fingerprints": {kid: key_fingerprint(k) for kid, k in keys.items()},
                "current": current_key_id(ring)}

    @app.get("/api/v1/proofs/inclusion", summary="Audit path of entry seq in a tree of tree_size")
    async def inclusion_proof(
        request: Request, principal: PrincipalDep,
        seq: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)],
    ) -> dict[str, Any]:
        require_log_reader(principal)
        audit: AuditLog = request.app.state.audit
        if seq >= tree_size:
            raise HTTPException(422, "seq must be below tree_size")

        def prove() -> tuple[bytes, list[bytes]]:
            leaves = audit.leaf_hashes(tree_size)
            return leaves[seq], audit.inclusion_proof(seq, tree_size)
        try:
            leaf, path = await asyncio.to_thread(prove)
        except ValueError as exc:
            raise HTTPException(404, "tree_size: the log is not that large yet") from exc
        cp = await asyncio.to_thread(audit.checkpoint_at, tree_size)
        return {"seq": seq, "tree_size": tree_size, "leaf_hash": leaf.hex(),
                "audit_path": [h.hex() for h in path],
                "checkpoint": None if cp is None else checkpoint_json(cp)}

    @app.get("/api/v1/proofs/consistency",
             summary="Proof that the tree of size first is a prefix of the tree of size second")
    async def consistency_proof(
        request: Request, principal: PrincipalDep,
        first: Annotated[int, Query(ge=0)], second: Annotated[int, Query(ge=0)],
    ) -> dict[str, Any]:
        require_log_reader(principal)
        if first > second:
            raise HTTPException(422, "first must not be larger than second")
        audit: AuditLog = request.app.state.audit
        try:
            path = await asyncio.to_thread(audit.consistency_proof, first, second)
        except ValueError as exc:
            raise HTTPException(404, "second: the log is not that large yet") from exc
        return {"first": first, "second": second, "proof": [h.hex() for h in path]}

    @app.post("/api/v1/subject-access",
              summary="A citizen's right of access: every log entry about one CPR number")
    async def subject_access(request: Request, principal: PrincipalDep,
                             body: SubjectAccessRequest) -> JSONResponse:
        require_log_reader(principal)
        store: Store = request.app.state.store
        try:
            answer = await asyncio.to_thread(answer_subject_access, store, ring, policy, body.cpr,
                                             include_staff=body.include_staff)
        except InvalidCpr:
            return _error(422, "invalid request", errors=[{
                "field": "cpr", "type": "cpr", "message": "not a valid CPR number"}])
        await record(request, [subject_access_entry(answer, principal.name, principal.role,
                                                    policy)])
        return JSONResponse(answer.as_json(), headers=NO_STORE)

    @app.post("/api/v1/subject-access/decisions", status_code=201,
              summary="Withhold a log entry from subject access, or release it to a related "
                      "person, with a reason (logged)")
    async def subject_access_decision(request: Request, principal: PrincipalDep,
                                      body: AccessDecisionRequest) -> JSONResponse:
        require_log_reader(principal)
        store: Store = request.app.state.store
        try:
            await asyncio.to_thread(check_decision, store, body.seq, body.decision, body.reason)
        except DecisionError as exc:
            return _error(422, "invalid request", errors=[{
                "field": exc.field, "type": "decision", "message": str(exc)}])
        entry = access_decision_entry(body.seq, body.decision, body.reason, principal.name,
                                      principal.role, policy)
        await record(request, [entry])
        await asyncio.to_thread(store_decision, store, entry)
        return JSONResponse({"seq": body.seq, "decision": body.decision,
                             "entry_id": entry.entry_id}, status_code=201, headers=NO_STORE)

    @app.get("/api/v1/subject-access/decisions",
             summary="The security officer's subject-access decisions, by log entry")
    async def subject_access_decisions(
        request: Request, principal: PrincipalDep,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
    ) -> JSONResponse:
        require_log_reader(principal)
        store: Store = request.app.state.store
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

    @app.post("/api/v1/disclosures/erase",
              summary="Erase log entries' bodies (format 2); their leaves keep the log "
                      "verifiable; the erasure is logged first")
    async def erase_disclosures(request: Request, principal: PrincipalDep,
                                body: EraseRequest) -> JSONResponse:
        require_log_reader(principal)
        if contains_cpr_like(body.reason):
            return _error(422, "invalid request", errors=[{
                "field": "reason", "type": "cpr", "message": "must not hold a CPR number"}])
        audit: AuditLog = request.app.state.audit
        seqs = sorted(set(body.seqs))
        # Straight into the log (not via the topic): the record exists before the erasure.
        await asyncio.to_thread(audit.integrate, [erasure_entry(
            seqs, body.reason, principal.name, principal.role)])
        result = await asyncio.to_thread(audit.erase, seqs)
        return JSONResponse({"erased": result.erased, "already": result.already,
                             "version_1": result.version_1, "missing": result.missing},
                            headers=NO_STORE)

    mount_web(app, WebContext(settings=settings, policy=policy, ring=ring, public_keys=keys,
                              record=record, consultations=consultations,
                              reidentify=reidentify_as, freetext=freetext))

    app.include_router(status_router(policy.queues, freetext))

    mount_refusals(app)

    @app.get("/api/v1/whoami", summary="The calling principal")
    async def whoami(principal: PrincipalDep) -> dict[str, Any]:
        return {"name": principal.name, "role": principal.role, "queues": list(principal.queues)}

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Broker and store reachable; the drop folders' status")
    async def readyz(request: Request, store: StoreDep) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            await asyncio.to_thread(store.ping)
            checks["store"] = "ok"
        except Exception:
            checks["store"] = "unreachable"
        try:
            producer = await _ensure_producer(request)
            await asyncio.wait_for(producer.client.fetch_all_metadata(), 5)
            checks["broker"] = "ok"
        except (HTTPException, KafkaError, TimeoutError):
            checks["broker"] = "unreachable"
        ok = all(v == "ok" for v in checks.values())
        # Each file-drop watcher's last status (connectors/watch.py): files waiting, rejected,
        # the last error code and delivery. Informational: it does not make the hub unready.
        try:
            drops = await asyncio.to_thread(drop_status, settings.resolved_watch_state_dir)
        except OSError:
            drops = []
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks,
                             "drop_folders": drops}, status_code=200 if ok else 503)

    @app.get("/metrics", summary="Prometheus metrics (a scrape token, an admin or a security "
             "officer)", response_class=Response, responses={200: {
                 "description": "Prometheus text format",
                 "content": {"text/plain": {"schema": {"type": "string"}}}}})
    async def metrics(request: Request) -> PlainTextResponse:
        if not await asyncio.to_thread(metrics_allowed, request, settings):
            raise HTTPException(401, "metrics need the scrape token (SSP_HUB_METRICS_TOKEN) or "
                                     "an admin's or security officer's token",
                                headers={"WWW-Authenticate": "Bearer"})
        body = await asyncio.to_thread(generate_latest, request.app.state.registry)
        return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)

    return app
