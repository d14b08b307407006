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
from typing import Any

import pytest

from hub.auth import new_token
from hub.web.sessions import hash_password
from tests.integration.browser import test_web_ui as base
from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
browser = base.browser  # the web UI tests' Chromium, its pages, login and checks, reused
ASKED = "Vi skal kontakte familien om bekymringen for radikalisering."
APPROVED = "Godkendt: kontakten til familien er nødvendig for indsatsen nu."


@pytest.fixture(scope="module")
def setup(hub: HubStack) -> dict[str, Any]:
    if not base.CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it (scripts/chromium)")
    assert hub.store is not None
    suffix = uuid.uuid4().hex[:6]
    names = {who: f"{who}-{suffix}" for who in ("anna", "bo")}
    for name in names.values():
        hub.store.add_principal(name, "consultant", ("infohus",), new_token(),
                                hash_password(base.PASSWORD))
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
    base.SHOTS.mkdir(parents=True, exist_ok=True)
    return {"names": names, "pseudonym": pseudonym, "cpr": event["subject"]["cpr"]}


def _logged_in(browser: Any, hub: HubStack, name: str) -> Any:
    page = base.new_page(browser, hub)
    base.login(page, name)
    return page


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
    base.assert_shown(anna.locator("#anmodning-sendt"))
    assert "Afventer godkendelse" in anna.locator("#min-anmodning").inner_text()
    assert anna.locator("#identitet-cpr").count() == 0
    assert cpr not in anna.content()
    base.shot(anna, "four-eyes-requested")
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
    base.shot(bo, "four-eyes-waiting")
    base.assert_reflows(browser, hub, setup["names"]["bo"], "/ui/godkendelser")
    row.get_by_role("link", name="Se forløb og afgør").click()
    base.assert_reflows(browser, hub, setup["names"]["bo"], joint)
    assert ASKED in bo.locator("main").inner_text()
    base.assert_accessible_basics(bo)
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
    base.shot(anna, "four-eyes-revealed")
    hub.wait_log(lambda e: e["details"].get("approved_by") == setup["names"]["bo"],
                 kind="reidentification", pseudonyms=[pseudonym])
    anna.context.close()
    bo.context.close()
