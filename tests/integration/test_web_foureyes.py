"""Four-eyes re-identification in a real browser (issue 16): Playwright drives Debian's
Chromium against the hub the tests started. A concern about radicalisation goes through the
ingest API and the worker into Infohus, where the shipped policy asks for four eyes. The
first consultant asks for the identity and is refused it (not shown) until a second
consultant of Infohus has approved the request, with a reason, from the list of requests
waiting for them; then the first consultant sees it. Screenshots under
``test-output/screenshots/``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.auth import new_token
from hub.web.sessions import hash_password
from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("test-output") / "screenshots"
PASSWORD = "Fire øjne på Infohus 2026"
ASKED = "Vi skal kontakte familien om bekymringen for radikalisering."
APPROVED = "Godkendt: kontakten til familien er nødvendig for indsatsen nu."


@pytest.fixture(scope="module")
def setup(hub: HubStack) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it (scripts/chromium)")
    assert hub.store is not None
    suffix = uuid.uuid4().hex[:6]
    names = {who: f"{who}-{suffix}" for who in ("anna", "bo")}
    for name in names.values():
        hub.store.add_principal(name, "consultant", ("infohus",), new_token(),
                                hash_password(PASSWORD))
    police = hub.principal("politi-web4e", "agency:police")
    event = make_event("police", category="radicalisation", area="stege",
                       seed=990_416_777)
    with hub.client(police) as c:
        assert c.post("/api/v1/ingest/police", json=event).status_code == 202
    assert hub.wait_outcomes([event["event_id"]])[event["event_id"]]["status"] == "routed"
    reader = hub.principal("konsulent-web4e", "consultant", ("infohus",))
    with hub.client(reader) as c:
        items = c.get("/api/v1/queues/infohus/concerns", params={"limit": 1000}).json()["items"]
    pseudonym = next(i["pseudonym"] for i in items if i["event_id"] == event["event_id"])
    deadline = time.monotonic() + 30
    while hub.store.vault_entry(pseudonym) is None:
        assert time.monotonic() < deadline, "the worker wrote no vault entry"
        time.sleep(0.2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return {"names": names, "pseudonym": pseudonym, "cpr": event["subject"]["cpr"]}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def _logged_in(browser: Any, hub: HubStack, name: str) -> Any:
    context = browser.new_context(base_url=hub.api_url, viewport={"width": 1280, "height": 900},
                                  locale="da-DK")
    page = context.new_page()
    page.goto("/ui/login")
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_label("Adgangskode").press("Enter")
    assert "/ui/login" not in page.url, page.content()
    return page


def _unlabelled(page: Any) -> list[str]:
    return list(page.evaluate("""() => [...document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')]
        .filter(el => !el.labels || el.labels.length === 0).map(el => el.name)"""))


def _reflows(page: Any, path: str) -> None:
    """Nothing overflows sideways at 200 % zoom (a 640 px viewport); back at 1280 px."""
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(path)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 200 % zoom"
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(path)


def test_four_eyes_reidentification_is_refused_until_a_second_consultant_approves(
        hub: HubStack, setup: dict[str, Any], browser: Any) -> None:
    pseudonym, cpr = setup["pseudonym"], setup["cpr"]
    joint = f"/ui/personer/{pseudonym}"
    anna = _logged_in(browser, hub, setup["names"]["anna"])
    anna.goto(joint)
    assert "kræver godkendelse af en anden" in anna.locator("main").inner_text()
    assert anna.get_by_role("button", name="Vis identitet").count() == 0

    anna.get_by_label("Begrundelse").fill(ASKED)
    anna.get_by_role("button", name="Anmod om identitet").click()
    assert anna.locator("#anmodning-sendt").is_visible()
    assert "Afventer godkendelse" in anna.locator("#min-anmodning").inner_text()
    assert anna.locator("#identitet-cpr").count() == 0
    assert cpr not in anna.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    anna.screenshot(path=str(SHOTS / "four-eyes-requested.png"), full_page=True)
    # Asking again changes nothing: still waiting, still no identity, and anna cannot decide
    # her own request (no decision form is offered to her).
    anna.goto(joint)
    assert "Afventer godkendelse" in anna.locator("#min-anmodning").inner_text()
    assert anna.get_by_role("button", name="Godkend").count() == 0
    assert anna.locator("#identitet-cpr").count() == 0

    bo = _logged_in(browser, hub, setup["names"]["bo"])
    bo.get_by_role("link", name="Godkendelser").click()
    assert bo.url.endswith("/ui/godkendelser")
    row = bo.locator("table.four-eyes tbody tr").filter(has_text=pseudonym)
    assert setup["names"]["anna"] in row.inner_text()
    bo.screenshot(path=str(SHOTS / "four-eyes-waiting.png"), full_page=True)
    _reflows(bo, "/ui/godkendelser")
    row.get_by_role("link", name="Se forløb og afgør").click()
    _reflows(bo, joint)
    assert ASKED in bo.locator("main").inner_text()
    assert _unlabelled(bo) == []
    # Without a reason: not saved, the request still waits.
    bo.get_by_role("button", name="Godkend").click()
    assert "Afgørelsen blev ikke gemt" in bo.get_by_role("alert").inner_text()
    anna.goto(joint)
    assert "Afventer godkendelse" in anna.locator("#min-anmodning").inner_text()
    # With one: approved.
    bo.get_by_label("Din begrundelse for afgørelsen").fill(APPROVED)
    bo.get_by_role("button", name="Godkend").click()
    assert bo.locator("#afgjort").inner_text() == \
        "Anmodningen er godkendt. Konsulenten kan nu se identiteten."
    assert cpr not in bo.content()

    anna.goto(joint)
    mine = anna.locator("#min-anmodning").inner_text()
    assert f"Godkendt af {setup['names']['bo']}" in mine
    assert APPROVED in mine
    anna.get_by_role("button", name="Vis identitet").click()
    assert anna.locator("#identitet-cpr").inner_text().replace("-", "") == cpr.replace("-", "")
    anna.screenshot(path=str(SHOTS / "four-eyes-revealed.png"), full_page=True)
    hub.wait_log(lambda e: e["details"].get("approved_by") == setup["names"]["bo"],
                 kind="reidentification", pseudonyms=[pseudonym])
    anna.context.close()
    bo.context.close()
