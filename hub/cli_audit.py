"""``ssp-hub audit …``: export and verify the disclosure log (filled in by issue 4)."""

from __future__ import annotations

import typer

audit_app = typer.Typer(no_args_is_help=True, help="The disclosure log: export, verify, "
                                                   "subject access.")
