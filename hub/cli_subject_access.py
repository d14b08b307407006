"""``ssp-hub audit subject-access CPR --out FILE``: a citizen's access answer, in Danish.

Give ``-`` as the CPR to read it from one line of standard input, so that the number is not
left in the shell's history. The CPR number is never printed, logged or echoed in an error.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.errors import HubError


def _default_officer() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only: it is about a person."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def subject_access(
    cpr: Annotated[str, typer.Argument(
        help="the person's CPR number, or - to read it from one line of standard input",
        show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="where to write the Danish HTML document")],
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where the hub keeps state")]
    = None,
    include_staff: Annotated[bool, typer.Option(
        "--include-staff", help="show staff names and their stated reasons")] = False,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="the security officer answering (default: $USER)")]
    = None,
) -> None:
    """Answer a citizen's access request: every disclosure about them, as a Danish document.

    The answer is itself recorded in the disclosure log (kind subject_access).
    """
    from core.ledger.auditlog import AuditLog
    from core.policy.evaluator import load_policy
    from core.privacy.keys import provider_for
    from core.store import Store
    from hub.cli_common import _fail, _settings
    from hub.subject_access import (
        answer_subject_access,
        municipality_of,
        render_document_da,
        subject_access_entry,
    )
    from schemas.cpr import InvalidCpr, normalise_cpr

    if cpr == "-":
        cpr = sys.stdin.readline().strip()
    try:
        cpr = normalise_cpr(cpr)
    except InvalidCpr:
        _fail("cpr: not a valid CPR number")
        return
    settings = _settings(data_dir)
    try:
        ring = provider_for(settings, create=False).load()
        policy = load_policy(settings.resolved_policy_file)
    except HubError as exc:
        _fail(str(exc))
        return
    store = Store.open(settings.resolved_database_url)
    try:
        answer = answer_subject_access(store, ring, policy, cpr, include_staff=include_staff)
        entry = subject_access_entry(answer, by or _default_officer(), "security_officer",
                                     policy, answer.generated_at)
        AuditLog(store, ring, origin=settings.log_origin,
                 checkpoint_every=settings.checkpoint_every,
                 checkpoint_interval=settings.checkpoint_interval).integrate([entry])
    finally:
        store.close()
    # Recorded before it is handed over: if the record fails, no document is written.
    _write_private(out, render_document_da(answer, municipality_title=municipality_of(policy),
                                           dpo_contact=settings.dpo_contact))
    typer.echo(f"{answer.count} entries about the person; the answer is logged")
    typer.echo(f"wrote {out}")
