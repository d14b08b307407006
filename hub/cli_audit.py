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

    from core.ledger.auditlog import VerifyReport
    from core.privacy.keys import KeyRing
    from core.settings import Settings
    from core.store import Store
    from schemas.disclosures import Checkpoint

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


def _load_ring(settings: Settings) -> KeyRing:
    """The hub's key ring; exit 2 with the reason (never a key) if it cannot be read."""
    from core.errors import HubError
    from core.privacy.keys import provider_for
    from hub.cli_common import _fail

    try:
        return provider_for(settings, create=False).load()
    except HubError as exc:
        _fail(str(exc))
        raise  # unreachable: _fail exits


def _open_store(settings: Settings) -> Store:
    """The hub's store; refuses (exit 2) to conjure up an empty SQLite database."""
    from core.store import Store
    from hub.cli_common import _fail

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
    from core.ledger.auditlog import AuditLog
    from hub.audit_export import export_log, verify_export, write_export
    from hub.cli_common import _fail, _settings

    try:
        start = parse_when(from_) if from_ is not None else None
        end = parse_when(to) if to is not None else None
    except ValueError as exc:
        _fail(str(exc))
        return
    if start is not None and end is not None and start >= end:
        _fail("--from must be before --to")
    settings = _settings(data_dir)
    ring = _load_ring(settings)
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


@audit_app.command("public-key")
def public_key(
    data_dir: DataDirOpt = None,
    all_versions: Annotated[bool, typer.Option(
        "--all", help="also the retired signing keys (old checkpoints verify with them)")]
    = False,
) -> None:
    """Print the log's Ed25519 checkpoint public key (PEM and base64) and its SHA-256
    fingerprint, for auditors to pin out of band (`audit verify --public-key`)."""
    from core.ledger.auditlog import current_key_id, key_fingerprint, public_key_b64, public_key_pem
    from core.ledger.auditlog import public_keys as ring_public_keys
    from hub.cli_common import _settings

    settings = _settings(data_dir)
    ring = _load_ring(settings)
    keys = ring_public_keys(ring)
    current = current_key_id(ring)
    shown = sorted(keys, key=lambda k: int(k.split(":")[1])) if all_versions else [current]
    for kid in shown:
        key = keys[kid]
        typer.echo(f"key id:      {kid}{' (current)' if kid == current else ' (retired)'}")
        typer.echo(f"fingerprint: {key_fingerprint(key)}")
        typer.echo(f"base64:      {public_key_b64(key)}")
        typer.echo(public_key_pem(key).rstrip("\n"))


UNPINNED = ("signatures checked against the log's own key only — pin with --public-key "
            "(a key obtained out of band) to know who signed it")


def _read_pins(values: list[str]) -> list[Ed25519PublicKey]:
    """Each --public-key: a file (PEM or base64) or the base64 itself."""
    from core.ledger.auditlog import load_public_key
    from hub.cli_common import _fail

    pins = []
    for value in values:
        text = value
        path = Path(value)
        try:
            if len(value) < 4096 and path.is_file():
                text = path.read_text("ascii")
        except (OSError, UnicodeDecodeError):
            _fail(f"--public-key file {path} cannot be read")
        try:
            pins.append(load_public_key(text))
        except ValueError:
            _fail("--public-key must be an Ed25519 public key: a file with its PEM or base64, "
                  "or the base64 of its 32 raw bytes")
    return pins


def _raw(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@audit_app.command("verify")
def verify(
    file: Annotated[Path | None, typer.Option(
        "--file", help="an export to verify offline (else: the live log)")] = None,
    data_dir: DataDirOpt = None,
    public_key: Annotated[list[str] | None, typer.Option(
        "--public-key", metavar="FILE|B64",
        help="pin the hub's Ed25519 public key (a PEM/base64 file from `ssp-hub audit "
             "public-key`, or the base64), obtained out of band; repeat it for retired keys")]
    = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", "--since", metavar="FILE",
        help="a checkpoint retained earlier (GET /api/v1/checkpoints/latest, or an earlier "
             "export): check that the log is an append-only extension of it")] = None,
    witness_key: Annotated[Path | None, typer.Option(
        "--witness-key", metavar="FILE", help="the witness's (DPO's) public key")] = None,
    cosigned: Annotated[Path | None, typer.Option(
        "--cosigned", metavar="FILE", help="a checkpoint the witness co-signed "
                                           "(`audit witness sign`): the log must extend it")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Verify an export (--file) or the live log. Exit 0 only if intact, 1 if not.

    Without --public-key the signatures are checked against the log's own key only: that
    proves the log is unchanged since it was signed, not who signed it (the exit code is
    still 0 if intact; the output says so). Pin the key to refuse a log signed by another.
    """
    from hub.audit_export import export_public_keys

    pins = _read_pins(public_key or [])
    retained = _read_retained(checkpoint, witness_key, cosigned)
    data = None
    if file is not None:
        data = _read_export(file)
        report = _verify_file(data, pins, retained)
    else:
        report = _verify_live(data_dir, pins, retained)
    pinned_note = None if pins else UNPINNED
    if pinned_note and data is not None:
        pinned_note += "; the file's own key(s): " + ", ".join(
            _shown_keys(export_public_keys(data)))
    if as_json:
        doc = report.as_dict()
        doc["key_pinned"] = bool(pins)
        if pinned_note:
            doc["note"] = pinned_note
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    elif report.ok:
        _print_intact(report, retained, pins, cosigned=cosigned is not None)
    else:
        _print_problems(report)
    if pinned_note and not as_json:
        typer.echo(pinned_note)
    raise typer.Exit(0 if report.ok else 1)


def _read_retained(checkpoint: Path | None, witness_key: Path | None,
                   cosigned: Path | None) -> Checkpoint | None:
    """The checkpoint the log must extend: a co-signed one (checked against the witness's
    key; a bad co-signature exits 1) or a retained one, or None."""
    from hub.audit_export import parse_retained_checkpoint
    from hub.cli_common import _fail

    retained = None
    if (witness_key is None) != (cosigned is None):
        _fail("--witness-key and --cosigned go together")
    if witness_key is not None and cosigned is not None:
        if checkpoint is not None:
            _fail("give either --checkpoint or --cosigned")
        from hub.witness import verify_cosigned

        [witness] = _read_pins([str(witness_key)])
        try:
            retained = verify_cosigned(cosigned.read_bytes(), witness)
        except OSError:
            _fail(f"--cosigned {cosigned} cannot be read")
        except ValueError as exc:
            typer.echo(f"TAMPERED: 1 problem(s)\n  witness: bad_signature: {exc}")
            raise typer.Exit(1) from exc
    if checkpoint is not None:
        try:
            retained = parse_retained_checkpoint(checkpoint.read_bytes())
        except OSError:
            _fail(f"--checkpoint {checkpoint} cannot be read")
        except ValueError as exc:
            _fail(str(exc))
    return retained


def _read_export(file: Path) -> bytes:
    from hub.cli_common import _fail

    if not file.is_file():
        _fail(f"{file} does not exist or is not a file")
    try:
        return file.read_bytes()
    except OSError as exc:
        _fail(f"{file} cannot be read ({exc.strerror})")
        raise  # _fail exits; this is never reached


def _verify_file(data: bytes, pins: list[Ed25519PublicKey],
                 retained: Checkpoint | None) -> VerifyReport:
    """An export checked offline (and against the retained checkpoint, if any)."""
    from core.ledger.auditlog import load_public_key, public_key_b64
    from hub.audit_export import (
        check_retained,
        export_checkpoints_and_leaves,
        export_public_keys,
        verify_export,
    )

    file_keys = export_public_keys(data)
    pinned_text = None
    if pins:
        # The pin that is one of the file's keys (else the first: the verifier refuses).
        matching = [p for p in pins
                    if public_key_b64(p) in file_keys.values()]
        pinned_text = public_key_b64((matching or pins)[-1])
    report = verify_export(data, pinned_key=pinned_text)
    if retained is not None and report.ok:
        cps, leaves = export_checkpoints_and_leaves(data)
        keys_by_id = _pinned_by_id(pins, {k: load_public_key(v)
                                          for k, v in file_keys.items()})
        check_retained(report, retained, keys_by_id, leaves, cps)
    return report


def _verify_live(data_dir: Path | None, pins: list[Ed25519PublicKey],
                 retained: Checkpoint | None) -> VerifyReport:
    """The live log in the store, checked against the key ring's (or the pinned) keys."""
    from core.errors import HubError
    from core.ledger.auditlog import AuditLog, public_keys, verify_store
    from core.privacy.keys import provider_for
    from hub.audit_export import check_retained
    from hub.cli_common import _fail, _settings

    settings = _settings(data_dir)
    ring_keys: dict[str, Ed25519PublicKey] = {}
    try:
        ring_keys = public_keys(provider_for(settings, create=False).load())
    except HubError as exc:
        if not pins:
            _fail(f"{exc} (or give the hub's public key with --public-key)")
    keys_by_id: Mapping[str, Ed25519PublicKey] = (
        _pinned_by_id(pins, ring_keys) if ring_keys or not pins else _PinnedKey(pins[0]))
    store = _open_store(settings)
    try:
        report = verify_store(store, keys_by_id)
        if retained is not None and report.ok:
            log = AuditLog(store)
            cps = {cp.tree_size: cp for cp in log.checkpoints()}
            check_retained(report, retained, keys_by_id,
                           log.leaf_hashes(log.state().size), cps)
    finally:
        store.close()
    return report


def _shown_keys(file_keys: Mapping[str, str]) -> list[str]:
    """An export's own keys as "id base64 (fingerprint)", for the unpinned note."""
    from core.ledger.auditlog import key_fingerprint, load_public_key

    shown = []
    for kid, text in sorted(file_keys.items()):
        try:
            shown.append(f"{kid} {text} ({key_fingerprint(load_public_key(text))})")
        except ValueError:
            continue
    return shown


def _print_intact(report: VerifyReport, retained: Checkpoint | None,
                  pins: list[Ed25519PublicKey], *, cosigned: bool) -> None:
    from core.ledger.auditlog import key_fingerprint

    typer.echo(report.summary())
    if retained is not None:
        typer.echo(f"consistent with the {'co-signed' if cosigned else 'retained'} "
                   f"checkpoint at size {retained.tree_size} "
                   f"(root {retained.root_hash[:16]}…): the log only grew since")
    if pins:
        typer.echo("signatures checked against the pinned key(s): "
                   + ", ".join(key_fingerprint(p) for p in pins))


def _pinned_by_id(pins: list[Ed25519PublicKey], known: Mapping[str, Ed25519PublicKey]
                  ) -> Mapping[str, Ed25519PublicKey]:
    """Without pins: the log's own keys. With pins: only the key ids whose key is pinned, so
    a checkpoint signed by any other key is refused ("signed with unknown key")."""
    if not pins:
        return known
    raws = {_raw(p) for p in pins}
    return {kid: key for kid, key in known.items() if _raw(key) in raws}


@audit_app.command("erase")
def erase(
    reason: Annotated[str, typer.Option(
        "--reason", help="why (logged): e.g. a CPR number slipped through, or an erasure "
                         "request (GDPR art. 17); no CPR number in it")],
    seq: Annotated[list[int] | None, typer.Option(
        "--seq", metavar="N", help="a log entry to erase (repeat for more)")] = None,
    cpr: Annotated[str | None, typer.Option(
        "--cpr", metavar="CPR|-", help="erase every entry about this person (- reads it from "
                                       "standard input, out of the shell's history)")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", metavar="NAME", help="the security officer erasing (default: $USER)")] = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Erase log entries' bodies (format 2): the leaf stays, so the log still verifies.

    The erasure is logged first, as an entry of its own naming the entries (no identity);
    `audit verify` reports a body that is gone without such a record.
    """
    import sys

    from core.ledger.auditlog import AuditLog, erasure_entry
    from hub.cli_common import _fail, _settings
    from hub.cli_subject_access import _default_officer
    from schemas.cpr import InvalidCpr, contains_cpr_like

    if not seq and cpr is None:
        _fail("name the entries with --seq N, or the person with --cpr")
    text = " ".join(reason.split())
    if len(text) < 20 or contains_cpr_like(text):
        _fail("--reason must be a sentence (20 characters or more) without a CPR number")
    settings = _settings(data_dir)
    ring = _load_ring(settings)
    store = _open_store(settings)
    try:
        seqs = set(seq or [])
        if cpr is not None:
            from hub.subject_access import pseudonyms_for_cpr

            if cpr == "-":
                cpr = sys.stdin.readline().strip()
            try:
                mine = pseudonyms_for_cpr(store, ring, cpr)
            except InvalidCpr:
                _fail("cpr: not a valid CPR number")
                return
            log = AuditLog(store)
            cursor = None
            while True:
                page = log.page(pseudonyms=sorted(mine), limit=1000, cursor=cursor)
                seqs |= {int(item["seq"]) for item in page.items
                         if not str(item.get("kind", "")).startswith("erasure")}
                cursor = page.next_cursor
                if cursor is None:
                    break
        if not seqs:
            typer.echo("no entries to erase")
            return
        log = AuditLog(store, ring, origin=settings.log_origin,
                       checkpoint_every=settings.checkpoint_every,
                       checkpoint_interval=settings.checkpoint_interval)
        # Recorded first: if the record fails, nothing is erased.
        log.integrate([erasure_entry(sorted(seqs), text, by or _default_officer(),
                                     "security_officer")])
        result = log.erase(seqs)
    finally:
        store.close()
    typer.echo(f"erased {len(result.erased)} entries' bodies; the log still verifies"
               + (f"; already erased: {len(result.already)}" if result.already else "")
               + (f"; not found: {', '.join(map(str, result.missing))}"
                  if result.missing else ""))
    if result.version_1:
        typer.echo(f"{len(result.version_1)} entries are format 1 (their body is their leaf) "
                   "and cannot be erased without breaking the tree: "
                   + ", ".join(map(str, result.version_1)))
        raise typer.Exit(1)


witness_app = typer.Typer(no_args_is_help=True, help="A second key (the DPO's) that co-signs "
                                                     "checkpoints (optional).")
audit_app.add_typer(witness_app, name="witness")


@witness_app.command("keygen")
def witness_keygen(
    out: Annotated[Path, typer.Option("--out", help="where to write the private key (PEM)")],
) -> None:
    """Make the witness's Ed25519 key: a 0600 PEM file the hub never sees."""
    import os

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    from core.ledger.auditlog import key_fingerprint, public_key_b64
    from hub.cli_common import _fail

    if out.exists():
        _fail(f"{out} exists already; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    pub = out.with_name(out.name + ".pub")
    pub.write_text(public_key_b64(key.public_key()) + "\n", encoding="ascii")
    typer.echo(f"wrote {out} (mode 600); keep it away from the hub")
    typer.echo(f"wrote {pub}: the public key, for auditors (`audit verify --witness-key`)")
    typer.echo(f"public key:  {public_key_b64(key.public_key())}")
    typer.echo(f"fingerprint: {key_fingerprint(key.public_key())}")


@witness_app.command("sign")
def witness_sign(
    key: Annotated[Path, typer.Option("--key", help="the witness's private key (PEM)")],
    checkpoint: Annotated[Path, typer.Option(
        "--checkpoint", metavar="FILE",
        help="the checkpoint to co-sign (GET /api/v1/checkpoints/latest, or an export)")],
    public_key: Annotated[str, typer.Option(
        "--public-key", metavar="FILE|B64", help="the hub's pinned public key")],
    out: Annotated[Path, typer.Option("--out", help="where to write the co-signed checkpoint")],
) -> None:
    """Check the hub's signature on a checkpoint with the pinned hub key, then co-sign it."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from core.ledger.auditlog import verify_checkpoint
    from hub.audit_export import parse_retained_checkpoint
    from hub.cli_common import _fail
    from hub.witness import cosign

    [pinned] = _read_pins([public_key])
    try:
        private = load_pem_private_key(key.read_bytes(), password=None)
        cp = parse_retained_checkpoint(checkpoint.read_bytes())
    except OSError as exc:
        _fail(f"cannot read {exc.filename}")
        return
    except ValueError as exc:
        _fail(str(exc) if "checkpoint" in str(exc) else "--key is not a PEM private key")
        return
    if not isinstance(private, Ed25519PrivateKey):
        _fail("--key must be an Ed25519 private key")
        return
    why = verify_checkpoint(cp, {cp.key_id: pinned})
    if why:
        _fail(f"the hub's signature on the checkpoint does not verify with the pinned key "
              f"({why}); not co-signed", code=1)
    out.write_text(json.dumps(cosign(cp, private), indent=2) + "\n", encoding="utf-8")
    typer.echo(f"co-signed the checkpoint at size {cp.tree_size} (root "
               f"{cp.root_hash[:16]}…) into {out}")
