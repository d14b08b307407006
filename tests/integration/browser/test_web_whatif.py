"""Policy what-if in a real browser (issue 16): the security officer pastes a proposed policy
with a lowered SSP age limit and sees how many of the hub's recent decisions it would change,
with the affected event ids; an invalid proposal (uploaded as a file) is refused naming the
field. Events go through the real ingest API and worker; Playwright drives Debian's Chromium."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from core.policy.evaluator import load_policy, parse_policy
from core.settings import Settings
from hub.auth import new_token
from hub.policy_diff import policy_diff
from hub.web.sessions import hash_password
from tests.integration.browser.test_web_ui import PASSWORD, browser, login, new_page, shot  # noqa: F401
from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SSP_RULE = "when: {collaboration: {in: [SSP]}, age: {not_between: [0, 17]}}"


def _policy_text(limit: int) -> str:
    text = Settings().resolved_policy_file.read_text(encoding="utf-8")
    assert SSP_RULE in text
    return text.replace(SSP_RULE, SSP_RULE.replace("[0, 17]", f"[0, {limit}]"))


@pytest.fixture(scope="module")
def officer(hub: HubStack) -> dict[str, Any]:
    """A security officer with a web login, and three concerns decided by the worker: a 14-,
    a 16- and a 17-year-old."""
    assert hub.store is not None
    name = f"sikkerhed-whatif-{uuid.uuid4().hex[:6]}"
    hub.store.add_principal(name, "security_officer", (), new_token(), hash_password(PASSWORD))
    token = hub.principal(f"whatif-school-{uuid.uuid4().hex[:6]}", "agency:school")
    ids = {}
    for age in (14, 16, 17):
        event = make_event("school", category="crime", area="stege", age=age, seed=age)
        with hub.client(token) as c:
            assert c.post("/api/v1/ingest/school", json=event).status_code == 202
        ids[age] = event["event_id"]
    outcomes = hub.wait_outcomes(list(ids.values()), timeout=180)
    assert {outcomes[i]["status"] for i in ids.values()} == {"routed"}
    return {"name": name, "ids": ids}


def test_officer_sees_the_events_a_lowered_age_limit_would_reject(
        hub: HubStack, officer: dict[str, Any], browser: Any) -> None:  # noqa: F811
    page = new_page(browser, hub)
    login(page, officer["name"])
    page.get_by_role("link", name="Hvad nu hvis").click()
    assert page.url.endswith("/ui/politik/hvad-hvis")
    page.get_by_label("Eller indsæt politikken her").fill(_policy_text(15))
    page.get_by_label("Antal dage der afgøres igen").fill("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Afprøv forslaget").click()

    summary = page.locator("#opsummering").inner_text()
    found = re.search(r"Ville få et andet udfald: (\d+)", summary)
    assert found is not None, summary
    changed = int(found.group(1))
    # The page agrees with the replay over the same store, and lists the two affected events.
    assert hub.store is not None
    current = load_policy(Settings().resolved_policy_file)
    expected = policy_diff(hub.store, current, parse_policy(_policy_text(15), "p"), days=30)
    assert changed == expected.changed >= 2
    table = page.locator("#aendringer").inner_text()
    ids = officer["ids"]
    assert ids[16] in table
    assert ids[17] in table
    assert ids[14] not in table
    row = page.locator("#aendringer tbody tr", has_text=ids[16])
    assert "Afvist: Uden for samarbejdets målgruppe (alder)" in row.inner_text()
    assert "SSP-områdegruppe Stege" in row.inner_text()
    assert "Afgør nu" in page.locator("#regler").inner_text()
    shot(page, "policy-whatif")

    # An invalid proposal, uploaded as a file: refused, naming the field and its line.
    bad = _policy_text(15).replace("not_between: [0, 15]", "not_between: [15, 0]")
    page.get_by_label("Upload politikfil (YAML)").set_input_files(
        files=[{"name": "forslag.yaml", "mimeType": "text/yaml", "buffer": bad.encode()}])
    with page.expect_navigation():
        page.get_by_role("button", name="Afprøv forslaget").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Forslaget er ikke en gyldig politik" in alert
    assert "rules.2.when.age" in alert
    assert page.locator("#opsummering").count() == 0
    page.context.close()
