"""``ssp-hub retention …``: delete expired concerns, erase identities, legal holds.

* ``retention run [--now ISO] [--dry-run]`` — one retention run (the worker also runs it every
  ``retention_interval`` seconds) and its report.
* ``retention hold PSEUDONYM --reason TEXT [--by NAME]`` — suspend retention for a person.
* ``retention release PSEUDONYM`` — lift the person's holds.
* ``retention holds`` — list the holds.

A pseudonym argument that is not shaped like one is refused without being echoed: it may be a
CPR number typed in the wrong place. A reason that holds personal data (a CPR number, a name, a
phone number, …; core/privacy/freetext.py) is refused too, naming what was found, never the value.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer

retention_app = typer.Typer(no_args_is_help=True, help="Retention, erasure and legal holds.")

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the hub keeps state")]
PseudonymArg = Annotated[str, typer.Argument(help="the person's pseudonym, e.g. ssp1:…")]


def _pseudonym(value: str) -> str:
    from core.privacy.crypto import PSEUDONYM_PATTERN
    from hub.cli_common import _fail

    if not PSEUDONYM_PATTERN.fullmatch(value):
        _fail("that is not a pseudonym (expected <domain><version>:<32 base32 characters>); "
              "the value is not repeated here because it may be personal data")
    return value


def _parse_now(text: str | None) -> dt.datetime:
    from hub.cli_common import _fail

    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        _fail("--now must be an ISO 8601 time, e.g. 2027-01-31T00:00:00+00:00")
        raise  # unreachable: _fail exits
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "cli"


@retention_app.command("run")
def run(
    data_dir: DataDirOpt = None,
    now: Annotated[str | None, typer.Option(
        "--now", help="pretend it is this time (ISO 8601; UTC if no offset)")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="report what would be deleted and erased; change nothing")] = False,
) -> None:
    """Delete expired concerns, erase identities with nothing left, log each erasure."""
    from core.errors import HubError
    from core.ledger.retention import run_retention
    from core.policy.evaluator import load_policy
    from core.privacy.keys import provider_for
    from core.store import Store
    from hub.cli_common import _fail, _settings

    settings = _settings(data_dir)
    when = _parse_now(now)
    try:
        policy = load_policy(settings.resolved_policy_file)
        ring = provider_for(settings, create=False).load()
    except HubError as exc:
        _fail(str(exc))
        return
    store = Store.open(settings.resolved_database_url)
    try:
        report = run_retention(store, policy, ring, now=when, dry_run=dry_run,
                               origin=settings.log_origin)
    finally:
        store.close()
    for line in report.lines():
        typer.echo(line)


@retention_app.command("hold")
def hold(
    pseudonym: PseudonymArg,
    reason: Annotated[str, typer.Option(
        "--reason", help="why (a case or journal number; no names, no CPR)")],
    by: Annotated[str | None, typer.Option(
        "--by", help="who places the hold (default: the login name)")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Suspend retention (deletion and erasure) for a person: all their pseudonyms."""
    from core.ledger.retention import place_hold
    from core.store import Store
    from hub.cli_common import _fail, _settings

    pseudonym = _pseudonym(pseudonym)
    if not reason.strip():
        _fail("--reason must not be empty")
    # The one free-text check (core/privacy/freetext.py): refused, not scrubbed, since the operator
    # can say it again without personal data; a case or journal number is what it should cite.
    from core.privacy.freetext import FreeText

    refusal = FreeText().refusal("hold_reason", reason, allow=("case_number",))
    if refusal is not None:
        _fail(f"--reason must not contain personal data; found: {', '.join(refusal.kinds)} "
              "(cite a case or journal number instead; the value is not repeated here)")
    principal = by or _login_name()
    store = Store.open(_settings(data_dir).resolved_database_url)
    try:
        if not store.pseudonym_known(pseudonym):
            _fail("no concern or vault entry has this pseudonym; check it and try again", 1)
        if not place_hold(store, pseudonym, reason.strip(), principal):
            typer.echo(f"{pseudonym} is held already")
            return
    finally:
        store.close()
    typer.echo(f"held {pseudonym} (and its aliases) by {principal}")


@retention_app.command("release")
def release(pseudonym: PseudonymArg, data_dir: DataDirOpt = None) -> None:
    """Lift the holds on a person (placed on this pseudonym or any of its aliases)."""
    from core.ledger.retention import release_hold
    from core.store import Store
    from hub.cli_common import _fail, _settings

    pseudonym = _pseudonym(pseudonym)
    store = Store.open(_settings(data_dir).resolved_database_url)
    try:
        released = release_hold(store, pseudonym)
    finally:
        store.close()
    if not released:
        _fail("no hold on this pseudonym or its aliases", 1)
    typer.echo(f"released {released} hold(s) on {pseudonym}; the next retention run catches "
               "up on what they suspended")


@retention_app.command("holds")
def list_holds(data_dir: DataDirOpt = None) -> None:
    """List the legal holds."""
    from core.ledger.retention import holds
    from core.store import Store
    from hub.cli_common import _settings

    store = Store.open(_settings(data_dir).resolved_database_url)
    try:
        rows = holds(store)
    finally:
        store.close()
    if not rows:
        typer.echo("no legal holds")
        return
    for row in rows:
        typer.echo(f"{row['pseudonym']}  since {row['created_at']:%Y-%m-%d %H:%M}Z  "
                   f"by {row['principal']}  reason: {row['reason']}")
