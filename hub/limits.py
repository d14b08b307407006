"""Bounded requests and rates (issue 13 items 4 and 11).

:class:`BoundedBodies` is a pure ASGI middleware in front of every route:

1. on ``/api/`` a request that carries a body is authenticated *first* — a missing, unknown
   or revoked bearer token is answered 401 before one byte of the body is read;
2. a ``Content-Length`` above the route's cap is answered 413 at once (the answer names the
   cap, never anything the caller sent);
3. a body above ``large_body_bytes`` or without a length (chunked) must get one of a few
   upload slots, else 503 with ``Retry-After``;
4. the body is then read with a running count — a chunked body that passes the cap is
   answered 413 the moment it does — and only then handed to the route.

So a route never holds more than its cap, and at most ``slots`` large bodies are in memory
at once, whoever sends them.

:class:`RateLimiter` is a sliding-window limit per key (re-identification per principal).
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.settings import Settings

# Reason codes, recorded as refusals (hub.refusals) through the request's state.
MISSING_TOKEN = "missing_token"  # noqa: S105 - a reason code
UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 - a reason code
BODY_TOO_LARGE = "body_too_large"
UPLOADS_BUSY = "uploads_busy"

STATE_PRINCIPAL = "principal"
STATE_REASON = "refusal_reason"

_CONNECTOR = re.compile(r"^/api/v1/connectors/[^/]+/?$")
_INGEST = re.compile(r"^/api/v1/ingest/[^/]+/?$")


@dataclass(frozen=True)
class BodyCaps:
    default: int
    ingest: int
    connector: int
    large: int

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyCaps:
        return cls(settings.max_body_bytes, settings.max_ingest_bytes,
                   settings.max_connector_bytes, settings.large_body_bytes)

    def for_path(self, path: str) -> int:
        if _CONNECTOR.match(path):
            return self.connector
        if _INGEST.match(path):
            return self.ingest
        return self.default


def set_state(scope: Scope, key: str, value: Any) -> None:
    """Write into the request's ``state`` (what ``request.state`` reads)."""
    scope.setdefault("state", {})[key] = value


def bearer_token(scope: Scope) -> str | None:
    """The credential of an ``Authorization: Bearer …`` header, else None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credential = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credential.strip():
                return str(credential.strip())
            return None
    return None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


async def _answer(send: Send, status: int, detail: str,
                  headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"connection", b"close")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class TooLarge(Exception):
    pass


Authenticate = Callable[[Scope, str], Awaitable[str | None]]


class BoundedBodies:
    """See the module docstring. ``authenticate(scope, token)`` answers the principal's name,
    or None for an unknown or revoked token."""

    def __init__(self, app: ASGIApp, *, caps: BodyCaps, slots: int,
                 authenticate: Authenticate) -> None:
        self.app = app
        self.caps = caps
        self.slots = asyncio.Semaphore(slots)
        self.authenticate = authenticate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length_text = _header(scope, b"content-length")
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if length_text is None and not chunked:
            await self.app(scope, receive, send)  # no body
            return
        try:
            length = None if length_text is None else int(length_text)
        except ValueError:
            await _answer(send, 400, "Content-Length is not a number")
            return
        if length == 0 and not chunked:
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/api/"):
            token = bearer_token(scope)
            principal = None if token is None else await self.authenticate(scope, token)
            if principal is None:
                set_state(scope, STATE_REASON, MISSING_TOKEN if token is None else UNKNOWN_TOKEN)
                await _answer(send, 401, "missing bearer token" if token is None
                              else "unknown or revoked token", {"WWW-Authenticate": "Bearer"})
                return
            set_state(scope, STATE_PRINCIPAL, principal)
        cap = self.caps.for_path(path)
        if length is not None and length > cap:
            await self._too_large(scope, send, cap)
            return
        if length is not None and length <= self.caps.large:
            await self._forward(scope, receive, send, cap)
            return
        if self.slots.locked():
            set_state(scope, STATE_REASON, UPLOADS_BUSY)
            await _answer(send, 503, "too many large uploads at once; retry later",
                          {"Retry-After": "5"})
            return
        async with self.slots:
            await self._forward(scope, receive, send, cap)

    async def _too_large(self, scope: Scope, send: Send, cap: int) -> None:
        set_state(scope, STATE_REASON, BODY_TOO_LARGE)
        await _answer(send, 413, f"the body exceeds this route's cap of {cap} bytes; "
                                 "split it")

    async def _forward(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                chunks.clear()
                await self._too_large(scope, send, cap)
                return
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        # Handed on chunk by chunk (no joined copy here), each dropped once handed on.
        pending = chunks[::-1] or [b""]
        chunks.clear()

        async def replay() -> Message:
            if pending:
                piece = pending.pop()
                return {"type": "http.request", "body": piece, "more_body": bool(pending)}
            return await receive()

        await self.app(scope, replay, send)


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (a sliding window, in this
    process). :meth:`hit` answers 0 when allowed (and counts it), else the seconds until
    the oldest hit leaves the window."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, collections.deque[float]] = {}

    def hit(self, key: str) -> int:
        now = self.clock()
        hits = self._hits.setdefault(key, collections.deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, int(hits[0] + self.window - now) + 1)
        hits.append(now)
        return 0


class StoreUnavailable:
    """A pure ASGI middleware: while the database restarts or fails over, a request that
    needs it is answered ``503`` with ``Retry-After`` — "try again", which every connector
    does — instead of a 500. Only ``errors`` (the store's "unavailable" kinds) are caught, and
    only before the answer has started; the log line names the error's type, never its text
    (SQLAlchemy puts the statement's parameters there)."""

    def __init__(self, app: ASGIApp, *, errors: tuple[type[BaseException], ...],
                 on_error: Callable[[BaseException], None] | None = None) -> None:
        self.app = app
        self.errors = errors
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except self.errors as exc:
            if started:
                raise
            if self.on_error is not None:
                self.on_error(exc)
            body = json.dumps({"detail": "the database is unavailable; retry later"}).encode()
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"retry-after", b"5"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
