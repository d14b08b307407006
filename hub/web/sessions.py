"""Web login: local accounts (argon2), server-side sessions, CSRF.

The session token lives only in the browser's cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` on TLS); the store keeps its SHA-256, the principal, a per-session CSRF token, an
absolute expiry and the last time it was seen (idle expiry). Every state-changing form carries
the CSRF token and is checked with a constant-time comparison. The login form, which has no
session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request, Response

from core.settings import Settings
from core.store import Principal, Store

SESSION_COOKIE = "ssp_session"
LOGIN_COOKIE = "ssp_login"
# Roles that have pages in the web UI; agencies publish through connectors, not browsers.
WEB_ROLES = ("consultant", "security_officer", "admin", "governance")

_hasher = PasswordHasher()
# Verified against when the user is unknown, so that a wrong name costs what a wrong
# password costs (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginRequired(Exception):
    """No live session: the handler redirects to the login page."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class CsrfFailed(Exception):
    """A form without the session's CSRF token."""


@dataclass(frozen=True)
class WebUser:
    principal: Principal
    csrf: str

    @property
    def name(self) -> str:
        return self.principal.name

    @property
    def role(self) -> str:
        return self.principal.role


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(store: Store, name: str, password: str) -> Principal | None:
    """The principal if ``password`` is its web password; None otherwise (also when it has
    none or its role has no web UI)."""
    found = store.login_record(name)
    stored = found[1] if found is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if found is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        store.set_password_hash(name, _hasher.hash(password))
    return found[0]


def _secure(request: Request, settings: Settings) -> bool:
    if settings.web_secure_cookies is not None:
        return settings.web_secure_cookies
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, store: Store, settings: Settings,
                  principal: Principal) -> None:
    now = dt.datetime.now(dt.UTC)
    token = secrets.token_urlsafe(32)
    lifetime = dt.timedelta(hours=settings.web_session_hours)
    store.create_session(token, principal.id, secrets.token_urlsafe(32), now, now + lifetime)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()),
                        httponly=True, secure=_secure(request, settings), samesite="strict",
                        path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/ui/login")


def end_session(request: Request, response: Response, store: Store) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        store.end_session(token)
    response.delete_cookie(SESSION_COOKIE, path="/")


def current_user(request: Request, store: Store, settings: Settings) -> WebUser:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    found = store.session(token, dt.datetime.now(dt.UTC),
                          dt.timedelta(minutes=settings.web_session_idle_minutes))
    if found is None:
        raise LoginRequired(expired=True)
    principal, csrf = found
    if principal.role not in WEB_ROLES:
        raise LoginRequired()
    return WebUser(principal, csrf)


def csrf_ok(expected: str, given: object) -> bool:
    return (isinstance(given, str) and bool(given) and bool(expected)
            and hmac.compare_digest(expected.encode(), given.encode()))


def login_token(request: Request) -> str:
    """The login form's double-submit token: the cookie's, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)


def set_login_cookie(request: Request, response: Response, settings: Settings,
                     token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True,
                        secure=_secure(request, settings), samesite="strict",
                        path="/ui/login")


class LoginThrottle:
    """Failed logins per user name: after ``max_failures`` within ``window_s`` seconds the name
    is refused (without checking a password) until its oldest failure is older than the window.

    In memory, per API process: with several replicas a guesser gets that many budgets, each
    still slowed by argon2. Hand-written because what is needed is a count per *account*, and
    the rate-limit libraries count per client address (which a guesser changes).
    """

    def __init__(self, max_failures: int = 5, window_s: float = 900.0,
                 max_names: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_names = max_names
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, name: str, now: float) -> deque[float]:
        times = self._failures.get(name.casefold(), deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def blocked(self, name: str, now: float | None = None) -> bool:
        return len(self._recent(name, time.monotonic() if now is None else now)) \
            >= self.max_failures

    def failed(self, name: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = name.casefold()
        times = self._recent(name, now)
        times.append(now)
        self._failures[key] = times
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_names:
            self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        self._failures.pop(name.casefold(), None)


def safe_next(value: str | None) -> str | None:
    """Where to go after login: a path of this site's web UI (``/ui/...``, with its query),
    or None for anything else — another site (``https://evil``, ``//evil``, ``/\\evil``), a
    scheme, control characters, or the login and logout pages themselves (no open redirect)."""
    if not value or len(value) > 2000 or not value.startswith("/ui/"):
        return None
    if "\\" in value or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(("/ui/login", "/ui/logout")):
        return None
    return value
