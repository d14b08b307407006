"""The Danish web UI, served by the API process: server-rendered Jinja2 pages, plain HTML
forms, SVG charts drawn on the server; no JavaScript, no build step, no CDN.

One router per page group:

* :mod:`hub.web.login` — login (password, or OIDC), logout, the role's home page.
* :mod:`hub.web.consultant` — SSP-konsulent: inbox (``/ui/indbakke``), a concern with its
  case status (``/ui/bekymringer/{queue}/{event_id}``), the joint view of one young person
  with re-identification (``/ui/personer/{pseudonym}``).
* :mod:`hub.web.security` — Sikkerhedsansvarlig: the disclosure log (``/ui/log``), its
  integrity (``/ui/log/integritet``), rejected disclosures (``/ui/log/afvisninger``), refused
  requests, subject access (``/ui/indsigt``), policy versions (``/ui/politik``).
* :mod:`hub.web.steering` — Styregruppe / lokalråd: governance counts with small-count
  suppression (``/ui/styring``, ``/ui/styring.csv``).

What they share (templates, the logged-in user, role checks, CSRF) is :mod:`hub.web.pages`;
the Danish error pages are :mod:`hub.web.errors`. Every page that shows a concern writes
consultation entries to the disclosure log *before* it is answered, exactly as the JSON API
does. Texts are in ``da.yaml``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from hub.web import admin, consultant, four_eyes, login, security, steering, whatif
from hub.web.errors import install_error_pages
from hub.web.pages import HERE, HOME, WebContext, WebState, render, store_of, templates
from hub.web.sessions import LoginThrottle

__all__ = ["ROUTERS", "WebContext", "mount_web"]

ROUTERS = (consultant.router, four_eyes.router, security.router, steering.router,
           admin.router, whatif.router)


def mount_web(app: FastAPI, ctx: WebContext) -> None:
    """The pages, their error handling and static files on ``app``; the state they share on
    ``app.state.web``."""
    settings = ctx.settings
    oidc = None
    if settings.oidc_issuer:
        from hub.web.oidc import OidcLogin
        oidc = OidcLogin(settings)
        oidc.install(app, ctx.ring.connector_id_secret())
    app.state.web = WebState(ctx=ctx, templates=templates(), throttle=LoginThrottle(),
                             oidc=oidc)
    app.state.web_settings = settings
    install_error_pages(app)
    app.include_router(login.router)
    if oidc is not None:
        oidc_router = APIRouter(include_in_schema=False)
        oidc.mount(oidc_router, store_of, render, HOME)
        app.include_router(oidc_router)
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")
