"""What every ``ssp-hub`` sub-command module needs: settings from the options, and a failure
exit. Its own module, so that the sub-command modules need not import :mod:`hub.cli` (which
imports them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from core.settings import Settings

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the hub keeps state")]


def _settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
