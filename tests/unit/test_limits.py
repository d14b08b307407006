"""Bounded requests (issue 13 item 4) at the ASGI level: authenticate before reading a body,
refuse by Content-Length, cap a chunked body while it streams, share a few upload slots; and
the sliding-window rate limit (item 11).

The middleware is driven with hand-made ASGI messages, so that the tests see exactly how
much of a body was *read* — something an HTTP client cannot show.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from hub.limits import BodyCaps, BoundedBodies, RateLimiter

pytestmark = pytest.mark.timeout(30)

CAPS = BodyCaps(default=1000, ingest=2000, connector=10_000, large=4000)
GOOD = "ssp_good-token-for-tests"
SECRET_BODY = b'{"cpr": "0102104321"}'


class Inner:
    """The app behind the middleware: reads the body it is given and answers 200."""

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.calls = 0
        self.bodies: list[bytes] = []
        self.hold = hold
        self.started = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        self.started.set()
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        if self.hold is not None:
            await self.hold.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def authenticate(_scope: Any, token: str) -> str | None:
    return "stege-skole" if token == GOOD else None


def scope(path: str = "/api/v1/ingest/school", *, token: str | None = GOOD,
          length: int | None = None, chunked: bool = False) -> dict[str, Any]:
    headers = []
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if chunked:
        headers.append((b"transfer-encoding", b"chunked"))
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


class Body:
    """``receive``: ``chunks`` chunks of ``size`` bytes, counting how many were read."""

    def __init__(self, chunks: int, size: int = 1000, fill: bytes = b"x") -> None:
        self.chunks = chunks
        self.size = size
        self.fill = fill
        self.read = 0

    async def __call__(self) -> dict[str, Any]:
        if self.read >= self.chunks:
            await asyncio.sleep(3600)  # the client would just be waiting
        self.read += 1
        return {"type": "http.request", "body": self.fill * self.size,
                "more_body": self.read < self.chunks}


async def call(app: Any, sc: dict[str, Any], receive: Any) -> tuple[int, dict[str, str], Any]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(sc, receive, send)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], headers, json.loads(body) if body != b"ok" else body


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("token", [None, "ssp_wrong"])
def test_an_unauthenticated_body_is_refused_before_one_byte_is_read(token: str | None) -> None:
    inner, body = Inner(), Body(100_000, fill=SECRET_BODY)  # "100 MB" that is never read
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)

    status, headers, answer = run(call(app, scope(token=token, length=100_000_000), body))

    assert status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert body.read == 0
    assert inner.calls == 0
    assert answer["detail"] in ("missing bearer token", "unknown or revoked token")
    assert sc_reason(app, token) in ("missing_token", "unknown_token")


def sc_reason(app: BoundedBodies, token: str | None) -> str:
    sc = scope(token=token, length=10)
    run(call(app, sc, Body(1, 10)))
    return str(sc["state"]["refusal_reason"])


def test_a_content_length_above_the_route_cap_is_refused_unread_and_unechoed() -> None:
    inner, body = Inner(), Body(10)
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)

    status, _headers, answer = run(call(app, scope(length=2001), body))

    assert status == 413
    assert body.read == 0
    assert inner.calls == 0
    assert "2001" not in answer["detail"]  # the cap is named, never what was sent
    assert "2000" in answer["detail"]


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_cap() -> None:
    inner, body = Inner(), Body(100_000, size=1000)
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)
    sc = scope("/api/v1/connectors/school-absence", chunked=True)

    status, _headers, _answer = run(call(app, sc, body))

    assert status == 413
    assert body.read == 11  # 10 000 bytes is the connector cap: the 11th chunk passes it
    assert inner.calls == 0
    assert sc["state"] == {"principal": "stege-skole", "refusal_reason": "body_too_large"}


def test_a_body_within_the_cap_reaches_the_route_whole() -> None:
    inner = Inner()
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)

    status, _h, _a = run(call(app, scope(length=1500), Body(3, size=500)))

    assert status == 200
    assert inner.bodies == [b"x" * 1500]


def test_requests_without_a_body_pass_untouched_to_the_route_s_own_checks() -> None:
    inner = Inner()
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)
    sc = scope("/api/v1/queues", token=None)
    sc["method"] = "GET"

    status, _h, _a = run(call(app, sc, Body(1, size=0)))

    assert status == 200
    assert inner.calls == 1


def test_the_web_ui_is_capped_but_authenticates_by_session_itself() -> None:
    inner = Inner()
    app = BoundedBodies(inner, caps=CAPS, slots=2, authenticate=authenticate)

    ok = run(call(app, scope("/ui/login", token=None, length=500), Body(1, 500)))
    too_big = run(call(app, scope("/ui/login", token=None, length=1001), Body(2, 1000)))

    assert ok[0] == 200
    assert too_big[0] == 413


def test_large_uploads_share_the_slots_and_the_next_one_gets_503_with_retry_after() -> None:
    async def scenario() -> tuple[int, dict[str, str], int]:
        hold = asyncio.Event()
        inner = Inner(hold)
        app = BoundedBodies(inner, caps=CAPS, slots=1, authenticate=authenticate)
        path = "/api/v1/connectors/school-absence"
        first = asyncio.create_task(call(app, scope(path, length=5000), Body(5)))
        await asyncio.wait_for(inner.started.wait(), 5)
        second_body = Body(5)
        status, headers, _a = await call(app, scope(path, chunked=True), second_body)
        hold.set()
        assert (await first)[0] == 200
        # A small body never needs a slot.
        small = await call(app, scope(path, length=100), Body(1, 100))
        assert small[0] == 200
        return status, headers, second_body.read

    status, headers, read = run(scenario())

    assert status == 503
    assert headers["retry-after"] == "5"
    assert read == 0


def test_a_malformed_content_length_is_a_400_not_a_crash() -> None:
    app = BoundedBodies(Inner(), caps=CAPS, slots=1, authenticate=authenticate)
    sc = scope()
    sc["headers"].append((b"content-length", b"lots"))

    status, _h, _a = run(call(app, sc, Body(1)))

    assert status == 400


def test_the_rate_limit_allows_n_per_window_then_says_when_to_retry() -> None:
    now = [0.0]
    limit = RateLimiter(3, 3600.0, clock=lambda: now[0])

    assert [limit.hit("a") for _ in range(3)] == [0, 0, 0]
    retry = limit.hit("a")
    assert 3590 <= retry <= 3601
    assert limit.hit("b") == 0  # per key
    now[0] = 3600.5
    assert limit.hit("a") == 0


# -- the store unavailable (a database restart) -------------------------------------------------
class FailingStore:
    """The app behind the middleware, with a database that is restarting."""

    def __init__(self, exc: BaseException, *, after_start: bool = False) -> None:
        self.exc = exc
        self.after_start = after_start

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.after_start:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise self.exc


def _unavailable() -> BaseException:
    import sqlalchemy as sa

    return sa.exc.OperationalError("SELECT … WHERE token_hash = %(h)s", {"h": SECRET_BODY},
                                   Exception("the database system is shutting down"))


def test_a_database_restart_is_a_503_to_retry_and_names_nothing_it_was_doing() -> None:
    from core.store.engine import STORE_UNAVAILABLE
    from hub.limits import StoreUnavailable

    seen: list[str] = []
    app = StoreUnavailable(FailingStore(_unavailable()), errors=STORE_UNAVAILABLE,
                           on_error=lambda exc: seen.append(type(exc).__name__))

    status, headers, body = run(call(app, scope(), Body(0)))

    assert status == 503
    assert headers["retry-after"] == "5"
    assert body == {"detail": "the database is unavailable; retry later"}
    assert seen == ["OperationalError"]


def test_other_errors_and_an_answer_already_started_are_not_turned_into_a_503() -> None:
    from core.store.engine import STORE_UNAVAILABLE
    from hub.limits import StoreUnavailable

    bug = StoreUnavailable(FailingStore(KeyError("x")), errors=STORE_UNAVAILABLE)
    with pytest.raises(KeyError):
        run(call(bug, scope(), Body(0)))
    late = StoreUnavailable(FailingStore(_unavailable(), after_start=True),
                            errors=STORE_UNAVAILABLE)
    with pytest.raises(Exception, match="shutting down"):
        run(call(late, scope(), Body(0)))
