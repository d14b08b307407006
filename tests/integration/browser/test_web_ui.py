"""The web UI in a real browser: Playwright drives Debian's Chromium (``/usr/bin/chromium``)
against the hub the tests started (broker, worker, API), fed through the ingest API.

Flows: login (by keyboard), inbox, a concern and its status, the joint view, re-identification
with and without a reason, the disclosure log and its filters, log integrity green and then red
after the store was tampered with, rejections, policy versions, subject access download,
governance with small-count suppression and its CSV. A screenshot of each main page is saved
under ``test-output/screenshots/``; the README shows some of them.
"""

from __future__ import annotations

import copy
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.policy.evaluator import load_policy
from core.store import disclosure_log
from hub.auth import new_token
from hub.sample_data import sample_events
from hub.web.sessions import hash_password
from tests.integration.events import IDENTIFIERS
from tests.integration.hubstack import HubStack

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("test-output") / "screenshots"
PASSWORD = "Sikker adgang til SSP 2026"
ALL_QUEUES = ("beredskab", "infohus", "opsoegende", "omraade-praestoe", "omraade-stege",
              "omraade-vordingborg", "underretning")


def assert_shown(locator: Any) -> None:
    """``locator`` shows, once the page a click started has rendered: a click returns when the
    next page starts loading, and ``is_visible()`` answers at once; Playwright's ``expect``
    waits (up to 10 s) and fails with what it saw."""
    playwright_sync.expect(locator).to_be_visible(timeout=10_000)


@pytest.fixture(scope="module")
def ui(hub: HubStack) -> dict[str, Any]:
    """Sample events through the real ingest API and worker, and web accounts."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it (scripts/chromium)")
    assert hub.store is not None
    suffix = uuid.uuid4().hex[:6]
    accounts = {"konsulent": ("consultant", ALL_QUEUES), "sikkerhed": ("security_officer", ()),
                "styregruppe": ("governance", ())}
    names = {}
    for base, (role, queues) in accounts.items():
        names[base] = f"{base}-{suffix}"
        hub.store.add_principal(names[base], role, queues, new_token(), hash_password(PASSWORD))
    tokens = {a: hub.principal(f"ui-{a}", f"agency:{a}") for a in ("school", "social", "police")}
    events = []
    for agency, event in sample_events():
        fresh: dict[str, Any] = copy.deepcopy(dict(event))
        fresh["event_id"] = str(uuid.uuid4())
        people = [fresh["subject"], *(fresh.get("related_persons") or [])]
        # The no-plaintext scan at the end of the session looks for these too.
        IDENTIFIERS.update(str(p[k]) for p in people for k in ("cpr", "name", "address")
                           if p.get(k))
        with hub.client(tokens[agency]) as c:
            resp = c.post(f"/api/v1/ingest/{agency}", json=fresh)
            assert resp.status_code == 202, resp.text
        events.append(fresh)
    hub.wait_outcomes([e["event_id"] for e in events], timeout=180)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"names": names, "events": events}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def new_page(browser: Any, hub: HubStack, width: int = 1280) -> Any:
    context = browser.new_context(base_url=hub.api_url, viewport={"width": width, "height": 900},
                                  locale="da-DK", accept_downloads=True)
    return context.new_page()


def login(page: Any, name: str) -> None:
    """By keyboard only: the fields are reachable and the form submits with Enter."""
    page.goto("/ui/login")
    assert page.locator("html").get_attribute("lang") == "da"
    page.get_by_label("Brugernavn").focus()
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/ui/login" not in page.url, page.content()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_accessible_basics(page: Any) -> None:
    """Every visible form field has a label; nothing overflows sideways at 200 % zoom (a
    640 px wide viewport is what a 1280 px screen shows at 200 %)."""
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter(el => !el.labels || el.labels.length === 0).map(el => el.name)""")
    assert unlabelled == []
    assert page.locator("html").get_attribute("lang") == "da"


def assert_reflows(browser: Any, hub: HubStack, name: str, path: str) -> None:
    page = new_page(browser, hub, width=640)
    login(page, name)
    page.goto(path)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 200 % zoom"
    page.context.close()


INFOHUS_CATEGORIES = {"extremism", "radicalisation", "honour_related_conflict",
                      "negative_social_control"}


def _without_four_eyes(events: list[dict[str, Any]]) -> list[str]:
    """Event ids about people with no concern in Infohus or SSP+ (the shipped policy asks for
    four eyes there)."""
    flagged = {e["subject"]["cpr"] for e in events
               if e["collaboration"] == "SSP+" or e["category"] in INFOHUS_CATEGORIES}
    return [e["event_id"] for e in events if e["subject"]["cpr"] not in flagged]


def test_consultant_inbox_concern_status_joint_view_and_reidentification(
        hub: HubStack, ui: dict[str, Any], browser: Any) -> None:
    name = ui["names"]["konsulent"]
    page = new_page(browser, hub)
    page.goto("/ui/login")
    shot(page, "login")
    login(page, name)
    assert page.url.endswith("/ui/indbakke")
    rows = page.locator("table.inbox tbody tr")
    assert rows.count() >= 10
    header = page.locator("table.inbox thead").inner_text()
    for column in ("Kategori", "Område", "Alvor", "Alder", "Kilde", "Samtykke",
                   "Underretning", "Status"):
        assert column in header
    assert_accessible_basics(page)
    shot(page, "inbox")

    # Open the newest concern about a person (not an area-level one) whose identity needs no
    # second consultant (four eyes: tests/integration/test_web_foureyes.py).
    plain = ", ".join(f'a[href$="/{e}"]' for e in _without_four_eyes(ui["events"]))
    page.locator("table.inbox tbody tr").filter(has_not_text="Områdeniveau") \
        .filter(has=page.locator(plain)).first.get_by_role("link").click()
    assert "/ui/bekymringer/" in page.url
    event_id = page.url.rsplit("/", 1)[1].split("?")[0]
    logged = hub.wait_log(lambda e: e.get("event_id") == event_id
                          and e.get("details", {}).get("view") == "ui-concern"
                          and e["recipient"] == name, kind="consultation")
    assert logged
    page.get_by_label("Under behandling").check()
    page.get_by_label("Kort note").fill("Aftalt samtale med skolen og forældrene.")
    page.get_by_role("button", name="Gem status").click()
    assert_shown(page.get_by_text("Status er gemt."))
    assert page.locator("ol.history").inner_text().count("Under behandling") == 1
    assert_accessible_basics(page)
    shot(page, "concern")

    page.get_by_role("link", name="Se den unges samlede forløb").click()
    assert "/ui/personer/" in page.url
    pseudonym = page.url.rsplit("/", 1)[1]
    assert page.locator("ol.timeline > li").count() >= 1
    shot(page, "joint-view")

    # Without a reason: refused, and the refusal is in the log.
    page.get_by_role("button", name="Vis identitet").click()
    assert page.get_by_role("alert").inner_text().startswith("Anmodningen blev afvist")
    assert page.locator("#identitet-cpr").count() == 0
    hub.wait_log(lambda e: e["recipient"] == name and e["reason_code"] == "reason_insufficient",
                 kind="reidentification_refused", pseudonyms=[pseudonym])
    # With one: the identity, once.
    page.get_by_label("Begrundelse").fill(
        "Fælles indsats med skolen kræver kontakt til forældrene i denne uge.")
    page.get_by_role("button", name="Vis identitet").click()
    cpr = page.locator("#identitet-cpr").inner_text()
    subjects = {str(e["subject"]["cpr"]).replace("-", "") for e in ui["events"]}
    assert cpr.replace("-", "") in subjects
    shot(page, "reidentified")
    hub.wait_log(lambda e: e["recipient"] == name, kind="reidentification",
                 pseudonyms=[pseudonym])

    # A consultant sees no log pages.
    page.goto("/ui/log")
    assert page.get_by_text("Du har ikke adgang til denne side.").is_visible()
    page.context.close()
    assert_reflows(browser, hub, name, "/ui/indbakke")
    assert_reflows(browser, hub, name, f"/ui/personer/{pseudonym}")


def test_security_officer_log_integrity_rejections_policy_and_subject_access(
        hub: HubStack, ui: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    assert hub.store is not None
    name = ui["names"]["sikkerhed"]
    page = new_page(browser, hub)
    login(page, name)
    assert page.url.endswith("/ui/log")
    page.get_by_label("Type").select_option("rejection")
    page.get_by_role("button", name="Filtrér").click()
    kinds = page.locator("table.log tbody tr td:nth-child(3)").all_inner_texts()
    assert kinds
    assert set(kinds) == {"Afvisning"}
    assert_accessible_basics(page)
    page.goto("/ui/log")
    shot(page, "log")

    # Integrity: green once the sequencer signed a checkpoint over the entries...
    page.goto("/ui/log/integritet")
    assert page.locator("#verdict").inner_text().strip().endswith("Loggen er intakt")
    assert "verdict ok" in (page.locator("#verdict").get_attribute("class") or "")
    shot(page, "integrity-ok")
    # ... and red, naming what failed, once a stored entry was altered.
    with hub.store.engine.begin() as conn:
        seq, entry = conn.execute(sa.select(disclosure_log.c.seq, disclosure_log.c.entry)
                                  .where(disclosure_log.c.kind == "rejection")
                                  .order_by(disclosure_log.c.seq).limit(1)).one()
        original = bytes(entry)
        conn.execute(disclosure_log.update().where(disclosure_log.c.seq == seq)
                     .values(entry=original.replace(b'"rejection"', b'"disclosure"', 1)))
    try:
        page.reload()
        verdict = page.locator("#verdict")
        assert verdict.inner_text().strip().endswith("Loggen er IKKE intakt")
        assert "verdict failed" in (verdict.get_attribute("class") or "")
        problems = page.locator("ul.problems").inner_text()
        assert f"Post {seq}: ændret" in problems
        assert f"entry {seq}" in problems
        shot(page, "integrity-tampered")
    finally:
        with hub.store.engine.begin() as conn:
            conn.execute(disclosure_log.update().where(disclosure_log.c.seq == seq)
                         .values(entry=original))
    page.reload()
    assert page.locator("#verdict").inner_text().strip().endswith("Loggen er intakt")

    page.goto("/ui/log/afvisninger")
    assert page.get_by_role("table").first.inner_text().count("purpose") >= 1
    shot(page, "rejections")
    page.goto("/ui/politik")
    version = load_policy(hub.settings.resolved_policy_file).version
    assert version in page.locator("main").inner_text()
    assert "Videregivet" in page.locator("table").inner_text()
    shot(page, "policy")

    # Subject access: the answer as a document to hand over.
    cpr = str(ui["events"][0]["subject"]["cpr"])
    page.goto("/ui/indsigt")
    page.get_by_label("Borgerens CPR-nummer").fill("12345")
    page.get_by_role("button", name="Vis svar").click()
    assert "cpr: ikke et gyldigt CPR-nummer" in page.get_by_role("alert").inner_text()
    page.get_by_label("Borgerens CPR-nummer").fill(cpr)
    page.get_by_role("button", name="Vis svar").click()
    assert re.search(r"Svar: \d+ registreringer", page.locator("main").inner_text())
    shot(page, "subject-access")
    with page.expect_download() as info:
        page.get_by_role("button", name="Hent dokument (til udlevering)").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    document = target.read_text(encoding="utf-8")
    assert "Indsigt i videregivelser af dine oplysninger" in document
    assert cpr not in document  # the document masks the CPR number
    shutil.copy(target, SHOTS / "indsigt-dokument.html")
    hub.wait_log(lambda e: e["principal"] == name, kind="subject_access")
    page.context.close()
    assert_reflows(browser, hub, name, "/ui/log")


def test_governance_charts_with_small_count_suppression_and_csv(
        hub: HubStack, ui: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    name = ui["names"]["styregruppe"]
    page = new_page(browser, hub)
    login(page, name)
    assert page.url.endswith("/ui/styring")
    assert page.locator("figure.chart svg").count() >= 2
    cells = page.locator("table.stats td:not(.share)").all_inner_texts()  # counts, not shares
    assert "<5" in cells
    for text in cells:
        assert text == "<5" or int(text) >= 5
    shot(page, "governance")
    with page.expect_download() as info:
        page.get_by_role("link", name="Hent som CSV").click()
    target = tmp_path / "styring.csv"
    info.value.save_as(target)
    body = target.read_text(encoding="utf-8-sig")
    assert "<5" in body
    page.goto("/ui/indbakke")
    assert page.get_by_text("Du har ikke adgang til denne side.").is_visible()
    page.context.close()
    assert_reflows(browser, hub, name, "/ui/styring")
