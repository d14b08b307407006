"""The web UI over HTTP without a browser or broker: login, sessions, CSRF, roles, the pages'
content and the disclosure-log entries they write. The browser flows are in
``tests/integration/browser/test_web_ui.py``.

The store is filled the way the worker and the projector fill it: the demo's sample events,
encrypted and run through the real pipeline; log entries go straight into the log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.watch import FileDropWatcher, default_state_dir
from core.ledger.auditlog import AuditLog
from core.ledger.disclosures import StoreSink
from core.policy.evaluator import load_policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing
from core.privacy.vault import Vault
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.auth import new_token
from hub.sample_data import sample_events
from hub.web.sessions import SESSION_COOKIE, hash_password
from schemas.wire import OUTCOMES_TOPIC, cases_topic
from streams.pipeline import Pipeline, Routed, concern_json, outcome_json
from streams.projector import rows_from_records
from tests.scrubber.shared import shared_scrubber
from tests.unit.conftest import without_hub_environment
from tests.unit.factories import record_for

pytestmark = pytest.mark.timeout(120)
PASSWORD = "korrekt hest batteri hæfteklamme"
ACCOUNTS = {
    "konsulent": ("consultant", ("omraade-praestoe", "omraade-stege", "beredskab",
                                 "underretning", "infohus", "opsoegende")),
    "konsulent-vordingborg": ("consultant", ("omraade-vordingborg",)),
    "sikkerhed": ("security_officer", ()),
    "styregruppe": ("governance", ()),
    "skole": ("agency:school", ()),
    "gaettet": ("consultant", ("infohus",)),
}


@dataclass
class Web:
    app: Any
    store: Store
    ring: KeyRing
    settings: Settings

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")

    def login(self, name: str, password: str = PASSWORD) -> TestClient:
        client = self.client()
        client.__enter__()
        page = client.get("/ui/login")
        resp = client.post("/ui/login", data={"username": name, "password": password,
                                               "csrf": csrf_of(page.text)},
                           follow_redirects=False)
        assert resp.status_code == 303, resp.text
        return client

    def log_entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        items = AuditLog(self.store).page(kind=kind, limit=1000, newest_first=False).items
        return list(items)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


def fill(store: Store, ring: KeyRing) -> None:
    """The sample events through the real pipeline into the store and the log."""
    policy = load_policy(Settings().resolved_policy_file)
    pipeline = Pipeline(PayloadCipher(ring), Pseudonymiser(ring, "ssp"), policy,
                        lambda text, names: shared_scrubber().scrub(text, known_names=names).text)
    records: list[tuple[str, bytes]] = []
    entries = []
    for _agency, event in sample_events():
        if event["kind"] != "concern":
            continue
        result = pipeline.process(record_for(PayloadCipher(ring), event))
        records.append((OUTCOMES_TOPIC, outcome_json(result.outcome)))
        if isinstance(result, Routed):
            Vault(store, ring).put(list(result.identities))
            records += [(cases_topic(c.queue), concern_json(c)) for c in result.concerns]
        entries += list(getattr(result, "entries", ()))
    outcomes, concerns = rows_from_records(records)
    store.project_concerns(concerns)
    store.project_outcomes(outcomes)
    AuditLog(store, ring).integrate(entries)
    AuditLog(store, ring).checkpoint(force=True)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("web"),
                            bootstrap_servers="127.0.0.1:1")
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        fill(store, ring)
        for name, (role, queues) in ACCOUNTS.items():
            store.add_principal(name, role, queues, new_token(), hash_password(PASSWORD))
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        try:
            with TestClient(app):
                yield Web(app, store, ring, settings)
        finally:
            store.close()


# -- login, sessions, CSRF ---------------------------------------------------------------------
def test_the_hub_hashes_web_passwords_with_argon2id_at_rfc_9106_cost() -> None:
    """The unit tests log in with argon2's cheapest profile (tests/unit/conftest.py); the
    hasher the hub itself builds keeps the RFC 9106 low-memory profile."""
    import argon2
    from argon2 import profiles

    from hub.web import sessions

    assert argon2.extract_parameters(sessions._DUMMY_HASH) == profiles.RFC_9106_LOW_MEMORY
    assert isinstance(sessions._hasher, argon2.PasswordHasher)
    assert sessions._hasher.time_cost == 1  # the tests' own, so the pin above is the hub's


def test_login_sets_a_strict_httponly_session_cookie_and_lands_on_the_role_home(web: Web) -> None:
    client = web.client()
    page = client.get("/ui/login")
    assert page.status_code == 200
    assert '<html lang="da">' in page.text
    resp = client.post("/ui/login", data={"username": "konsulent", "password": PASSWORD,
                                           "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/ui/indbakke"
    cookie = next(v for k, v in resp.headers.multi_items()
                  if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http in the test; https sets it
    assert client.get("/ui/indbakke").status_code == 200


def test_secure_cookie_over_https(web: Web) -> None:
    client = TestClient(web.app, base_url="https://testserver")
    page = client.get("/ui/login")
    resp = client.post("/ui/login", data={"username": "sikkerhed", "password": PASSWORD,
                                           "csrf": csrf_of(page.text)}, follow_redirects=False)
    cookie = next(v for k, v in resp.headers.multi_items()
                  if k == "set-cookie" and v.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


@pytest.mark.parametrize(("name", "password"), [("konsulent", "forkert"),
                                                ("ingen-saadan", PASSWORD)])
def test_wrong_password_or_unknown_user_gets_the_same_answer(web: Web, name: str,
                                                             password: str) -> None:
    client = web.client()
    page = client.get("/ui/login")
    resp = client.post("/ui/login", data={"username": name, "password": password,
                                           "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 401
    assert "Forkert brugernavn eller adgangskode." in resp.text
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


def test_agency_principals_have_no_web_login(web: Web) -> None:
    client = web.client()
    page = client.get("/ui/login")
    resp = client.post("/ui/login", data={"username": "skole", "password": PASSWORD,
                                           "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 401
    assert "ingen adgang til webgrænsefladen" in resp.text


def test_login_without_the_form_token_is_refused(web: Web) -> None:
    client = web.client()
    client.get("/ui/login")
    resp = client.post("/ui/login", data={"username": "konsulent", "password": PASSWORD,
                                           "csrf": "gættet"}, follow_redirects=False)
    assert resp.status_code == 403
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


def test_pages_need_a_session(web: Web) -> None:
    client = web.client()
    for path in ("/ui/indbakke", "/ui/log", "/ui/styring", "/ui/styring.csv"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/ui/login")


def test_a_form_without_the_session_csrf_token_changes_nothing(web: Web) -> None:
    client = web.login("konsulent")
    inbox = client.get("/ui/indbakke").text
    path = re.search(r'href="(/ui/bekymringer/[^"]+)"', inbox)
    assert path
    resp = client.post(path.group(1) + "/status", data={"status": "afsluttet", "note": "x"})
    assert resp.status_code == 403
    assert "Formularen var udløbet" in resp.text
    _, queue, event_id = path.group(1).rsplit("/", 2)
    assert web.store.statuses([(event_id, queue)]) == {}


def test_logout_ends_the_session_server_side(web: Web) -> None:
    client = web.login("konsulent")
    page = client.get("/ui/indbakke")
    token = client.cookies.get(SESSION_COOKIE)
    resp = client.post("/ui/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert resp.status_code == 303
    # The old cookie is worthless now, even if a copy of it was kept.
    other = web.client()
    other.cookies.set(SESSION_COOKIE, token or "")
    assert other.get("/ui/indbakke", follow_redirects=False).status_code == 303


def test_an_idle_session_expires(web: Web) -> None:
    client = web.login("konsulent")
    token = client.cookies.get(SESSION_COOKIE) or ""
    now = dt.datetime.now(dt.UTC)
    assert web.store.session(token, now, dt.timedelta(minutes=30)) is not None
    # Seen 31 minutes ago, 30 allowed:
    assert web.store.session(token, now + dt.timedelta(minutes=61),
                             dt.timedelta(minutes=30)) is None
    resp = client.get("/ui/indbakke", follow_redirects=False)
    assert resp.status_code == 303
    assert "udloebet" in resp.headers["location"]


# -- SSP-konsulent -----------------------------------------------------------------------------
def test_inbox_lists_only_the_consultants_queues_and_logs_each_consultation(web: Web) -> None:
    before = len(web.log_entries("consultation"))
    client = web.login("konsulent-vordingborg")
    page = client.get("/ui/indbakke")
    assert page.status_code == 200
    links = re.findall(r'href="/ui/bekymringer/([^/"]+)/([^"]+)"', page.text)
    assert links
    assert {q for q, _ in links} == {"omraade-vordingborg"}
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'none'" in page.headers["content-security-policy"]
    [new] = web.log_entries("consultation")[before:]  # one entry for the one page shown
    assert new["recipient"] == "konsulent-vordingborg"
    assert new["concerns"] == [f"{eid}:{q}" for q, eid in links]
    assert new["details"]["view"] == "ui-inbox"
    assert new["details"]["shown"] == len(links)
    # Another queue's concern is not found for this consultant.
    other = web.store.inbox_page(queues=["omraade-praestoe"], status=None, limit=1,
                                 cursor=None).items[0]
    assert client.get(f"/ui/bekymringer/omraade-praestoe/{other['event_id']}").status_code == 404


def test_status_change_with_note_is_kept_with_its_history(web: Web) -> None:
    client = web.login("konsulent")
    item = web.store.inbox_page(queues=["omraade-praestoe"], status=None, limit=1,
                                cursor=None).items[0]
    path = f"/ui/bekymringer/omraade-praestoe/{item['event_id']}"
    page = client.get(path)
    assert "Ny" in page.text
    resp = client.post(path + "/status", data={"csrf": csrf_of(page.text),
                                                "status": "under_behandling",
                                                "note": "Aftalt møde med skolen."},
                       follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(path)
    assert "Status er gemt." not in page.text  # only after the redirect that says so
    assert "Aftalt møde med skolen." in page.text
    assert web.store.statuses([(item["event_id"], "omraade-praestoe")])[
        (item["event_id"], "omraade-praestoe")]["status"] == "under_behandling"
    filtered = client.get("/ui/indbakke", params={"status": "under_behandling"}).text
    assert item["event_id"] in filtered
    # A CPR number in the note is refused, and what was found is named.
    resp = client.post(path + "/status", data={"csrf": csrf_of(page.text), "status": "afsluttet",
                                                "note": "ring 010203-1234"})
    assert resp.status_code == 422
    assert "Noten indeholder et CPR-nummer." in resp.text
    assert len(web.store.status_history(item["event_id"], "omraade-praestoe")) == 1


def _note_form(web: Web) -> tuple[TestClient, str, str]:
    client = web.login("konsulent")
    item = web.store.inbox_page(queues=["omraade-stege"], status=None, limit=1,
                                cursor=None).items[0]
    path = f"/ui/bekymringer/omraade-stege/{item['event_id']}"
    return client, path, csrf_of(client.get(path).text)


def test_note_with_a_name_and_a_phone_number_is_refused_naming_both_and_kept_in_the_form(
        web: Web) -> None:
    client, path, csrf = _note_form(web)
    event_id = path.rsplit("/", 1)[1]
    before = web.store.status_history(event_id, "omraade-stege")
    typed = "Talt med Mikkel Hansen, ring til moren på 22 33 44 55 i morgen."
    consulted = len(web.log_entries("consultation"))

    resp = client.post(path + "/status", data={"csrf": csrf, "status": "under_behandling",
                                                "note": typed}, follow_redirects=False)

    assert resp.status_code == 422  # the page again, not a redirect that loses the text
    assert ("Noten indeholder et navn og et telefonnummer. "
            "Skriv noten uden personoplysninger") in resp.text
    assert f">{typed}</textarea>" in resp.text  # what the person typed, to correct it
    assert 'value="under_behandling" checked' in resp.text  # and the status they chose
    assert web.store.status_history(event_id, "omraade-stege") == before  # nothing stored
    # The page shows the concern again, so the showing is logged like any other.
    assert len(web.log_entries("consultation")) == consulted + 1


def test_note_refusal_escapes_what_was_typed(web: Web) -> None:
    client, path, csrf = _note_form(web)
    resp = client.post(path + "/status", data={
        "csrf": csrf, "status": "ny", "note": "</textarea><b>ring 22 33 44 55</b>"})
    assert resp.status_code == 422
    assert "</textarea><b>" not in resp.text
    assert "&lt;/textarea&gt;&lt;b&gt;ring 22 33 44 55" in resp.text


def test_note_without_personal_data_is_saved(web: Web) -> None:
    client, path, csrf = _note_form(web)
    event_id = path.rsplit("/", 1)[1]
    resp = client.post(path + "/status", data={
        "csrf": csrf, "status": "under_behandling",
        "note": "Møde med skolen og forældrene aftalt i næste uge."}, follow_redirects=False)
    assert resp.status_code == 303
    notes = [h["note"] for h in web.store.status_history(event_id, "omraade-stege")]
    assert "Møde med skolen og forældrene aftalt i næste uge." in notes


def test_too_long_note_is_refused_with_the_text_kept(web: Web) -> None:
    client, path, csrf = _note_form(web)
    typed = "Møde aftalt. " * 60
    resp = client.post(path + "/status", data={"csrf": csrf, "status": "ny", "note": typed})
    assert resp.status_code == 422
    assert "Noten er for lang: højst 500 tegn." in resp.text
    assert typed.strip() in resp.text


def test_joint_view_and_reidentification_with_and_without_reason(web: Web) -> None:
    client = web.login("konsulent")
    rows = web.store.inbox_page(queues=["omraade-praestoe"], status=None, limit=100,
                                cursor=None).items
    pseudonym = next(r["pseudonym"] for r in rows if r.get("pseudonym"))
    page = client.get(f"/ui/personer/{pseudonym}")
    assert page.status_code == 200
    assert page.text.count('<li>\n    <h2 class="h3">') >= 1
    before = len(web.log_entries())
    refused = client.post(f"/ui/personer/{pseudonym}/identitet",
                          data={"csrf": csrf_of(page.text), "reason": ""})
    assert refused.status_code == 422
    assert "Begrundelse mangler" in refused.text
    assert 'id="identitet-cpr"' not in refused.text
    granted = client.post(f"/ui/personer/{pseudonym}/identitet",
                          data={"csrf": csrf_of(page.text),
                                "reason": "Fælles indsats med skolen kræver forældrekontakt."})
    assert granted.status_code == 200
    cpr = re.search(r'id="identitet-cpr">(\d{6}-?\d{4})<', granted.text)
    assert cpr
    assert granted.headers["cache-control"] == "no-store"
    kinds = [e["kind"] for e in web.log_entries()[before:]]
    assert kinds.count("reidentification_refused") == 1
    assert kinds.count("reidentification") == 1


# -- Sikkerhedsansvarlig -------------------------------------------------------------------------
def test_log_page_filters_and_refuses_bad_filters_by_name(web: Web) -> None:
    client = web.login("sikkerhed")
    page = client.get("/ui/log", params={"kind": "rejection"})
    assert page.status_code == 200
    kinds = set(re.findall(r'<tr class="kind-([a-z_]+)">', page.text))
    assert kinds == {"rejection"}
    bad = client.get("/ui/log", params={"decision": "måske"})
    assert bad.status_code == 422
    assert "Ugyldigt filter: Afgørelse" in bad.text
    assert client.get("/ui/log", params={"pseudonym": "0102031234"}).status_code == 422
    # A queue by its Danish name, in any case, as the officer reads it on the page.
    by_id = client.get("/ui/log", params={"recipient": "infohus"}).text
    rows = re.findall(r'<tr class="kind-', by_id)
    assert rows
    title = load_policy(web.settings.resolved_policy_file).doc.queues["infohus"]
    for typed in ("Infohus", "INFOHUS", title):
        page = client.get("/ui/log", params={"recipient": typed}).text
        assert len(re.findall(r'<tr class="kind-', page)) == len(rows), typed
    assert '<datalist id="queues">' in by_id
    # A consultant is not a log reader.
    assert web.login("konsulent").get("/ui/log").status_code == 403


def test_integrity_page_shows_the_signing_keys_fingerprint(web: Web) -> None:
    from core.ledger.auditlog import current_key_id, key_fingerprint, public_keys

    page = web.login("sikkerhed").get("/ui/log/integritet")

    assert page.status_code == 200
    fingerprint = key_fingerprint(public_keys(web.ring)[current_key_id(web.ring)])
    assert f'<code class="hash" id="fingerprint">{fingerprint}</code>' in page.text
    assert "Fingeraftryk (SHA-256)" in page.text


def test_rejections_by_reason_and_agency_and_policy_versions(web: Web) -> None:
    client = web.login("sikkerhed")
    page = client.get("/ui/log/afvisninger").text
    rejections = web.store.log_rejections()
    assert rejections
    for _agency, reason in rejections:
        assert f'<small class="kode">{reason}</small>' in page  # a hint to the Danish label
    policy_page = client.get("/ui/politik").text
    version = load_policy(web.settings.resolved_policy_file).version
    assert version in policy_page
    assert "Videregivet" in policy_page
    assert "Afvist" in policy_page


def test_the_rejections_page_shows_each_drop_folder_in_danish(
        web: Web, tmp_path: Path) -> None:
    """Issue 13 §3: a file the watcher rejected shows on the security officer's page, by
    connector and a Danish reason, without the file's name."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "0102104321.jsonl").symlink_to("/etc/passwd")
    watcher = FileDropWatcher(
        drop, "police-doegnrapport", "http://hub.invalid", "token", settle_s=0,
        state_dir=default_state_dir(web.settings.resolved_watch_state_dir,
                                    "police-doegnrapport", drop),
        transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    assert watcher.run_once().rejected == 1

    page = web.login("sikkerhed").get("/ui/log/afvisninger").text

    assert "Filaflevering" in page
    assert "<code>police-doegnrapport</code>" in page
    assert "ikke en almindelig fil (symbolsk link, FIFO eller enhed)" in page
    assert "0102104321" not in page


def test_subject_access_download_is_a_logged_document(web: Web) -> None:
    client = web.login("sikkerhed")
    page = client.get("/ui/indsigt")
    _agency, event = next(e for e in sample_events() if e[1]["kind"] == "concern")
    cpr = str(event["subject"]["cpr"])  # type: ignore[index]
    before = len(web.log_entries("subject_access"))
    bad = client.post("/ui/indsigt", data={"csrf": csrf_of(page.text), "cpr": "123"})
    assert bad.status_code == 422
    assert "cpr: ikke et gyldigt CPR-nummer" in bad.text
    resp = client.post("/ui/indsigt", data={"csrf": csrf_of(page.text), "cpr": cpr,
                                            "action": "hent"})
    assert resp.status_code == 200
    assert resp.headers["content-disposition"].startswith('attachment; filename="indsigt-')
    assert "<html" in resp.text
    assert 'lang="da"' in resp.text
    assert len(web.log_entries("subject_access")) == before + 1


def test_subject_access_page_limits_related_persons_and_the_officer_can_withhold(
        web: Web) -> None:
    # Issue 13 §1: a related person (a parent) sees only that they were mentioned; the officer
    # withholds an entry with a reason, in Danish, and the decision is logged.
    client = web.login("sikkerhed")
    _agency, event = next(e for e in sample_events()
                          if e[1]["kind"] == "concern" and e[1].get("related_persons"))
    parent = str(event["related_persons"][0]["cpr"])  # type: ignore[index]
    page = client.get("/ui/indsigt")
    shown = client.post("/ui/indsigt", data={"csrf": csrf_of(page.text), "cpr": parent,
                                             "action": "vis"})
    assert shown.status_code == 200
    assert "Nævnt som anden involveret (Begrænset visning)" in shown.text
    assert str(event["necessity"])[:30] not in shown.text
    seq = re.findall(r'name="seq" value="(\d+)"', shown.text)[0]
    short = client.post("/ui/indsigt/afgoerelse", data={
        "csrf": csrf_of(shown.text), "cpr": parent, "seq": seq, "decision": "withhold",
        "reason": "for kort"})
    assert short.status_code == 422
    assert "Begrundelsen skal være mindst en sætning" in short.text
    before = len(web.log_entries("access_withheld"))
    saved = client.post("/ui/indsigt/afgoerelse", data={
        "csrf": csrf_of(shown.text), "cpr": parent, "seq": seq, "decision": "withhold",
        "reason": "Forælderen kan være en trussel mod barnet i denne sag."})
    assert saved.status_code == 200
    assert f"Registrering nr. {seq} er tilbageholdt" in saved.text
    assert len(web.log_entries("access_withheld")) == before + 1
    again = client.post("/ui/indsigt", data={"csrf": csrf_of(saved.text), "cpr": parent,
                                             "action": "vis"})
    assert "Tilbageholdt fra borgerens kopi" in again.text
    assert again.text.count(f'name="seq" value="{seq}"') == 1  # only the undo form
    restored = client.post("/ui/indsigt/afgoerelse", data={
        "csrf": csrf_of(again.text), "cpr": parent, "seq": seq, "decision": "default",
        "reason": "Tilbageholdelsen var en fejl; udgangspunktet gælder igen."})
    assert f"Registrering nr. {seq} vises igen som udgangspunkt" in restored.text
    assert web.store.access_decisions() == {}


# -- Styregruppe / lokalråd ----------------------------------------------------------------------
def test_governance_page_and_csv_suppress_small_counts(web: Web) -> None:
    client = web.login("styregruppe")
    page = client.get("/ui/styring")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 2
    resp = client.get("/ui/styring.csv")
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert resp.text.startswith("\ufeff")  # UTF-8 with a BOM, for Danish Excel
    rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff")), delimiter=";"))
    numbers = [cell for row in rows for cell in row[1:] if cell]
    assert "<5" in numbers
    for cell in numbers:
        assert cell == "<5" or (cell.isdigit() and int(cell) >= 5) or not cell[0].isdigit() \
            or re.fullmatch(r"\d{1,3},\d", cell)  # a share in per cent, decimal comma
    # A governance member sees nothing else.
    assert client.get("/ui/indbakke").status_code == 403
    assert client.get("/ui/log").status_code == 403


def test_a_case_status_and_its_note_go_with_their_concern(store: Store) -> None:
    from core.store import Retirement

    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    rows = [{"event_id": eid, "queue": "infohus", "pseudonym": "ssp1:abc", "payload": "{}",
             "occurred_at": at} for eid in ("e-1", "e-2")]
    store.project_concerns(rows)
    store.set_status("e-1", "infohus", "afsluttet", "Aftalt forløb.", "konsulent", at)
    store.set_status("e-2", "infohus", "under_behandling", None, "konsulent", at)
    seqs = {r.event_id: r.seq for r in store.concern_rows()}
    store.retire([Retirement(frozenset({"ssp1:abc"}), {"infohus": [seqs["e-1"]]}, erase=False)],
                 newer_than_seq=max(seqs.values()), at=at)
    assert store.statuses([("e-1", "infohus"), ("e-2", "infohus")]).keys() == {
        ("e-2", "infohus")}
    assert store.status_history("e-1", "infohus") == []
    assert len(store.status_history("e-2", "infohus")) == 1


def test_repeated_wrong_passwords_lock_the_name_for_a_while(web: Web) -> None:
    client = web.client()
    page = client.get("/ui/login")
    for _ in range(5):
        wrong = client.post("/ui/login", data={"username": "gaettet", "password": "forkert",
                                                "csrf": csrf_of(page.text)})
        assert wrong.status_code == 401
    # Now even the right password is not checked: the name waits out the window.
    locked = client.post("/ui/login", data={"username": "GAETTET", "password": PASSWORD,
                                             "csrf": csrf_of(page.text)}, follow_redirects=False)
    assert locked.status_code == 429
    assert "For mange mislykkede forsøg" in locked.text
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    # Other names are not affected.
    assert web.login("sikkerhed").get("/ui/log").status_code == 200


def test_login_throttle_window_and_reset() -> None:
    from hub.web.sessions import LoginThrottle

    throttle = LoginThrottle(max_failures=3, window_s=60)
    for t in (0.0, 10.0, 20.0):
        assert not throttle.blocked("anne", now=t)
        throttle.failed("anne", now=t)
    assert throttle.blocked("Anne", now=30.0)
    assert not throttle.blocked("anne", now=60.5)  # the first failure has left the window
    throttle.failed("anne", now=61.0)
    assert throttle.blocked("anne", now=61.0)
    throttle.succeeded("anne")
    assert not throttle.blocked("anne", now=61.0)


def test_an_invalid_form_field_gets_an_html_page_naming_it(web: Web) -> None:
    client = web.client()
    page = client.get("/ui/login")
    resp = client.post("/ui/login", data={"username": "x" * 300, "password": "010203-1234",
                                           "csrf": csrf_of(page.text)})
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("text/html")
    assert "Brugernavn" in resp.text  # the field as the form labels it, not "username"
    assert "010203-1234" not in resp.text
    assert "x" * 300 not in resp.text


def test_integrity_findings_are_named_in_danish(web: Web) -> None:
    import sqlalchemy as sa

    from core.store import disclosure_log

    client = web.login("sikkerhed")
    assert "Loggen er intakt" in client.get("/ui/log/integritet").text
    with web.store.engine.begin() as conn:
        seq, entry = conn.execute(sa.select(disclosure_log.c.seq, disclosure_log.c.entry)
                                  .order_by(disclosure_log.c.seq).limit(1)).one()
        conn.execute(disclosure_log.update().where(disclosure_log.c.seq == seq)
                     .values(entry=bytes(entry).replace(b'"at":"', b'"at":"1', 1)))
    try:
        page = client.get("/ui/log/integritet").text
        assert "Loggen er IKKE intakt" in page
        assert f"Post {seq}</strong>: ændret" in page
        assert f"entry {seq}: modified" in page  # the technical wording, for the record
    finally:
        with web.store.engine.begin() as conn:
            conn.execute(disclosure_log.update().where(disclosure_log.c.seq == seq)
                         .values(entry=bytes(entry)))
    assert "Loggen er intakt" in client.get("/ui/log/integritet").text


def test_refused_reidentification_keeps_the_typed_reason_in_the_form(web: Web) -> None:
    client = web.login("konsulent")
    rows = web.store.inbox_page(queues=["omraade-praestoe"], status=None, limit=100,
                                cursor=None).items
    pseudonym = next(r["pseudonym"] for r in rows if r.get("pseudonym"))
    page = client.get(f"/ui/personer/{pseudonym}")
    refused = client.post(f"/ui/personer/{pseudonym}/identitet",
                          data={"csrf": csrf_of(page.text), "reason": "for kort"})
    assert refused.status_code == 422
    assert ">for kort</textarea>" in refused.text


def test_area_group_pages_show_the_age_band_and_year_group_in_danish(web: Web) -> None:
    client = web.login("konsulent")
    items = web.store.inbox_page(queues=["omraade-praestoe", "omraade-stege"], status=None,
                                 limit=100, cursor=None).items
    banded = next(i for i in items if i.get("age_band") and i.get("year_group") is not None)
    low, high = banded["age_band"].split("-")
    page = client.get(f"/ui/bekymringer/{banded['queue']}/{banded['event_id']}")
    assert f"{low}–{high} år" in page.text
    assert f"{banded['year_group']}. årgang" in page.text or "Børnehaveklasse" in page.text
    inbox = client.get("/ui/indbakke", params={"koe": banded["queue"]}).text
    assert f"{low}–{high} år" in inbox
    joint = client.get(f"/ui/personer/{banded['pseudonym']}").text
    assert f"{low}–{high} år" in joint
    # A queue shown the exact age still says "14 år".
    exact = web.store.inbox_page(queues=["beredskab"], status=None, limit=100,
                                 cursor=None).items
    person = next(i for i in exact if isinstance(i.get("age"), int))
    page = client.get(f"/ui/bekymringer/beredskab/{person['event_id']}")
    assert f"{person['age']} år" in page.text


def test_subject_access_on_screen_honours_include_staff(web: Web) -> None:
    """"Medtag medarbejdernavne og begrundelser" shows the staff member and their reason on
    the screen too, not only in the document; without it neither column is there."""
    client = web.login("sikkerhed")
    _agency, event = next(e for e in sample_events() if e[1]["kind"] == "concern")
    cpr = str(event["subject"]["cpr"])  # type: ignore[index]
    page = client.get("/ui/indsigt")
    plain = client.post("/ui/indsigt", data={"csrf": csrf_of(page.text), "cpr": cpr,
                                             "action": "vis"})
    staff = client.post("/ui/indsigt", data={"csrf": csrf_of(page.text), "cpr": cpr,
                                             "action": "vis", "include_staff": "1"})
    assert plain.status_code == staff.status_code == 200
    header = '<th scope="col">Medarbejder</th><th scope="col">Begrundelse</th>'
    assert header not in plain.text
    assert header in staff.text
    rows = staff.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr>") == rows.count('<form method="post"')  # one row per entry
