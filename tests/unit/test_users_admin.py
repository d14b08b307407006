"""Administration (issue 16): ``ssp-hub users disable | enable | passwd | set-queues``; a
consultant needs a queue; every change is on the disclosure log (no secret in it, and the log
still verifies); a disabled principal is refused by the API (401 as an unknown token, refusal
reason ``disabled_principal``) and by the web UI (login, and its open sessions end); the
administrator's page; ``connector watch --once`` exits non-zero when it sent nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from connectors.watch import FileDropWatcher, default_state_dir
from core.ledger.auditlog import AuditLog
from core.ledger.disclosures import StoreSink
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.cli import app
from hub.sample_data import native_sample
from hub.web.sessions import check_password
from tests.unit.conftest import without_hub_environment
from tests.unit.test_web_oidc import oidc_hub

__all__ = ["oidc_hub"]  # the OIDC test's hub and identity provider (a module-scoped fixture)

pytestmark = pytest.mark.timeout(120)
PASSWORD = "korrekt hest batteri hæfteklamme"
NEW_PASSWORD = "en ny og lang adgangskode"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, runner: CliRunner) -> Path:
    """A hub's data dir with its keys (so that the log's checkpoints are signed)."""
    d = tmp_path / "hub"
    result = runner.invoke(app, ["keys", "init", "--data-dir", str(d)])
    assert result.exit_code == 0, result.output
    return d


def cli(runner: CliRunner, data_dir: Path, *args: str, input: str | None = None) -> Any:
    return runner.invoke(app, [*args, "--data-dir", str(data_dir)], input=input)


def add(runner: CliRunner, data_dir: Path, name: str, role: str, *queues: str,
        password: str | None = None) -> str:
    options = [o for q in queues for o in ("--queue", q)]
    options += ["--password"] if password else []
    result = cli(runner, data_dir, "users", "add", name, "--role", role, *options,
                 input=f"{password}\n" if password else None)
    assert result.exit_code == 0, result.output
    token: str = result.output.strip().splitlines()[-1]
    return token


def store_of(data_dir: Path) -> Store:
    return Store.open(Settings(data_dir=data_dir).resolved_database_url)


def admin_entries(data_dir: Path) -> list[dict[str, Any]]:
    store = store_of(data_dir)
    try:
        return list(AuditLog(store).page(kind="administration", limit=100,
                                         newest_first=False).items)
    finally:
        store.close()


# -- the rules: a consultant has a queue --------------------------------------------------------
def test_a_consultant_without_a_queue_is_refused_naming_the_option(
        runner: CliRunner, data_dir: Path) -> None:
    result = cli(runner, data_dir, "users", "add", "konsulent", "--role", "consultant")

    assert result.exit_code == 2
    assert "--queue" in result.output
    assert "konsulent skal have mindst én kø" in result.output  # and in Danish
    store = store_of(data_dir)
    try:
        assert store.account("konsulent") is None
    finally:
        store.close()
    assert admin_entries(data_dir) == []  # nothing changed, nothing logged


def test_set_queues_replaces_the_queues_and_refuses_an_empty_set_for_a_consultant(
        runner: CliRunner, data_dir: Path) -> None:
    add(runner, data_dir, "konsulent", "consultant", "beredskab")
    add(runner, data_dir, "sikkerhed", "security_officer")

    moved = cli(runner, data_dir, "users", "set-queues", "konsulent", "--queue", "infohus",
                "--queue", "omraade-stege")
    emptied = cli(runner, data_dir, "users", "set-queues", "konsulent")
    unknown = cli(runner, data_dir, "users", "set-queues", "konsulent", "--queue", "nowhere")
    officer = cli(runner, data_dir, "users", "set-queues", "sikkerhed", "--queue", "infohus")
    nobody = cli(runner, data_dir, "users", "set-queues", "ingen", "--queue", "infohus")

    assert moved.exit_code == 0, moved.output
    assert (emptied.exit_code, unknown.exit_code, officer.exit_code, nobody.exit_code) == (
        2, 2, 2, 2)
    assert "--queue" in emptied.output
    assert "'nowhere'" in unknown.output
    assert "only consultants" in officer.output
    assert "no principal named 'ingen'" in nobody.output
    store = store_of(data_dir)
    try:
        account = store.account("konsulent")
        assert account is not None
        assert account.queues == ("infohus", "omraade-stege")
        officer_account = store.account("sikkerhed")
        assert officer_account is not None
        assert officer_account.queues == ()
    finally:
        store.close()


# -- passwd ---------------------------------------------------------------------------------------
def test_passwd_sets_a_new_password_and_ends_the_web_sessions(
        runner: CliRunner, data_dir: Path) -> None:
    add(runner, data_dir, "sikkerhed", "security_officer", password=PASSWORD)
    store = store_of(data_dir)
    try:
        principal = check_password(store, "sikkerhed", PASSWORD)
        assert principal is not None
        now = dt.datetime.now(dt.UTC)
        store.create_session("open-session", principal.id, "csrf", now,
                             now + dt.timedelta(hours=1))
        short = cli(runner, data_dir, "users", "passwd", "sikkerhed", input="kort\n")
        assert short.exit_code == 2
        assert "at least 8 characters" in short.output
        assert check_password(store, "sikkerhed", PASSWORD) is not None  # unchanged

        result = cli(runner, data_dir, "users", "passwd", "sikkerhed", input=f"{NEW_PASSWORD}\n")

        assert result.exit_code == 0, result.output
        assert NEW_PASSWORD not in result.output
        assert check_password(store, "sikkerhed", NEW_PASSWORD) is not None
        assert check_password(store, "sikkerhed", PASSWORD) is None
        assert store.session("open-session", now, dt.timedelta(minutes=30)) is None
    finally:
        store.close()


# -- the disclosure log ----------------------------------------------------------------------------
def test_every_change_is_logged_naming_the_principal_and_the_change_never_a_secret(
        runner: CliRunner, data_dir: Path) -> None:
    token = add(runner, data_dir, "konsulent", "consultant", "beredskab", password=PASSWORD)
    steps = [("disable",), ("disable",), ("enable",), ("passwd",),
             ("set-queues", "--queue", "infohus")]
    outputs = []
    for command, *rest in steps:
        result = cli(runner, data_dir, "users", command, "konsulent", *rest,
                     input=f"{NEW_PASSWORD}\n" if command == "passwd" else None)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert "disabled already" in outputs[1]

    entries = admin_entries(data_dir)

    # The second disable changed nothing and is not logged.
    assert [e["reason_code"] for e in entries] == [
        "principal_added", "principal_disabled", "principal_enabled", "password_changed",
        "queues_set"]
    assert {e["recipient"] for e in entries} == {"konsulent"}
    assert {e["recipient_type"] for e in entries} == {"principal"}
    assert {e["decision"] for e in entries} == {"changed"}
    assert entries[0]["details"] == {"principal_role": "consultant", "queues": ["beredskab"],
                                     "web_login": "yes"}
    assert entries[-1]["details"]["queues"] == ["infohus"]
    assert all(e["principal"] and e["role"] == "admin" for e in entries)
    text = json.dumps(entries, ensure_ascii=False)
    for secret in (token, PASSWORD, NEW_PASSWORD, "argon2"):
        assert secret not in text
    verified = cli(runner, data_dir, "audit", "verify")
    assert verified.exit_code == 0, verified.output


# -- a disabled principal is refused ---------------------------------------------------------------
@pytest.fixture
def api(data_dir: Path) -> Iterator[tuple[TestClient, Store]]:
    with without_hub_environment():
        settings = Settings(data_dir=data_dir, bootstrap_servers="127.0.0.1:1")
        store = Store.open(settings.resolved_database_url)
        application = create_api(settings, sink=StoreSink(AuditLog(store)))
        try:
            with TestClient(application, base_url="http://testserver") as client:
                yield client, store
        finally:
            store.close()


def test_a_disabled_principals_token_is_refused_as_an_unknown_one_and_enable_undoes_it(
        runner: CliRunner, data_dir: Path, api: tuple[TestClient, Store]) -> None:
    client, store = api
    token = add(runner, data_dir, "skole", "agency:school")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/whoami", headers=bearer).status_code == 200

    assert cli(runner, data_dir, "users", "disable", "skole").exit_code == 0
    refused = client.get("/api/v1/whoami", headers=bearer)
    unknown = client.get("/api/v1/whoami", headers={"Authorization": "Bearer ssp_" + "x" * 43})

    assert refused.status_code == 401
    assert refused.json() == unknown.json()  # tells an outsider nothing more
    [row] = store.refusals_page(reason="disabled_principal", limit=10).items
    assert row["route"] == "/api/v1/whoami"
    assert token not in json.dumps(row, default=str)

    assert cli(runner, data_dir, "users", "enable", "skole").exit_code == 0
    assert client.get("/api/v1/whoami", headers=bearer).status_code == 200


def _login(client: TestClient, name: str, password: str) -> Any:
    page = client.get("/ui/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return client.post("/ui/login", data={"username": name, "password": password,
                                          "csrf": found.group(1)}, follow_redirects=False)


def test_a_disabled_person_cannot_log_in_and_their_open_session_ends(
        runner: CliRunner, data_dir: Path, api: tuple[TestClient, Store]) -> None:
    client, _store = api
    add(runner, data_dir, "sikkerhed", "security_officer", password=PASSWORD)
    assert _login(client, "sikkerhed", PASSWORD).status_code == 303
    assert client.get("/ui/log", follow_redirects=False).status_code == 200

    assert cli(runner, data_dir, "users", "disable", "sikkerhed").exit_code == 0

    after = client.get("/ui/log", follow_redirects=False)
    assert after.status_code in (302, 303)
    assert "/ui/login" in after.headers["location"]
    assert _login(client, "sikkerhed", PASSWORD).status_code == 401
    assert cli(runner, data_dir, "users", "enable", "sikkerhed").exit_code == 0
    assert _login(client, "sikkerhed", PASSWORD).status_code == 303


# -- the administrator's page ----------------------------------------------------------------------
def _drop_folder_with_an_error(data_dir: Path, tmp_path: Path) -> None:
    """A watcher that could not reach the hub leaves its status (hub_unavailable)."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "doegn.jsonl").write_bytes(native_sample("police-doegnrapport").read_bytes())
    settings = Settings(data_dir=data_dir)
    watcher = FileDropWatcher(drop, "police-doegnrapport", f"http://127.0.0.1:{_free_port()}",
                              "token", settle_s=0.0, state_dir=default_state_dir(
                                  settings.resolved_watch_state_dir, "police-doegnrapport", drop))
    try:
        assert watcher.run_once().unavailable
    finally:
        watcher.close()


def test_the_admin_page_shows_users_connectors_and_health_and_disables_with_csrf(
        runner: CliRunner, data_dir: Path, tmp_path: Path,
        api: tuple[TestClient, Store]) -> None:
    client, store = api
    add(runner, data_dir, "admin-anne", "admin", password=PASSWORD)
    add(runner, data_dir, "konsulent", "consultant", "infohus", password=PASSWORD)
    add(runner, data_dir, "sikkerhed", "security_officer", password=PASSWORD)
    _drop_folder_with_an_error(data_dir, tmp_path)
    landed = _login(client, "admin-anne", PASSWORD)
    assert landed.headers["location"] == "/ui/admin"

    page = client.get("/ui/admin")

    assert page.status_code == 200
    html = page.text
    for text in ("konsulent", "SSP-konsulent", "Sikkerhedsansvarlig", "Infohus", "Weblogin",
                 "police-doegnrapport", "hubben kunne ikke nås", "school-absence",
                 "Ingen overvåget drop-mappe", "Database", "kan nås", "kan ikke nås",
                 'href="/ui/admin"'):
        assert text in html, text
    assert "ssp_" not in html
    assert "argon2" not in html
    csrf = re.search(r'name="csrf" value="([^"]+)"', html)
    assert csrf
    forged = client.post("/ui/admin/brugere/konsulent/deaktiver", data={"csrf": "forkert"},
                         follow_redirects=False)
    assert forged.status_code == 403
    yourself = client.post("/ui/admin/brugere/admin-anne/deaktiver",
                           data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert yourself.status_code == 400

    done = client.post("/ui/admin/brugere/konsulent/deaktiver", data={"csrf": csrf.group(1)},
                       follow_redirects=False)

    assert done.status_code == 303
    account = store.account("konsulent")
    assert account is not None
    assert account.disabled
    assert "deaktiveret" in client.get(done.headers["location"]).text
    last = admin_entries(data_dir)[-1]
    assert (last["reason_code"], last["recipient"], last["principal"]) == (
        "principal_disabled", "konsulent", "admin-anne")
    client.post("/ui/admin/brugere/konsulent/aktiver", data={"csrf": csrf.group(1)})
    account = store.account("konsulent")
    assert account is not None
    assert not account.disabled


def test_only_an_administrator_sees_the_admin_page(
        runner: CliRunner, data_dir: Path, api: tuple[TestClient, Store]) -> None:
    client, _store = api
    add(runner, data_dir, "sikkerhed", "security_officer", password=PASSWORD)
    _login(client, "sikkerhed", PASSWORD)

    assert client.get("/ui/admin").status_code == 403
    assert 'href="/ui/admin"' not in client.get("/ui/log").text


# -- connector watch --once ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _watch_once(runner: CliRunner, data_dir: Path, drop: Path, *options: str) -> Any:
    token_file = data_dir / "token"
    token_file.write_text("ssp_test-token\n", encoding="utf-8")
    return cli(runner, data_dir, "connector", "watch", str(drop), "--connector",
               "police-doegnrapport", "--once", "--token-file", str(token_file), *options)


def test_watch_once_exits_non_zero_when_a_file_has_not_settled(
        runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "doegn.jsonl").write_bytes(native_sample("police-doegnrapport").read_bytes())

    result = _watch_once(runner, data_dir, drop, "--settle", "3600",
                         "--api", f"http://127.0.0.1:{_free_port()}")

    assert result.exit_code == 3
    assert "1 file(s) not sent: changed less than 3600 s ago" in result.stderr
    assert (drop / "doegn.jsonl").exists()


def test_watch_once_names_the_address_it_could_not_reach(
        runner: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "doegn.jsonl").write_bytes(native_sample("police-doegnrapport").read_bytes())
    address = f"http://127.0.0.1:{_free_port()}"

    result = _watch_once(runner, data_dir, drop, "--settle", "0", "--api", address)

    assert result.exit_code == 3
    assert f"cannot reach the hub at {address}" in result.stderr
    assert "1 file(s) kept for the next run" in result.stderr
    assert (drop / "doegn.jsonl").exists()
    assert "doegn" not in result.stderr  # counts, not file names


# -- the migration ---------------------------------------------------------------------------------
def test_migration_0009_adds_and_drops_the_disabled_column_keeping_principals(
        tmp_path: Path) -> None:
    """Up, down and up again on SQLite (PostgreSQL: the same column, a plain ADD COLUMN)."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    import core.store.engine

    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        store.add_principal("konsulent", "consultant", ["infohus"], "ssp_token")
        store.set_disabled("konsulent", True)
        cfg = Config()
        cfg.set_main_option("script_location",
                            str(Path(core.store.engine.__file__).parent / "migrations"))

        def columns() -> list[str]:
            return [c["name"] for c in sa.inspect(store.engine).get_columns("principals")]
        for target, present in (("0008", False), ("head", True)):
            with store.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                (command.downgrade if target == "0008" else command.upgrade)(cfg, target)
            assert ("disabled_at" in columns()) is present
        account = store.account("konsulent")
        assert account is not None
        assert not account.disabled  # the column came back empty: enabled
        assert store.principal_by_token("ssp_token") is not None
    finally:
        store.close()


def test_every_administration_change_has_a_danish_label() -> None:
    from hub.administration import Change
    from hub.web.texts import TEXTS

    assert set(TEXTS["admin"]["change"]) == {c.value for c in Change}
    assert TEXTS["kind"]["administration"]
    assert TEXTS["decision"]["changed"]


def test_passwd_on_a_terminal_asks_twice_and_asks_again_after_a_mismatch(
        runner: CliRunner, data_dir: Path) -> None:
    """On a terminal (a pseudo-terminal here) the password is prompted, hidden, confirmed."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    add(runner, data_dir, "sikkerhed", "security_officer", password=PASSWORD)
    leader, follower = pty.openpty()
    terminal = os.ttyname(follower)
    proc = subprocess.Popen(  # a session of its own whose controlling terminal is the pty
        [sys.executable, "-m", "hub.cli", "users", "passwd", "sikkerhed", "--data-dir",
         str(data_dir)], stdin=follower, stdout=follower, stderr=follower,
        cwd=Path(__file__).resolve().parents[2], close_fds=True, start_new_session=True,
        preexec_fn=lambda: os.close(os.open(terminal, os.O_RDWR)))
    os.close(follower)
    seen = b""

    def answer(prompt: bytes, text: str) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        # Click writes the prompt, then getpass turns the echo off and writes one space.
        while not seen.endswith(prompt + b" "):
            assert time.monotonic() < deadline, seen
            if select.select([leader], [], [], 1)[0]:
                seen += os.read(leader, 1024)
        seen += b"\n"  # the next prompt is looked for after this one
        os.write(leader, text.encode() + b"\n")

    try:
        answer(b"password:", NEW_PASSWORD)
        answer(b"Repeat for confirmation:", NEW_PASSWORD + "x")  # a typo: asked again
        answer(b"password:", NEW_PASSWORD)
        answer(b"Repeat for confirmation:", NEW_PASSWORD)
        code = proc.wait(timeout=60)
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 1024)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    shown = seen.decode(errors="replace")
    assert code == 0, shown
    assert "do not match" in shown
    assert NEW_PASSWORD not in shown  # hidden input: never echoed
    store = store_of(data_dir)
    try:
        assert check_password(store, "sikkerhed", NEW_PASSWORD) is not None
    finally:
        store.close()


def test_a_disabled_principal_gets_no_session_through_oidc(
        oidc_hub: tuple[TestClient, Store]) -> None:
    from hub.web.sessions import SESSION_COOKIE
    from tests.unit.test_web_oidc import _through_idp

    client, store = oidc_hub
    store.set_disabled("konsulent-anne", True)
    try:
        refused = _through_idp(client, "anne")
    finally:
        store.set_disabled("konsulent-anne", False)

    assert refused.status_code == 403
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert _through_idp(client, "anne").status_code == 200  # enabled again: in
