"""What every ``ssp-hub`` sub-command module needs: settings from the options, and a failure
exit. Its own module, so that the sub-command modules need not import :mod:`hub.cli` (which
imports them)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.settings import Settings

if TYPE_CHECKING:
    from core.ledger.auditlog import AuditLog
    from core.store import Store

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the hub keeps state")]


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _operator() -> str:
    """Who runs this command, for the disclosure log: the login name (never a secret)."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _admin_log(settings: Settings, store: Store) -> AuditLog:
    """The disclosure log, signing checkpoints if the hub's keys are here (a hub whose keys
    live elsewhere, or not yet made, gets its entries covered by the next signer)."""
    from core.errors import HubError
    from core.ledger.auditlog import AuditLog
    from core.privacy.keys import provider_for

    try:
        ring = provider_for(settings, create=False).load()
    except (HubError, OSError):
        ring = None
    return AuditLog(store, ring, origin=settings.log_origin,
                    checkpoint_every=settings.checkpoint_every,
                    checkpoint_interval=settings.checkpoint_interval)
