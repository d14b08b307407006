"""The web UI's error answers: an expired or missing session → the login page; a failed
CSRF check, invalid input or a refusal under ``/ui/`` → a Danish error page (with the menu
kept); anything else → the API's JSON error model, unchanged."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.web.login import login_redirect
from hub.web.pages import render, user_dep
from hub.web.sessions import CsrfFailed, LoginRequired, WebUser
from hub.web.texts import TEXTS, label


def install_error_pages(app: FastAPI) -> None:
    """Register the handlers; the API's own handlers (registered before) answer outside
    ``/ui/``."""
    default_validation_handler = app.exception_handlers.get(RequestValidationError)
    default_http_handler = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc.expired)

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        return render(request, "error.html", None, status_code=403,
                      message=TEXTS["errors"]["csrf"])

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/ui/"):
            # The field names only: pydantic's ``input`` may hold what the person typed.
            fields = sorted({label(".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                                   "param") for err in exc.errors()})
            return render(request, "error.html", None, status_code=422,
                          message=TEXTS["errors"]["invalid"].format(fields=", ".join(fields)))
        if default_validation_handler is None:
            raise exc
        result = default_validation_handler(request, exc)
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/ui/") and request.method in ("GET", "POST"):
            message = {403: TEXTS["errors"]["forbidden"], 404: TEXTS["errors"]["not_found"],
                       503: TEXTS["errors"]["unavailable"]}.get(exc.status_code, str(exc.detail))
            try:  # keep the menu (and the logout button) on an error page
                user: WebUser | None = await user_dep(request)
            except LoginRequired:
                user = None
            return render(request, "error.html", user, status_code=exc.status_code,
                          message=message)
        if default_http_handler is not None:
            result = default_http_handler(request, exc)
            return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]
        raise exc
