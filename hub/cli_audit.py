"""``ssp-hub audit …``: export and verify the disclosure log (DESIGN.md §6).

* ``audit export --out FILE [--from T] [--to T]`` signs a checkpoint and writes the log (or
  the entries logged in ``[from, to)``) as one signed, canonical JSON file with proofs
  (:mod:`hub.audit_export`, format in ``docs/disclosure-log.md``).
* ``audit verify [--file FILE]`` checks an export offline, or else the live log in the store.

Exit codes: 0 intact, 1 tampered (every problem is printed: which entry or checkpoint, what,
why), 2 usage errors (a missing file, key file or database; a malformed time or key).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from hub.auditlog import VerifyReport
    from hub.settings import Settings
    from hub.store import Store

audit_app = typer.Typer(no_args_is_help=True, help="The disclosure log: export, verify, "
                                                   "subject access.")

DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Where the hub keeps state")]


def parse_when(text: str) -> dt.datetime:
    """ISO 8601 date (midnight UTC) or date-time (UTC if it has no offset)."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time "
                         "(e.g. 2026-03-01 or 2026-03-01T12:00:00+01:00)") from exc
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _open_store(settings: Settings) -> Store:
    """The hub's store; refuses (exit 2) to conjure up an empty SQLite database."""
    from hub.cli import _fail
    from hub.store import Store

    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            _fail(f"no hub database at {path}; give the hub's --data-dir")
    return Store.open(url)


class _PinnedKey(Mapping[str, "Ed25519PublicKey"]):
    """One pinned public key standing in for every key id (live verify with --public-key)."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self.key = key

    def __getitem__(self, key_id: str) -> Ed25519PublicKey:
        return self.key

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __contains__(self, key_id: object) -> bool:
        return True


@audit_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="where to write the export (JSON)")],
    from_: Annotated[str | None, typer.Option(
        "--from", metavar="T", help="first logging time, ISO 8601 (a date means 00:00 UTC)")]
    = None,
    to: Annotated[str | None, typer.Option(
        "--to", metavar="T", help="end of the window (exclusive), ISO 8601")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Sign a checkpoint and export the disclosure log with its checkpoints and proofs."""
    from hub.audit_export import export_log, verify_export, write_export
    from hub.auditlog import AuditLog
    from hub.cli import _fail, _settings
    from hub.errors import HubError
    from hub.keys import FileKeyProvider

    try:
        start = parse_when(from_) if from_ is not None else None
        end = parse_when(to) if to is not None else None
    except ValueError as exc:
        _fail(str(exc))
        return
    if start is not None and end is not None and start >= end:
        _fail("--from must be before --to")
    settings = _settings(data_dir)
    try:
        ring = FileKeyProvider(settings.resolved_key_file, create=False).load()
    except HubError as exc:
        _fail(str(exc))
        return
    store = _open_store(settings)
    try:
        log = AuditLog(store, ring, origin=settings.log_origin,
                       checkpoint_every=settings.checkpoint_every,
                       checkpoint_interval=settings.checkpoint_interval)
        try:
            doc = export_log(log, ring, start=start, end=end)
        except ValueError as exc:
            typer.echo(f"error: the log cannot be exported: {exc}", err=True)
            raise typer.Exit(1) from exc
    finally:
        store.close()
    data = write_export(doc, out)
    header = doc["header"]
    typer.echo(f"exported {header['entry_count']} entries "
               + (f"({header['first_seq']}..{header['last_seq']}) "
                  if header["entry_count"] else "")
               + f"and {header['checkpoint_count']} checkpoints to {out}; "
               f"root {header['root_hash']} at size {header['tree_size']}")
    # The export is checked as an auditor would; a damaged store shows up here at once.
    report = verify_export(data)
    if not report.ok:
        _print_problems(report)
        raise typer.Exit(1)


def _print_problems(report: VerifyReport) -> None:
    typer.echo(f"TAMPERED: {len(report.problems)} problem(s)")
    for p in report.problems:
        typer.echo(f"  {p.where}: {p.what}: {p.message}")


@audit_app.command("verify")
def verify(
    file: Annotated[Path | None, typer.Option(
        "--file", help="an export to verify offline (else: the live log)")] = None,
    data_dir: DataDirOpt = None,
    public_key: Annotated[str | None, typer.Option(
        "--public-key", metavar="B64",
        help="the hub's Ed25519 public key (base64 of 32 raw bytes), obtained out of band")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Verify an export (--file) or the live log. Exit 0 only if intact, 1 if not."""
    from hub.audit_export import export_public_keys, verify_export
    from hub.auditlog import load_public_key, public_keys, verify_store
    from hub.cli import _fail, _settings
    from hub.errors import HubError
    from hub.keys import FileKeyProvider

    pinned = None
    if public_key is not None:
        try:
            pinned = load_public_key(public_key.strip())
        except ValueError:
            _fail("--public-key must be the base64 of a raw 32-byte Ed25519 public key")
            return
    note = None
    if file is not None:
        if not file.is_file():
            _fail(f"{file} does not exist or is not a file")
        try:
            data = file.read_bytes()
        except OSError as exc:
            _fail(f"{file} cannot be read ({exc.strerror})")
            return
        report = verify_export(data, pinned_key=public_key)
        if public_key is None:
            keys = ", ".join(f"{k} {v}" for k, v in sorted(export_public_keys(data).items()))
            note = (f"checked with the file's own key ({keys}); compare it with the hub's "
                    "published key, or pin it with --public-key")
    else:
        settings = _settings(data_dir)
        keys_by_id: Mapping[str, Ed25519PublicKey]
        if pinned is not None:
            keys_by_id = _PinnedKey(pinned)
        else:
            try:
                keys_by_id = public_keys(
                    FileKeyProvider(settings.resolved_key_file, create=False).load())
            except HubError as exc:
                _fail(f"{exc} (or give the hub's public key with --public-key)")
                return
        store = _open_store(settings)
        try:
            report = verify_store(store, keys_by_id)
        finally:
            store.close()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    elif report.ok:
        typer.echo(report.summary())
    else:
        _print_problems(report)
    if note and not as_json:
        typer.echo(note)
    raise typer.Exit(0 if report.ok else 1)
