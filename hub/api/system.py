"""The service itself: ``GET /api/v1/whoami``, ``GET /healthz``, ``GET /readyz`` (broker and
store reachable; the drop folders' status) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from connectors.watch import drop_status
from core.bus import BusError
from hub.api.context import CtxDep, answer, ensure_producer
from hub.api.models import Health, Ready, WhoAmI
from hub.auth import PrincipalDep, StoreDep
from hub.metrics import metrics_allowed

router = APIRouter()


@router.get("/api/v1/whoami", response_model=WhoAmI, summary="The calling principal")
async def whoami(principal: PrincipalDep) -> Response:
    return answer({"name": principal.name, "role": principal.role,
                   "queues": list(principal.queues)})


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Response:
    return answer({"status": "ok"})


@router.get("/readyz", response_model=Ready,
            summary="Broker and store reachable; the drop folders' status")
async def readyz(request: Request, store: StoreDep, ctx: CtxDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        await asyncio.to_thread(store.ping)
        checks["store"] = "ok"
    except Exception:
        checks["store"] = "unreachable"
    try:
        producer = await ensure_producer(request)
        await asyncio.wait_for(producer.ready(), 5)
        checks["broker"] = "ok"
    except (HTTPException, BusError, TimeoutError):
        checks["broker"] = "unreachable"
    ok = all(v == "ok" for v in checks.values())
    # Each file-drop watcher's last status (connectors/watch.py): files waiting, rejected,
    # the last error code and delivery. Informational: it does not make the hub unready.
    try:
        drops = await asyncio.to_thread(drop_status, ctx.settings.resolved_watch_state_dir)
    except OSError:
        drops = []
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks,
                         "drop_folders": drops}, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics (a scrape token, an admin or a security "
            "officer)", response_class=Response, responses={200: {
                "description": "Prometheus text format",
                "content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(request: Request, ctx: CtxDep) -> PlainTextResponse:
    if not await asyncio.to_thread(metrics_allowed, request, ctx.settings):
        raise HTTPException(401, "metrics need the scrape token (SSP_HUB_METRICS_TOKEN) or "
                                 "an admin's or security officer's token",
                            headers={"WWW-Authenticate": "Bearer"})
    body = await asyncio.to_thread(generate_latest, request.app.state.registry)
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)
