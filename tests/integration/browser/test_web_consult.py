"""The consultant's and the steering group's day in a real browser (issue 16): the inbox at
1366x768 and 1920x1080 shows every column without the page scrolling sideways, a deep link
survives login, a failed status save keeps the note, and the governance CSV (for a chosen
year) parsed with ";" gives the numbers the page shows, with chart text of at least 12 px.

Playwright drives Debian's Chromium against the hub the tests started (broker, worker, API),
fed through the ingest API by the ``ui`` fixture of ``test_web_ui.py``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.browser import test_web_ui
from tests.integration.browser.test_web_ui import PASSWORD, login, shot
from tests.integration.hubstack import HubStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
ui = test_web_ui.ui  # the web UI tests' sample events and accounts, reused
browser = test_web_ui.browser


def page_at(browser: Any, hub: HubStack, width: int, height: int) -> Any:
    context = browser.new_context(base_url=hub.api_url, viewport={"width": width,
                                                                  "height": height},
                                  locale="da-DK", accept_downloads=True)
    return context.new_page()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_the_inbox_shows_every_column_without_sideways_scrolling(
        hub: HubStack, ui: dict[str, Any], browser: Any, size: tuple[int, int]) -> None:
    page = page_at(browser, hub, *size)
    login(page, ui["names"]["konsulent"])
    assert page.url.endswith("/ui/indbakke")
    assert page.locator("table.inbox tbody tr").count() >= 10
    fits = page.evaluate("""() => ({
        page: document.scrollingElement.scrollWidth, inner: window.innerWidth,
        box: [...document.querySelectorAll('.table-wrap')].map(
            w => w.scrollWidth - w.clientWidth)})""")
    assert fits["page"] <= fits["inner"], fits
    assert max(fits["box"]) <= 1, f"the table scrolls inside its box: {fits}"
    header = page.locator("table.inbox thead").inner_text()
    assert "Modtaget (nyeste først)" in header
    for cells in ("td.status-cell", "td.open-cell"):
        for box in page.locator(f"table.inbox tbody tr {cells}").evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().right)"):
            assert box <= fits["inner"], f"{cells} ends at {box}px of {fits['inner']}"
    assert page.locator("#antal").inner_text().split(" ")[1] == "bekymringer"
    if size == (1366, 768):
        shot(page, "inbox-1366")
        # Search and counts: the Danish name of an agency.
        page.get_by_label("Søg").fill("politi")
        page.get_by_role("button", name="Vis").click()
        sources = page.locator("table.inbox tbody tr").evaluate_all(
            "rows => rows.map(r => r.cells[7].innerText)")
        assert sources
        assert all(s.startswith("Politi") for s in sources)
        total = int(page.locator("#antal strong").inner_text().split()[0])
        assert total >= len(sources)
    page.context.close()


def test_a_deep_link_survives_login_and_next_elsewhere_is_ignored(
        hub: HubStack, ui: dict[str, Any], browser: Any) -> None:
    name = ui["names"]["konsulent"]
    page = page_at(browser, hub, 1366, 768)
    login(page, name)
    href = page.locator("table.inbox tbody tr a").first.get_attribute("href")
    page.context.close()

    page = page_at(browser, hub, 1366, 768)
    page.goto(href)
    assert "/ui/login" in page.url
    login_with_form(page, name)
    assert page.url.endswith(href)
    assert page.get_by_role("heading", name="Sagsstatus", exact=False).count() == 1
    page.context.close()

    page = page_at(browser, hub, 1366, 768)
    page.goto("/ui/login?next=https://evil.example/ui/")
    login_with_form(page, name)
    assert page.url == f"{hub.api_url}/ui/indbakke"
    page.context.close()


def login_with_form(page: Any, name: str) -> None:
    page.get_by_label("Brugernavn").fill(name)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log ind").click()


def test_a_failed_save_keeps_the_note(hub: HubStack, ui: dict[str, Any], browser: Any) -> None:
    page = page_at(browser, hub, 1366, 768)
    login(page, ui["names"]["konsulent"])
    page.locator("table.inbox tbody tr a").nth(2).click()
    typed = "Aftalt samtale med skolen og forældrene i næste uge."
    page.get_by_label("Afsluttet").check()
    page.get_by_label("Kort note").fill(typed)
    # The form went stale (another login, a long break): its token no longer matches.
    page.locator("input[name=csrf]").last.evaluate("el => el.value = 'forældet'")
    page.get_by_role("button", name="Gem status").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Din note er ikke gemt, men står stadig i feltet" in alert
    assert page.get_by_label("Kort note").input_value() == typed
    assert page.get_by_label("Afsluttet").is_checked()
    shot(page, "concern-save-failed")
    # Saved on the second try, from the same form.
    page.get_by_role("button", name="Gem status").click()
    test_web_ui.assert_shown(page.get_by_text("Status er gemt."))
    assert typed in page.locator("ol.history").inner_text()
    # A note with personal data: refused, kept.
    page.get_by_label("Kort note").fill("Ring til moren på 22 33 44 55.")
    page.get_by_role("button", name="Gem status").click()
    assert "telefonnummer" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Kort note").input_value() == "Ring til moren på 22 33 44 55."
    page.context.close()


def test_the_governance_csv_for_a_year_gives_the_pages_numbers(
        hub: HubStack, ui: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    page = page_at(browser, hub, 1366, 768)
    login(page, ui["names"]["styregruppe"])
    year = page.locator("#aar option").nth(1).get_attribute("value")
    page.get_by_label("År").select_option(year)
    page.get_by_role("button", name="Vis periode").click()
    assert f"aar={year}" in page.url
    assert page.locator("#periode").inner_text().startswith(f"januar {year}")
    shown = page.locator("table.stats tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.innerText.trim()))")
    # Chart text: at least 12 px as drawn (an SVG unit is a CSS pixel: charts are not shrunk).
    sizes = page.locator("figure.chart svg text").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)")
    assert sizes
    assert min(sizes) >= 12, min(sizes)
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    assert "flere" in page.locator("#koe-note").inner_text()
    shot(page, "governance-year")
    with page.expect_download() as info:
        page.get_by_role("link", name="Hent som CSV").click()
    target = tmp_path / "styring.csv"
    info.value.save_as(target)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Periode", page.locator("#periode").inner_text()]
    numbers = [r[1:] for r in rows[2:]
               if len(r) > 2 and r[0] and r[1] and not r[0].startswith("Bekymringer")]
    assert numbers == shown
    assert any(re.fullmatch(r"\d+,\d", r[-1]) for r in numbers)  # shares: decimal comma
    page.context.close()
