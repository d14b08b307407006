"""OIDC login for production (authlib), next to the local accounts of the embedded default.

The identity provider authenticates; the hub authorises. The claim ``oidc_username_claim``
(default ``preferred_username``) must name a principal created with ``ssp-hub users add``
(its role and queues live in the hub, not in the IdP). authlib keeps the authorisation
request's state and nonce in a short-lived signed cookie (Starlette's SessionMiddleware,
``SameSite=Lax`` because the IdP redirects back cross-site) and validates the ID token's
signature, issuer, audience and nonce.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware

from core.logs import get_logger
from core.settings import Settings
from core.store import Store
from hub.web.sessions import WEB_ROLES, safe_next, start_session
from hub.web.texts import TEXTS

log = get_logger("hub.web.oidc")
STATE_COOKIE = "ssp_oidc"
NEXT_KEY = "ssp_next"


class OidcLogin:
    def __init__(self, settings: Settings) -> None:
        if not (settings.oidc_issuer and settings.oidc_client_id):
            raise ValueError("oidc_issuer and oidc_client_id must both be set for OIDC login")
        self.settings = settings
        self.oauth = OAuth()
        secret = settings.oidc_client_secret.get_secret_value() \
            if settings.oidc_client_secret else None
        self.oauth.register(
            "idp", client_id=settings.oidc_client_id, client_secret=secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"})

    def install(self, app: FastAPI, state_secret: bytes) -> None:
        """The signed cookie authlib keeps its state in (10 minutes)."""
        key = hmac.new(state_secret, b"ssp-hub web oidc state", hashlib.sha256).hexdigest()
        app.add_middleware(SessionMiddleware, secret_key=key, session_cookie=STATE_COOKIE,
                           max_age=600, same_site="lax",
                           https_only=bool(self.settings.web_secure_cookies))

    def mount(self, router: APIRouter, store_of: Callable[[Request], Store],
              render: Callable[..., Response], home: dict[str, str]) -> None:
        client: Any = self.oauth.create_client("idp")
        claim = self.settings.oidc_username_claim
        settings = self.settings

        @router.get("/ui/login/oidc")
        async def oidc_start(request: Request) -> Any:
            redirect_uri = str(request.url_for("oidc_callback"))
            # The page that was asked for before login, kept in the signed state cookie.
            request.session[NEXT_KEY] = safe_next(request.query_params.get("next")) or ""
            return await client.authorize_redirect(request, redirect_uri)

        @router.get("/ui/login/oidc/callback", name="oidc_callback")
        async def oidc_callback(request: Request) -> Response:
            try:
                token = await client.authorize_access_token(request)
            except OAuthError as exc:
                log.warning("oidc_login_failed", error=exc.error)
                return render(request, "login.html", None, status_code=401,
                              error="OIDC: " + str(exc.error), oidc=True, csrf="")
            claims = token.get("userinfo") or {}
            name = str(claims.get(claim) or "")
            found = await asyncio.to_thread(store_of(request).login_record, name) \
                if name else None
            if found is None or found[0].role not in WEB_ROLES:
                log.warning("oidc_principal_unknown")
                return render(request, "login.html", None, status_code=403,
                              error=TEXTS["login"]["oidc_unknown"], oidc=True, csrf="")
            principal = found[0]
            # A SameSite=Strict cookie set on a cross-site redirect is not sent on the next
            # redirect of the same chain: answer with a page whose link (and refresh) is a
            # same-site navigation.
            target = safe_next(request.session.pop(NEXT_KEY, None)) \
                or home.get(principal.role, "/ui/")
            response = render(request, "oidc_done.html", None, target=target)
            await asyncio.to_thread(start_session, request, response, store_of(request),
                                    settings, principal)
            return response
