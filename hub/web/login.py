"""Logging in and out: ``/`` and ``/ui/`` (to the role's home page), the login form with its
CSRF cookie and throttle, ``/ui/logout``; OIDC login is mounted beside it when configured."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.logs import get_logger
from hub.web.pages import (
    HOME,
    UserDep,
    WebDep,
    WebState,
    form_of,
    render,
    see_other,
    store_of,
    user_dep,
)
from hub.web.sessions import (
    LOGIN_COOKIE,
    WEB_ROLES,
    CsrfFailed,
    LoginRequired,
    check_password,
    csrf_ok,
    end_session,
    login_token,
    safe_next,
    set_login_cookie,
    start_session,
)
from hub.web.texts import TEXTS

log = get_logger("hub.web")
router = APIRouter(include_in_schema=False)


def login_redirect(request: Request, expired: bool) -> Response:
    """To the login page; a page that was asked for (GET) is kept as ``next`` to come back to
    after login."""
    query = {"udloebet": "1"} if expired else {}
    if request.method == "GET":
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if safe_next(asked):
            query["next"] = asked
    return see_other("/ui/login" + (f"?{urlencode(query)}" if query else ""))


@router.get("/")
async def root() -> RedirectResponse:
    return see_other("/ui/")


@router.get("/ui/")
async def home(request: Request) -> Response:
    try:
        user = await user_dep(request)
    except LoginRequired:
        return see_other("/ui/login")
    return see_other(HOME.get(user.role, "/ui/login"))


def login_form(request: Request, web: WebState, status_code: int = 200, **context: Any) -> Response:
    token = login_token(request)
    response = render(request, "login.html", None, status_code=status_code, csrf=token,
                      oidc=web.oidc is not None, **context)
    set_login_cookie(request, response, web.ctx.settings, token)
    return response


@router.get("/ui/login")
async def login_page(request: Request, web: WebDep) -> Response:
    notice = (TEXTS["login"]["expired"] if request.query_params.get("udloebet")
              else TEXTS["login"]["logged_out"] if request.query_params.get("ude") else None)
    return login_form(request, web, notice=notice,
                      next=safe_next(request.query_params.get("next")))


@router.post("/ui/login")
async def login(request: Request, web: WebDep,
                username: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=1000)] = "",
                csrf: Annotated[str, Form(max_length=200)] = "",
                back_to: Annotated[str, Form(max_length=2000, alias="next")] = "") -> Response:
    if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), csrf):
        raise CsrfFailed()
    throttle = web.throttle
    back = safe_next(back_to)
    if throttle.blocked(username):
        log.warning("web_login_throttled")
        return login_form(request, web, status_code=429, error=TEXTS["login"]["throttled"],
                          username=username, next=back)
    store = store_of(request)
    principal = await asyncio.to_thread(check_password, store, username, password)
    if principal is None:
        throttle.failed(username)
    else:
        throttle.succeeded(username)
    if principal is None or principal.role not in WEB_ROLES:
        failed = TEXTS["login"]["failed"] if principal is None else \
            TEXTS["login"]["no_ui_role"]
        return login_form(request, web, status_code=401, error=failed, username=username,
                          next=back)
    response = see_other(back or HOME.get(principal.role, "/ui/"))
    await asyncio.to_thread(start_session, request, response, store, web.ctx.settings,
                            principal)
    return response


@router.post("/ui/logout")
async def logout(request: Request, user: UserDep) -> Response:
    await form_of(request, user)
    response = see_other("/ui/login?ude=1")
    await asyncio.to_thread(end_session, request, response, store_of(request))
    return response
