"""The administrator's page in a real browser (issue 16), against the hub the tests started
(broker, worker, API): it shows the users (role, web login, queues, disabled), the connectors
with the drop folder a real ``ssp-hub connector watch --once`` delivered from, and the
broker and store as reachable. Disabling a person there ends their login, and the change is
in the disclosure log; ``ssp-hub users disable`` on the running hub does the same from the
command line. A screenshot is saved under ``test-output/screenshots/admin.png``."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from connectors.watch import STATUS_FILE, default_state_dir, drop_status
from hub.auth import new_token
from hub.sample_data import native_sample
from hub.web.pages import local_time
from hub.web.sessions import hash_password
from tests.integration.browser.test_web_ui import (
    CHROMIUM,
    PASSWORD,
    SHOTS,
    browser,
    login,
    new_page,
)
from tests.integration.hubstack import REPO, HubStack

playwright_sync = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
__all__ = ["browser"]  # the module-scoped Playwright browser fixture, shared


def _cli(hub: HubStack, *args: str, token: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    env = {**hub.env, **({"SSP_HUB_CONNECTOR_TOKEN": token} if token else {})}
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def _people(hub: HubStack) -> dict[str, str]:
    assert hub.store is not None
    suffix = uuid.uuid4().hex[:6]
    names = {"admin": f"admin-{suffix}", "konsulent": f"konsulent-{suffix}",
             "sikkerhed": f"sikkerhed-{suffix}"}
    roles = {"admin": ("admin", ()), "konsulent": ("consultant", ("infohus",)),
             "sikkerhed": ("security_officer", ())}
    for base, name in names.items():
        role, queues = roles[base]
        hub.store.add_principal(name, role, queues, new_token(), hash_password(PASSWORD))
    return names


def _delivered_drop_folder(hub: HubStack, tmp_path: Path) -> dict[str, Any]:
    """A real file-drop watcher delivers the police sample once; the status it wrote."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "doegn.jsonl").write_bytes(native_sample("police-doegnrapport").read_bytes())
    token = hub.principal("politi-admin", "agency:police")
    run = _cli(hub, "connector", "watch", "--connector", "police-doegnrapport", str(drop),
               "--once", "--settle", "0", "--api", hub.api_url, token=token)
    assert run.returncode == 0, run.stdout + run.stderr
    state = default_state_dir(hub.settings.resolved_watch_state_dir, "police-doegnrapport", drop)
    status: dict[str, Any] = json.loads((state / STATUS_FILE).read_text(encoding="utf-8"))
    return status


def _login_fails(browser: Any, hub: HubStack, name: str) -> bool:
    page = new_page(browser, hub)
    try:
        page.goto("/ui/login")
        page.get_by_label("Brugernavn").fill(name)
        page.get_by_label("Adgangskode").fill(PASSWORD)
        page.get_by_role("button", name="Log ind").click()
        return "/ui/login" in page.url
    finally:
        page.context.close()


def test_admin_page_shows_users_drop_folders_and_health_and_disables_a_person(
        hub: HubStack, browser: Any, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: `make test` installs it (scripts/chromium)")
    names = _people(hub)
    status = _delivered_drop_folder(hub, tmp_path)
    assert status["last_delivery_at"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, hub)
    login(page, names["admin"])

    assert page.url.endswith("/ui/admin")  # an administrator's home
    assert page.get_by_role("link", name="Administration").count() == 1
    health = page.locator("dl.facts").inner_text()
    assert "Beskedkø (Kafka)\nkan nås" in health
    assert "Database\nkan nås" in health
    users = page.locator("#brugere ~ .table-wrap table").first
    row = users.locator("tr", has_text=names["konsulent"])
    assert "SSP-konsulent" in row.inner_text()
    assert "Infohus" in row.inner_text()
    assert "aktiv" in row.inner_text()
    drops = page.locator("#forbindelser ~ .table-wrap table").first
    # Other tests' watchers may have folders of the same connector: one row each, as /readyz.
    police = drops.locator("tbody tr", has_text="police-doegnrapport")
    watched = [d for d in drop_status(hub.settings.resolved_watch_state_dir)
               if d["connector"] == "police-doegnrapport"]
    assert police.count() == len(watched)
    mine = police.filter(has_text=local_time(status["checked_at"])) \
        .filter(has_text=local_time(status["last_delivery_at"]))
    assert mine.count() >= 1
    assert "Politi" in mine.first.inner_text()
    assert "ssp_" not in page.content()
    page.screenshot(path=str(SHOTS / "admin.png"), full_page=True)

    row.get_by_role("button", name="Deaktivér").click()

    assert "Brugeren er deaktiveret" in page.locator("p.notice").inner_text()
    row = page.locator("#brugere ~ .table-wrap table tr", has_text=names["konsulent"])
    assert "deaktiveret" in row.inner_text()
    assert _login_fails(browser, hub, names["konsulent"])
    logged = hub.wait_log(lambda e: e.get("recipient") == names["konsulent"],
                          kind="administration")
    assert logged[0]["reason_code"] == "principal_disabled"
    assert logged[0]["principal"] == names["admin"]

    # The command line on the running hub: the same refusal, on record too.
    assert not _login_fails(browser, hub, names["sikkerhed"])
    run = _cli(hub, "users", "disable", names["sikkerhed"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert _login_fails(browser, hub, names["sikkerhed"])
    hub.wait_log(lambda e: e.get("recipient") == names["sikkerhed"]
                 and e.get("reason_code") == "principal_disabled", kind="administration")
    page.context.close()
