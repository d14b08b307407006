"""The FastAPI service: ingest, outcomes, queues, joint view, re-identification, the
disclosure log (review, verification, checkpoints, proofs, subject access), health and metrics.

One ``APIRouter`` module per resource (``ingest``, ``queues``, ``reidentify``,
``disclosures``, ``subject_access``, ``refusals``, ``system``); what they share — settings,
policy, key ring, the disclosure sink — is the :class:`hub.api.context.ApiContext` on
``app.state.api``, reached through FastAPI dependencies, and role checks are dependencies
too. Every JSON answer has a ``response_model`` (:mod:`hub.api.models`), so ``/openapi.json``
describes what the API returns.

Every act that shows personal data to a person — a concern read, a joint view, an identity, a
subject-access answer — is recorded in the disclosure log *before* it is answered: if the
entry cannot be made durable, the caller gets 503 and sees nothing.

``create_api(settings)`` builds everything; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from prometheus_client import CollectorRegistry, Counter

from connectors.base import keyed_namespace
from core.bus import Bus, BusError, KafkaBus
from core.bus.envelope import OrderKey, PayloadCipher
from core.ledger.auditlog import AuditLog, public_keys
from core.ledger.disclosures import DisclosureSink
from core.policy.evaluator import load_policy
from core.privacy.freetext import FreeText
from core.privacy.keys import provider_for
from core.privacy.vault import Vault
from core.settings import Settings
from core.store import Principal, Store
from core.store.engine import STORE_UNAVAILABLE
from hub.api import disclosures, ingest, queues, refusals, reidentify, subject_access, system
from hub.api.context import (
    ApiContext,
    consultations,
    error,
    field_errors,
    log,
    record,
)
from hub.api.ingest import ID_TAKEN
from hub.api.reidentify import REASON_RULE, reason_is_sufficient, reidentify_as
from hub.limits import BodyCaps, BoundedBodies, RateLimiter, StoreUnavailable
from hub.metrics import StoreCollector
from hub.problems import COMMON_ERRORS, reject_unknown_query
from hub.refusals import AccessLog, refusal_counter
from hub.web.routes import WebContext, mount_web
from schemas.disclosures import LogEntry

__all__ = ["ID_TAKEN", "REASON_RULE", "_field_errors", "create_api", "reason_is_sufficient"]

_field_errors = field_errors
PRODUCER_STOP_S = 5.0
ROUTERS = (ingest.router, queues.router, reidentify.router, disclosures.router,
           subject_access.router, refusals.router, system.router)


def _context(settings: Settings, sink: DisclosureSink | None) -> ApiContext:
    policy = load_policy(settings.resolved_policy_file)
    ring = provider_for(settings, create=settings.mode != "production").load()
    return ApiContext(
        settings=settings, policy=policy, ring=ring, cipher=PayloadCipher(ring),
        keys=public_keys(ring), id_namespace=keyed_namespace(ring.connector_id_secret()),
        order_key=OrderKey.for_ring(ring),
        freetext=FreeText(), sink=sink,
        reidentify_limit=RateLimiter(settings.reidentify_per_hour, 3600.0),
        reidentify_limited_total=Counter(
            "ssp_hub_reidentify_rate_limited", "Re-identifications refused by the hourly "
            "per-principal limit (an alert: bulk re-identification)", registry=None),
        refusals_total=refusal_counter(),
    )


def _lifespan(ctx: ApiContext, store: Store | None, bus: Bus | None
              ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    settings = ctx.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or Store.open(settings.resolved_database_url)
        app.state.vault = Vault(app.state.store, ctx.ring)
        app.state.audit = AuditLog(app.state.store, origin=settings.log_origin)
        producer = (bus or KafkaBus(settings.bootstrap_servers)).producer(
            linger_ms=2, request_timeout_ms=10_000)
        app.state.producer = producer
        app.state.producer_started = False
        try:
            await producer.start()
            app.state.producer_started = True
        except BusError:
            await producer.stop()
            log.warning("broker_unavailable_at_start")
        registry = CollectorRegistry()
        registry.register(StoreCollector(app.state.store))
        registry.register(ctx.refusals_total)
        registry.register(ctx.reidentify_limited_total)
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
    return lifespan


def create_api(settings: Settings, *, store: Store | None = None,
               sink: DisclosureSink | None = None, bus: Bus | None = None) -> FastAPI:
    """``sink`` overrides where disclosure-log entries go (default: the ``disclosures``
    topic); tests without a broker pass a :class:`core.ledger.disclosures.StoreSink`. ``bus`` is the
    broker seam (default: aiokafka against ``settings.bootstrap_servers``)."""
    ctx = _context(settings, sink)
    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from the
    # package's own files (served under /static-offline-docs), not from a CDN — the hub runs
    # air-gapped.
    app = FastAPIOffline(
        title="SSP Hub", version="0.1.0", lifespan=_lifespan(ctx, store, bus),
        description="Secure integration hub for SSP (retsplejeloven §115).",
        # Every operation documents the one error model for each refusal it can answer
        # (hub.problems); the middleware below can answer 401/413/503 before any route runs.
        responses=COMMON_ERRORS, dependencies=[Depends(reject_unknown_query)],
    )
    app.state.api = ctx
    # Refusals on record and the access log (outermost), then bounded bodies: authenticate
    # before reading a body, cap it per route, and share a few slots among large uploads.
    token_key = hmac.new(ctx.ring.connector_id_secret(), b"ssp-hub refusal token prefix v1",
                         hashlib.sha256).digest()

    async def authenticate(scope: Any, token: str) -> str | None:
        found = await asyncio.to_thread(scope["app"].state.store.principal_by_token, token)
        return None if found is None else found.name

    app.add_middleware(BoundedBodies, caps=BodyCaps.from_settings(settings),
                       slots=settings.max_concurrent_large_uploads, authenticate=authenticate)
    app.add_middleware(StoreUnavailable, errors=STORE_UNAVAILABLE, on_error=lambda exc: log.warning(
        "store_unavailable", error=type(exc).__name__))  # a restart: 503, not 500
    app.add_middleware(AccessLog, counter=ctx.refusals_total, token_key=token_key,
                       store_of=lambda scope: getattr(scope["app"].state, "store", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid request", errors=field_errors(list(exc.errors())))

    def consulted(principal: Principal, items: list[dict[str, Any]], view: str
                  ) -> list[LogEntry]:
        return consultations(ctx.policy, principal, items, view)

    mount_web(app, WebContext(settings=settings, policy=ctx.policy, ring=ctx.ring,
                              public_keys=ctx.keys, record=record, consultations=consulted,
                              reidentify=reidentify_as, freetext=ctx.freetext))
    for router in ROUTERS:
        app.include_router(router)
    return app
