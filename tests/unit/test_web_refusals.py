"""The security officer's page of refused requests (issue 13 item 5), in Danish: the last
hour per sender (a scan stands out) and the latest refusals, filterable; nobody else sees
it, and it shows no token and no id from a refused path."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from core.ledger.auditlog import AuditLog
from core.ledger.disclosures import StoreSink
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.auth import new_token
from hub.web.sessions import hash_password
from tests.unit.conftest import without_hub_environment

pytestmark = pytest.mark.timeout(60)
PASSWORD = "korrekt hest batteri hæfteklamme"
PAGE = "/ui/log/afviste-forespoergsler"


@dataclass
class Web:
    app: object
    store: Store
    tokens: dict[str, str]

    def login(self, name: str) -> TestClient:
        client = TestClient(self.app, base_url="http://testserver")  # type: ignore[arg-type]
        client.__enter__()
        page = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        resp = client.post("/ui/login", data={"username": name, "password": PASSWORD,
                                               "csrf": csrf.group(1)}, follow_redirects=False)
        assert resp.status_code == 303
        return client


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("web"),
                            bootstrap_servers="127.0.0.1:1")
        store = Store.open(settings.resolved_database_url)
        tokens = {}
        for name, role in (("sikkerhed", "security_officer"), ("skole", "agency:school"),
                           ("konsulent", "consultant")):
            tokens[name] = new_token()
            store.add_principal(name, role, (), tokens[name], hash_password(PASSWORD))
        # production is the default mode: the key file must exist before the API starts
        FileKeyProvider(settings.resolved_key_file, create=True).load()
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        try:
            with TestClient(app):
                yield Web(app, store, tokens)
        finally:
            store.close()


def test_the_page_shows_a_scan_in_danish_without_ids_or_tokens(web: Web) -> None:
    api = TestClient(web.app)  # type: ignore[arg-type]
    secret_id = str(uuid.uuid4())
    for _ in range(12):
        api.get(f"/api/v1/events/{secret_id}",
                headers={"Authorization": f"Bearer {web.tokens['skole']}"})
    wrong = "ssp_" + "W" * 40
    api.get("/api/v1/queues", headers={"Authorization": f"Bearer {wrong}"})

    page = web.login("sikkerhed").get(PAGE)

    assert page.status_code == 200
    assert "Afviste forespørgsler" in page.text
    assert "Findes ikke (12)" in page.text  # the summary: skole, 12 × not_found
    assert "<code>/api/v1/events/{event_id}</code>" in page.text
    assert "Ukendt eller tilbagekaldt adgangsnøgle" in page.text
    assert "anonym" in page.text
    assert secret_id not in page.text
    assert wrong not in page.text
    assert web.tokens["skole"] not in page.text


def test_the_page_filters_by_sender_and_reason(web: Web) -> None:
    client = web.login("sikkerhed")

    only = client.get(PAGE, params={"principal": "skole", "reason": "not_found"}).text
    none = client.get(PAGE, params={"principal": "nobody"}).text

    rows = only.split("<caption>Seneste afvisninger</caption>")[1]
    assert "anonym" not in rows.split("</table>")[0]
    assert "Ingen afviste forespørgsler." in none
    assert client.get(PAGE, params={"cursor": "???"}).status_code == 422


@pytest.mark.parametrize("name", ["konsulent"])
def test_only_the_security_officer_sees_the_page(web: Web, name: str) -> None:
    assert web.login(name).get(PAGE).status_code == 403


def test_the_reidentification_limit_is_explained_in_danish(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("web-limit"),
                            bootstrap_servers="127.0.0.1:1", reidentify_per_hour=1)
        store = Store.open(settings.resolved_database_url)
        store.add_principal("konsulent", "consultant", ("omraade-stege",), new_token(),
                            hash_password(PASSWORD))
        # production is the default mode: the key file must exist before the API starts
        FileKeyProvider(settings.resolved_key_file, create=True).load()
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        try:
            with TestClient(app):
                client = Web(app, store, {}).login("konsulent")
                pseudonym = "ssp1:" + "a" * 32
                page = client.get(f"/ui/personer/{pseudonym}")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                assert csrf
                form = {"csrf": csrf.group(1), "reason": "Samtale med familien om indsats"}
                first = client.post(f"/ui/personer/{pseudonym}/identitet", data=form)
                second = client.post(f"/ui/personer/{pseudonym}/identitet", data=form)
        finally:
            store.close()

    assert first.status_code == 403  # no visible concern: refused, and counted
    assert second.status_code == 429
    assert "for mange genidentifikationer" in second.text
