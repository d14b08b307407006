"""``ssp-hub retention …``: delete expired concerns, erase identities, legal holds."""

from __future__ import annotations

import typer

retention_app = typer.Typer(no_args_is_help=True, help="Retention, erasure and legal holds.")
