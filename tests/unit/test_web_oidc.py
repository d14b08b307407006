"""OIDC login (authlib) against a small identity provider served on loopback by this test:
discovery, authorisation-code flow with PKCE, an RS256-signed ID token checked against the
provider's JWKS, issuer, audience and nonce. The IdP authenticates; the hub's own principal
(role, queues) authorises.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey

from core.ledger.auditlog import AuditLog
from core.ledger.disclosures import StoreSink
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.auth import new_token
from hub.embedded import free_port, wait_for_port
from hub.web.sessions import SESSION_COOKIE
from tests.unit.conftest import without_hub_environment

pytestmark = pytest.mark.timeout(60)
CLIENT_ID = "ssp-hub"
CLIENT_SECRET = secrets.token_urlsafe(16)


def identity_provider(issuer: str, users: dict[str, str]) -> FastAPI:
    """Logs in whoever ``login_hint`` names (the test's stand-in for a login form)."""
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    codes: dict[str, dict[str, Any]] = {}
    idp = FastAPI()

    @idp.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, Any]:
        return {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]}

    @idp.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [key.as_dict(private=False)]}

    @idp.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        q = request.query_params
        assert q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        codes[code] = {"nonce": q.get("nonce"), "challenge": q["code_challenge"],
                       "user": q["login_hint"], "redirect_uri": q["redirect_uri"]}
        query = urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(f"{q['redirect_uri']}?{query}")

    @idp.post("/token")
    def token(request: Request, code: str = Form(), code_verifier: str = Form(),
              redirect_uri: str = Form()) -> dict[str, Any]:
        auth = request.headers.get("authorization", "")
        given = base64.b64decode(auth.removeprefix("Basic ")).decode()
        if given != f"{CLIENT_ID}:{CLIENT_SECRET}":
            raise HTTPException(401, "bad client")
        grant = codes.pop(code)
        digest = hashlib.sha256(code_verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["challenge"]:
            raise HTTPException(400, "PKCE")
        assert redirect_uri == grant["redirect_uri"]
        now = int(time.time())
        claims = {"iss": issuer, "sub": grant["user"], "aud": CLIENT_ID, "iat": now,
                  "exp": now + 300, "nonce": grant["nonce"],
                  "preferred_username": users.get(grant["user"], grant["user"])}
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                "expires_in": 300, "id_token": id_token}

    return idp


@pytest.fixture(scope="module")
def oidc_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Store]]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(
        identity_provider(issuer, {"anne": "konsulent-anne", "bo": "ukendt-bo"}),
        host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port, 10)
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("oidc"),
                            bootstrap_servers="127.0.0.1:1", oidc_issuer=issuer,
                            oidc_client_id=CLIENT_ID,
                            oidc_client_secret=CLIENT_SECRET)
        FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        # No password: this principal can only log in through the IdP.
        store.add_principal("konsulent-anne", "consultant", ["omraade-stege"], new_token())
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        try:
            with TestClient(app, base_url="http://testserver") as client:
                yield client, store
        finally:
            store.close()
            server.should_exit = True
            thread.join(10)


def _through_idp(client: TestClient, user: str) -> httpx.Response:
    """Start at the hub, let the IdP log ``user`` in, come back to the hub's callback."""
    client.cookies.clear()
    start = client.get("/ui/login/oidc", follow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["location"]
    assert parse_qs(urlparse(authorize).query)["scope"] == ["openid profile"]
    back = httpx.get(f"{authorize}&{urlencode({'login_hint': user})}", follow_redirects=False)
    assert back.status_code == 307
    callback = urlparse(back.headers["location"])
    assert callback.path == "/ui/login/oidc/callback"
    done: httpx.Response = client.get(f"{callback.path}?{callback.query}",
                                      follow_redirects=False)
    return done


def test_login_page_offers_oidc(oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    assert 'href="/ui/login/oidc"' in client.get("/ui/login").text


def test_a_known_principal_logs_in_through_the_identity_provider(
        oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    done = _through_idp(client, "anne")
    assert done.status_code == 200
    assert 'href="/ui/indbakke"' in done.text  # a same-site step, so the Strict cookie is sent
    cookie = next(v for k, v in done.headers.multi_items()
                  if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    page = client.get("/ui/indbakke")
    assert page.status_code == 200
    assert "konsulent-anne" in page.text


def test_an_identity_the_hub_does_not_know_gets_no_session(
        oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    done = _through_idp(client, "bo")
    assert done.status_code == 403
    assert "ikke oprettet i SSP Hub" in done.text
    assert SESSION_COOKIE not in done.headers.get("set-cookie", "")
    assert client.get("/ui/indbakke", follow_redirects=False).status_code == 303


def test_a_forged_callback_is_refused(oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    client.cookies.clear()
    client.get("/ui/login/oidc", follow_redirects=False)
    done = client.get("/ui/login/oidc/callback?code=stolen&state=guessed",
                      follow_redirects=False)
    assert done.status_code == 401
    assert SESSION_COOKIE not in done.headers.get("set-cookie", "")


def test_a_deep_link_survives_the_identity_provider(oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    client.cookies.clear()
    asked = "/ui/indbakke?status=ny"
    login = client.get(asked, follow_redirects=True)
    assert 'href="/ui/login/oidc?next=/ui/indbakke%3Fstatus%3Dny"' in login.text
    start = client.get("/ui/login/oidc", params={"next": asked}, follow_redirects=False)
    back = httpx.get(f"{start.headers['location']}&{urlencode({'login_hint': 'anne'})}",
                     follow_redirects=False)
    callback = urlparse(back.headers["location"])
    done = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert done.status_code == 200
    assert 'href="/ui/indbakke?status=ny"' in done.text


def test_an_outside_next_is_not_followed_after_the_identity_provider(
        oidc_hub: tuple[TestClient, Store]) -> None:
    client, _ = oidc_hub
    client.cookies.clear()
    start = client.get("/ui/login/oidc", params={"next": "https://evil.example/"},
                       follow_redirects=False)
    back = httpx.get(f"{start.headers['location']}&{urlencode({'login_hint': 'anne'})}",
                     follow_redirects=False)
    callback = urlparse(back.headers["location"])
    done = client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert done.status_code == 200
    assert "evil" not in done.text
    assert 'href="/ui/indbakke"' in done.text
