"""The security officer withholds one entry from a citizen's subject-access copy, in the
browser (issue 16, GDPR art. 15(4) / databeskyttelseslovens § 22): the entry is absent from
the copy the citizen gets and present in the log as an ``access_withheld`` entry naming the
entry and the reason; on both brokers (``make test-kafka`` runs it on Kafka + PostgreSQL)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.browser import test_web_ui
from tests.integration.browser.test_web_ui import login, new_page, shot
from tests.integration.hubstack import HubStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
ui = test_web_ui.ui  # the web UI tests' sample events and accounts, reused
browser = test_web_ui.browser

REASON = "Oplysningen kan skade barnet, jf. databeskyttelseslovens § 22"


def shown_seqs(page: Any) -> list[int]:
    return [int(s) for s in page.locator("section table tbody tr td:first-child")
            .all_inner_texts()]


def test_a_withheld_entry_is_absent_from_the_citizens_copy_and_present_in_the_log(
        hub: HubStack, ui: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    name = ui["names"]["sikkerhed"]
    cpr = str(ui["events"][0]["subject"]["cpr"])
    page = new_page(browser, hub)
    login(page, name)
    page.goto("/ui/indsigt")
    page.get_by_label("Borgerens CPR-nummer").fill(cpr)
    page.get_by_role("button", name="Vis svar").click()
    before = shown_seqs(page)
    assert len(before) >= 2
    seq = before[0]

    form = page.locator("form.decision").filter(has=page.locator(f"#reason-{seq}"))
    assert form.locator(f"#decision-{seq}").input_value() == "withhold"
    form.locator(f"#reason-{seq}").fill(REASON)
    form.get_by_role("button", name="Gem afgørelse").click()
    assert f"Registrering nr. {seq} er tilbageholdt" in page.get_by_role("status").inner_text()

    page.get_by_label("Borgerens CPR-nummer").fill(cpr)
    page.get_by_role("button", name="Vis svar").click()
    assert seq not in shown_seqs(page)
    assert len(shown_seqs(page)) >= len(before) - 1
    withheld = page.get_by_role("heading", name=re.compile("Tilbageholdt fra borgerens kopi"))
    test_web_ui.assert_shown(withheld)
    assert f"{seq}" in page.locator("section ul").last.inner_text()
    shot(page, "subject-access-withheld")

    # The citizen's copy (the API's answer, which the document is made from): without it.
    officer = hub.principal("indsigt-api", "security_officer")
    with hub.client(officer) as client:
        answer = client.post("/api/v1/subject-access", json={"cpr": cpr})
    assert answer.status_code == 200
    copy = [int(e["seq"]) for e in answer.json()["entries"]]
    assert seq not in copy
    assert set(shown_seqs(page)) <= set(copy)
    with page.expect_download() as info:
        page.get_by_role("button", name="Hent dokument (til udlevering)").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert REASON not in target.read_text(encoding="utf-8")  # nothing of what was withheld

    logged = hub.wait_log(lambda e: e.get("details", {}).get("log_entry") == seq
                          and e["principal"] == name, kind="access_withheld")
    assert logged
    assert REASON in (logged[0].get("reason") or "")
    page.context.close()
