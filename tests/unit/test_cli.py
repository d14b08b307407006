"""The ``ssp-hub`` command line (DESIGN.md §6, issue 2 items 3 and 7)."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.testing import CliRunner

from core.settings import Settings
from core.store import Store
from hub.cli import app
from tests.unit.factories import DATA, SHIPPED_POLICY

ROLES = ("agency:school", "agency:social", "agency:police", "consultant", "security_officer",
         "admin")
TOKEN_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _invoke(runner: CliRunner, *args: str | Path) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def _add(runner: CliRunner, data_dir: Path, name: str, *options: str) -> Any:
    return _invoke(runner, "users", "add", name, *options, "--data-dir", data_dir)


def _store(data_dir: Path) -> Store:
    return Store.open(Settings(data_dir=data_dir).resolved_database_url)


# -- users add -----------------------------------------------------------------------------
def test_users_add_prints_the_token_as_the_last_line(runner: CliRunner, tmp_path: Path) -> None:
    result = _add(runner, tmp_path, "konsulent", "--role", "consultant", "--queue", "beredskab")

    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    store = _store(tmp_path)
    try:
        principal = store.principal_by_token(token)
    finally:
        store.close()
    assert principal is not None
    assert (principal.name, principal.role, principal.queues) == (
        "konsulent", "consultant", ("beredskab",))


def test_users_add_to_a_data_dir_that_does_not_exist_creates_nothing(
        runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "tast-fejl"
    result = _add(runner, missing, "konsulent", "--role", "consultant", "--queue", "beredskab")

    assert result.exit_code == 2
    assert "no hub data dir at" in result.output
    assert "--data-dir" in result.output
    assert not missing.exists()


def test_users_list_shows_names_roles_queues_and_logins_never_tokens(
        runner: CliRunner, tmp_path: Path) -> None:
    token = _add(runner, tmp_path, "skole", "--role", "agency:school").output.split()[-1]
    _add(runner, tmp_path, "konsulent", "--role", "consultant", "--queue", "beredskab",
         "--queue", "infohus")

    result = _invoke(runner, "users", "list", "--data-dir", tmp_path)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "ROLE", "LOGIN", "DISABLED", "QUEUES"]
    assert lines[1].split() == ["konsulent", "consultant", "no", "no", "beredskab,infohus"]
    assert lines[2].split() == ["skole", "agency:school", "no", "no", "-"]
    assert token not in result.output


def test_users_add_token_has_at_least_128_bits_of_entropy(runner: CliRunner,
                                                          tmp_path: Path) -> None:
    tokens = [
        _add(runner, tmp_path, f"skole-{i}", "--role", "agency:school").output.splitlines()[-1]
        for i in range(3)
    ]

    assert len(set(tokens)) == 3
    for token in tokens:
        body = token.removeprefix("ssp_")
        assert TOKEN_ALPHABET.match(body), "URL-safe base64 alphabet (6 bits a character)"
        assert len(body) * 6 >= 128


def test_users_add_accepts_several_queues(runner: CliRunner, tmp_path: Path) -> None:
    result = _add(runner, tmp_path, "k", "--role", "consultant", "--queue", "infohus",
                  "--queue", "omraade-stege")

    assert result.exit_code == 0, result.output
    store = _store(tmp_path)
    try:
        principal = store.principal_by_token(result.output.splitlines()[-1])
    finally:
        store.close()
    assert principal is not None
    assert principal.queues == ("infohus", "omraade-stege")


@pytest.mark.parametrize("role", ROLES)
def test_users_add_accepts_every_contract_role(runner: CliRunner, tmp_path: Path,
                                               role: str) -> None:
    queues = ("--queue", "beredskab") if role == "consultant" else ()  # consultants need one
    result = _add(runner, tmp_path, "someone", "--role", role, *queues)

    assert result.exit_code == 0, result.output


def test_users_add_with_unknown_role_fails_and_lists_the_roles(runner: CliRunner,
                                                               tmp_path: Path) -> None:
    result = _add(runner, tmp_path, "x", "--role", "wizard")

    assert result.exit_code != 0
    assert "wizard" in result.output
    for role in ROLES:
        assert role in result.output
    assert not (tmp_path / "hub.db").exists() or _no_principals(tmp_path)


def _no_principals(data_dir: Path) -> bool:
    store = _store(data_dir)
    try:
        return store.principal_by_token("anything") is None
    finally:
        store.close()


@pytest.mark.parametrize("queue", ["hemmelig", "cases.beredskab", "BEREDSKAB"])
def test_users_add_with_unknown_queue_fails(runner: CliRunner, tmp_path: Path,
                                            queue: str) -> None:
    result = _add(runner, tmp_path, "k", "--role", "consultant", "--queue", queue)

    assert result.exit_code != 0
    assert queue in result.output


def test_users_add_refuses_a_second_principal_of_the_same_name(runner: CliRunner,
                                                               tmp_path: Path) -> None:
    assert _add(runner, tmp_path, "dup", "--role", "admin").exit_code == 0

    again = _add(runner, tmp_path, "dup", "--role", "admin")

    assert again.exit_code != 0
    assert "dup" in again.output


def test_users_add_stores_no_token_in_clear(runner: CliRunner, tmp_path: Path) -> None:
    token = _add(runner, tmp_path, "a", "--role", "admin").output.splitlines()[-1]

    blob = b"".join(f.read_bytes() for f in tmp_path.glob("hub.db*"))
    assert blob
    assert token.encode() not in blob


# -- keys init -----------------------------------------------------------------------------
def test_keys_init_writes_a_0600_key_file_once(runner: CliRunner, tmp_path: Path) -> None:
    first = _invoke(runner, "keys", "init", "--data-dir", tmp_path)

    assert first.exit_code == 0, first.output
    key_file = tmp_path / "keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    before = key_file.read_bytes()

    second = _invoke(runner, "keys", "init", "--data-dir", tmp_path)

    assert second.exit_code != 0
    assert key_file.read_bytes() == before
    assert before.decode() not in first.output + second.output


# -- policy test ---------------------------------------------------------------------------
def test_policy_test_passes_on_the_shipped_policy(runner: CliRunner) -> None:
    result = _invoke(runner, "policy", "test")

    assert result.exit_code == 0, result.output
    assert "passed" in result.output
    assert "0 failed" in result.output
    assert "FAIL" not in result.output
    assert "absence-unexcused-days" in result.output  # the signal rules' examples too


def test_policy_test_fails_on_a_wrong_signal_example(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    doc["signals"][0]["examples"][0]["expect"]["concerns"] = 3
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    result = _invoke(runner, "policy", "test", path)

    assert result.exit_code == 1
    assert "concerns:3" in result.output
    assert "FAIL" in result.output


def test_policy_test_takes_a_file(runner: CliRunner) -> None:
    result = _invoke(runner, "policy", "test", DATA / "psp-policy.yaml")

    assert result.exit_code == 0, result.output
    assert "psp-variant" in result.output


def test_policy_test_on_a_broken_policy_fails_naming_the_rule(runner: CliRunner,
                                                              tmp_path: Path) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    doc["rules"][2]["queues"] = ["nowhere"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    result = _invoke(runner, "policy", "test", broken)

    assert result.exit_code != 0
    assert doc["rules"][2]["id"] in result.output


def test_policy_test_fails_when_an_example_fails(runner: CliRunner, tmp_path: Path) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    doc["rules"][2]["examples"][0]["expect"]["queues"] = ["beredskab"]
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    result = _invoke(runner, "policy", "test", wrong)

    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "1 failed" in result.output


def test_policy_test_on_a_missing_file_fails(runner: CliRunner, tmp_path: Path) -> None:
    assert _invoke(runner, "policy", "test", tmp_path / "absent.yaml").exit_code != 0


# -- the pinned public surface -------------------------------------------------------------
def _commands(group: TyperGroup, prefix: str = "") -> dict[str, TyperCommand]:
    found: dict[str, TyperCommand] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, TyperGroup):
            found.update(_commands(command, path + " "))
        else:
            assert isinstance(command, TyperCommand)
            found[path] = command
    return found


def _options(command: TyperCommand) -> set[str]:
    return {opt for p in command.params if isinstance(p, TyperOption) for opt in p.opts}


CONTRACT_COMMANDS: dict[str, set[str]] = {
    "users add": {"--role", "--queue", "--data-dir", "--password"},
    "keys init": {"--data-dir"},
    "keys rotate": {"--data-dir"},
    "policy test": set(),
    "worker": {"--data-dir"},
    "api": {"--data-dir", "--port"},
    "demo": {"--no-sample-data", "--port", "--data-dir"},
    "audit export": {"--out", "--from", "--to", "--data-dir"},
    "audit verify": {"--file", "--data-dir"},
    "audit subject-access": {"--out", "--data-dir"},
    "retention run": {"--data-dir"},
    "retention hold": {"--reason", "--data-dir"},
    "retention release": {"--data-dir"},
    "connector watch": {"--connector"},
    "connector kafka": {"--connector", "--topic"},
    "scrub": {"--known-name", "--json"},
}


def test_cli_public_surface_is_pinned() -> None:
    """DESIGN.md §6: other tools rely on these names. Renaming one must be deliberate."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    commands = _commands(root)

    for name, options in CONTRACT_COMMANDS.items():
        assert name in commands, f"`ssp-hub {name}` is part of the contract"
        assert options <= _options(commands[name]), f"`ssp-hub {name}` lost an option"


def test_console_script_is_ssp_hub() -> None:
    import importlib.metadata

    scripts = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="console_scripts")}

    assert scripts.get("ssp-hub") == "hub.cli:main"


def test_users_add_with_password_makes_a_web_login(runner: CliRunner, tmp_path: Path) -> None:
    from hub.web.sessions import check_password

    secret = "en lang nok adgangskode"
    result = runner.invoke(app, ["users", "add", "sikker", "--role", "security_officer",
                                 "--password", "--data-dir", str(tmp_path)],
                           input=f"{secret}\n{secret}\n")
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    store = _store(tmp_path)
    try:
        principal = check_password(store, "sikker", secret)
        assert principal is not None
        assert principal.role == "security_officer"
        assert check_password(store, "sikker", secret + "x") is None
    finally:
        store.close()
    short = runner.invoke(app, ["users", "add", "kort", "--role", "consultant", "--queue",
                                "beredskab", "--password", "--data-dir", str(tmp_path)],
                          input="kort\n")
    assert short.exit_code == 2
    assert "at least 8 characters" in short.output
