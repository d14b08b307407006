"""The security officer's day in a real browser (issue 16): filter the disclosure log by a
queue's Danish name ("Infohus"), open an entry and read why it was disclosed, open a rejection
and read why in Danish, and download exactly the filtered rows as CSV. Against the hub the
tests started (broker, worker, API), fed through the ingest API (tests/integration/
test_web_ui.py's fixtures)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from hub.web.texts import TEXTS
from tests.integration.browser import test_web_ui as base
from tests.integration.hubstack import HubStack

pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

ui = base.ui  # sample events through the real ingest API and worker, and web accounts
browser = base.browser


def test_officer_filters_by_infohus_opens_an_entry_and_exports_the_rows(
        hub: HubStack, ui: dict[str, Any], browser: Any) -> None:
    page = base.new_page(browser, hub)
    base.login(page, ui["names"]["sikkerhed"])
    assert page.url.endswith("/ui/log")

    # The queue by the name the officer reads on the page, not its internal id.
    page.get_by_label("Modtager (kø eller medarbejder)").fill("Infohus")
    page.get_by_role("button", name="Filtrér").click()
    recipients = page.locator("table.log tbody tr td:nth-child(6)").all_inner_texts()
    assert recipients, page.content()
    assert set(recipients) == {"Infohus"}  # the full title is the cell's title
    reasons = page.locator("table.log tbody tr td:nth-child(9)").all_inner_texts()
    assert "Til Infohus" in " ".join(reasons)
    base.assert_accessible_basics(page)
    # Every column fits a 1280 px screen: the table does not scroll sideways.
    overflow = page.evaluate("""() => { const w = document.querySelector('.table-wrap');
                                        return w.scrollWidth - w.clientWidth; }""")
    assert overflow <= 1, f"the log table scrolls sideways by {overflow}px at 1280 px"
    base.shot(page, "log-infohus")

    # The CSV holds exactly the rows the filter selects, every page of them (in the whole
    # suite the session hub's log holds more than a page for Infohus), newest first.
    with page.expect_download() as download:
        page.get_by_role("link", name="Hent som CSV").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    shown = page.locator("table.log tbody tr td:nth-child(1)").all_inner_texts()
    exported = [r[0] for r in rows[1:]]
    assert exported[:len(shown)] == [s.strip() for s in shown]
    top = max(int(s) for s in exported)  # entries sequenced after the export are not in it
    stored = [str(e["seq"]) for e in hub.log_entries(recipient="infohus") if e["seq"] <= top]
    assert exported == stored[::-1]

    # An entry: why it was disclosed, to whom, under which law, and its proof.
    first = shown[0].strip()
    page.get_by_role("link", name=f"Vis posten {first}").click()
    assert re.search(rf"/ui/log/{first}$", page.url)
    base.assert_shown(page.get_by_role("heading",
                                       name=f"Post nr. {first} i videregivelsesloggen"))
    reason = page.locator("#aarsag").inner_text()
    assert "Tilladt af politikkens regel:" in reason
    assert "Til Infohus" in reason
    assert page.locator("#modtager").inner_text().startswith("Infohus (")
    assert "Retsplejelovens § 115" in page.locator("#post").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#bladhash").inner_text())
    base.shot(page, "log-entry")

    # A rejection says why in Danish, the code only as a small hint.
    page.goto("/ui/log?kind=rejection")
    page.locator("table.log tbody tr td:nth-child(1) a").first.click()
    reason = page.locator("#aarsag").inner_text()
    code = page.locator("#aarsag small.kode").inner_text()
    assert reason.replace(code, "").strip() == TEXTS["reason_code"][code]
    page.context.close()
