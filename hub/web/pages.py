"""What every page group of the web UI shares: the :class:`WebContext` from the API, the
:class:`WebState` on ``app.state.web`` (reached through dependencies), the Jinja2 templates
and their Danish filters, the logged-in user, role checks, CSRF-checked forms, and the
security headers every answer carries."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core.policy.evaluator import Policy
from core.privacy.freetext import FreeText
from core.privacy.keys import KeyRing
from core.settings import Settings
from core.store import Principal, Store
from hub.web.sessions import CsrfFailed, LoginThrottle, WebUser, csrf_ok, current_user
from hub.web.texts import FILTERS, TEXTS
from schemas.disclosures import LogEntry

if TYPE_CHECKING:
    from hub.web.oidc import OidcLogin

HERE = Path(__file__).resolve().parent
LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
# Pages hold personal data: never cached, never framed, no scripts, forms post only here.
SECURITY_HEADERS = {
    "Cache-Control": "no-store", "Pragma": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_ROLES = {
    "inbox": ("consultant",),
    "log": ("security_officer",),
    "policy": ("security_officer", "admin"),
    "governance": ("consultant", "security_officer", "admin", "governance"),
    "admin": ("admin",),
}
HOME = {"consultant": "/ui/indbakke", "security_officer": "/ui/log", "admin": "/ui/admin",
        "governance": "/ui/styring"}

Reidentify = Callable[[Request, Store, Principal, str, str | None],
                      Awaitable[tuple[int, str | None, str, Any]]]


@dataclass(frozen=True)
class WebContext:
    """What the pages need from the API: built once in :func:`hub.api.create_api`."""

    settings: Settings
    policy: Policy
    ring: KeyRing
    public_keys: dict[str, Any]
    record: Callable[[Request, list[LogEntry]], Awaitable[None]]
    consultations: Callable[[Principal, list[dict[str, Any]], str], list[LogEntry]]
    reidentify: Reidentify
    # The one free-text scrubber (core/privacy/freetext.py); the API passes its own.
    freetext: FreeText = field(default_factory=FreeText)


@dataclass(frozen=True)
class WebState:
    """Built once by :func:`hub.web.routes.mount_web`; on ``app.state.web``."""

    ctx: WebContext
    templates: Jinja2Templates
    throttle: LoginThrottle
    oidc: OidcLogin | None


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


WebDep = Annotated[WebState, Depends(web_state)]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def user_dep(request: Request) -> WebUser:
    """The logged-in web user, or :class:`LoginRequired` (→ the login page)."""
    user = await asyncio.to_thread(current_user, request, request.app.state.store,
                                   request.app.state.web_settings)
    request.state.principal = user.name  # for the access log and refusals (hub.refusals)
    return user


UserDep = Annotated[WebUser, Depends(user_dep)]


def page_user(page: str) -> Callable[[WebUser], WebUser]:
    """A dependency: the logged-in user, if their role may see ``page`` (else 403)."""
    def check(user: UserDep) -> WebUser:
        allow(user, page)
        return user
    return check


ConsultantUser = Annotated[WebUser, Depends(page_user("inbox"))]
LogUser = Annotated[WebUser, Depends(page_user("log"))]
PolicyUser = Annotated[WebUser, Depends(page_user("policy"))]
GovernanceUser = Annotated[WebUser, Depends(page_user("governance"))]


# -- rendering ------------------------------------------------------------------------------
def local_time(value: dt.datetime | str | None, with_time: bool = True) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(LOCAL_TZ)
    return local.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def age_da(item: dict[str, Any]) -> str:
    """A concern's age as its queue was shown it: "14 år", "12–14 år" (the policy's band),
    "Alder ikke vist" (banded, but no band holds the age), or "Områdeniveau" (about an area)."""
    texts = TEXTS["inbox"]
    if isinstance(item.get("age"), int):
        return f"{item['age']} {texts['years']}"
    band = item.get("age_band")
    if isinstance(band, str) and "-" in band:
        low, high = band.split("-", 1)
        return str(texts["age_band"]).format(low=low, high=high)
    if item.get("pseudonym"):
        return str(texts["age_withheld"])
    return str(texts["area_level"])


def year_group_da(year: int | None) -> str:
    """A year group in Danish: "8. årgang"; 0 is børnehaveklassen."""
    if year is None:
        return ""
    texts = TEXTS["concern"]
    return str(texts["year_group_0"]) if year == 0 else str(texts["year_group_n"]).format(n=year)


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{TEXTS['months'][int(month) - 1]} {year}"


def templates() -> Jinja2Templates:
    """The pages' templates, with the Danish texts and filters."""
    found = Jinja2Templates(directory=str(HERE / "templates"))
    env = found.env
    env.globals["t"] = TEXTS
    env.globals["page_roles"] = PAGE_ROLES
    env.filters["local_time"] = local_time
    env.filters["local_date"] = lambda v: local_time(v, with_time=False)
    env.filters.update(FILTERS)  # label, labels, with_code, titled, hint
    env.filters["age_da"] = age_da
    env.filters["year_group_da"] = year_group_da
    return found


def render(request: Request, name: str, user: WebUser | None, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    state = web_state(request)
    response = state.templates.TemplateResponse(
        request, name, {"user": user, "queue_titles": state.ctx.policy.doc.queues, **context},
        status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def allow(user: WebUser, page: str) -> None:
    if user.role not in PAGE_ROLES[page]:
        raise HTTPException(403, TEXTS["errors"]["forbidden"])


async def form_of(request: Request, user: WebUser) -> dict[str, str]:
    form = await request.form()
    if not csrf_ok(user.csrf, form.get("csrf")):
        raise CsrfFailed()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def see_other(url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    response.headers.update(SECURITY_HEADERS)
    return response
