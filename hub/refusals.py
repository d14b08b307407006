"""Refusals on record and the access log (issue 13 item 5; DESIGN §7 "the refusal is logged").

:class:`AccessLog` is a pure ASGI middleware around everything. For every request it writes
one structured log line — method, route *template*, status, principal, duration; never the
body, the query values or the token — and for every refusal (401, 403, 404, 405, 409, 413,
429) one row in the store's ``refusals`` table: who (the principal's name, or ``anonymous``
with a keyed hash of the presented token's first characters, never the token), what (method
and route template, so no id from the path), when, the status and a reason code. The
Prometheus counter ``ssp_hub_refusals_total`` counts them by reason code only.

Security officers read them through :mod:`hub.api.refusals` (``GET /api/v1/refusals`` and
``GET /api/v1/refusals/summary``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import time
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request
from prometheus_client import Counter
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import get_logger
from core.store import Store
from hub.limits import STATE_PRINCIPAL, STATE_REASON, bearer_token

log = get_logger("hub.access")

REFUSAL_STATUSES = frozenset({401, 403, 404, 405, 409, 413, 429})
DEFAULT_REASONS = {401: "unauthenticated", 403: "forbidden", 404: "not_found",
                   405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
                   429: "rate_limited"}
ANONYMOUS = "anonymous"
UNMATCHED = "<unmatched>"
READERS = ("security_officer",)
TOKEN_PREFIX_CHARS = 12


def refusal_counter() -> Counter:
    """``ssp_hub_refusals_total{reason}``: registered by the API in its own registry."""
    return Counter("ssp_hub_refusals", "Refused requests by reason code", ["reason"],
                   registry=None)


def token_fingerprint(key: bytes, token: str | None) -> str | None:
    """A keyed hash of the token's first characters: repeated tries with one token can be
    told apart from a spray of many, and nothing about the token can be recomputed."""
    if token is None:
        return None
    digest = hmac.new(key, token[:TOKEN_PREFIX_CHARS].encode("utf-8", "replace"),
                      hashlib.sha256).hexdigest()
    return digest[:16]


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/api/v1/events/{event_id}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    app = scope.get("app")
    for candidate in getattr(app, "routes", ()):
        match, _child = candidate.matches(scope)
        if match is not Match.NONE:
            found = getattr(candidate, "path", None)
            if isinstance(found, str):
                return found
    return UNMATCHED


class AccessLog:
    """See the module docstring. ``store_of(scope)`` gives the store to record into."""

    def __init__(self, app: ASGIApp, *, store_of: Callable[[Scope], Store | None],
                 counter: Counter, token_key: bytes) -> None:
        self.app = app
        self.store_of = store_of
        self.counter = counter
        self.token_key = token_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            await self._after(scope, status, time.perf_counter() - started)

    async def _after(self, scope: Scope, status: int, seconds: float) -> None:
        state: dict[str, Any] = scope.get("state") or {}
        principal = state.get(STATE_PRINCIPAL)
        route = route_template(scope)
        method = str(scope.get("method", ""))[:10]
        log.info("http_request", method=method, route=route, status=status,
                 principal=principal or ANONYMOUS, duration_ms=round(seconds * 1000, 1))
        if status not in REFUSAL_STATUSES:
            return
        reason = str(state.get(STATE_REASON) or DEFAULT_REASONS[status])[:64]
        self.counter.labels(reason).inc()
        row = {"at": dt.datetime.now(dt.UTC), "principal": principal or ANONYMOUS,
               "token_hash": None if principal else token_fingerprint(
                   self.token_key, bearer_token(scope)),
               "method": method, "route": route[:200], "status": status, "reason": reason}
        store = self.store_of(scope)
        if store is None:
            return
        try:
            await asyncio.to_thread(store.record_refusals, [row])
        except Exception as exc:  # the answer is sent; a lost row is logged, never raised
            log.error("refusal_not_recorded", error=type(exc).__name__, reason=reason)


def note_refusal(request: Request, reason: str) -> None:
    """Give the refusal this request is about to answer a specific reason code."""
    request.state.refusal_reason = reason


def parse_time(name: str, value: str | None) -> dt.datetime | None:
    """A ``from``/``to`` query value as an aware time (UTC if it names no offset); 422 naming
    the parameter, never the value, if it is no ISO 8601 date or time."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise HTTPException(422, f"{name}: not an ISO 8601 date or time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def summarise(rows: list[tuple[str, str | None, str, dt.datetime]]) -> list[dict[str, Any]]:
    """Per principal (and, for anonymous callers, per token fingerprint): the number of
    refusals, by reason, and the busiest minute — most refused first."""
    groups: dict[tuple[str, str | None], list[tuple[str, dt.datetime]]] = {}
    for principal, token_hash, reason, at in rows:
        groups.setdefault((principal, token_hash), []).append((reason, at))
    items: list[dict[str, Any]] = []
    for (principal, token_hash), hits in groups.items():
        minutes = Tally(at.replace(second=0, microsecond=0) for _r, at in hits)
        busiest, peak = max(minutes.items(), key=lambda kv: (kv[1], kv[0]))
        items.append({"principal": principal, "token_hash": token_hash,
                      "refusals": len(hits), "reasons": dict(Tally(r for r, _a in hits)),
                      "peak_per_minute": peak, "peak_minute": busiest,
                      "first_at": min(at for _r, at in hits),
                      "last_at": max(at for _r, at in hits)})
    items.sort(key=lambda i: (-int(i["peak_per_minute"]), -int(i["refusals"]),
                              str(i["principal"])))
    return items
