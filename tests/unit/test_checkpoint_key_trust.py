"""A checkpoint key an auditor can trust (issue 13 §8): the signing key apart from the data
keys, printed with its fingerprint, rotatable, pinned by `audit verify --public-key`, and a
new log checked against a checkpoint retained earlier (RFC 6962 consistency)."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.ledger.auditlog import AuditLog, checkpoint_json, public_key_b64, public_keys
from core.privacy.keys import FileKeyProvider, KeyRing, rotate_signing
from core.store import Store
from hub.audit_export import export_log, write_export
from hub.cli import app
from hub.cli_audit import UNPINNED
from tests.unit.test_auditlog import fill, make_entry, run_sql


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """`ssp-hub keys init`, then a log of 12 entries with checkpoints."""
    result = _cli("keys", "init", "--data-dir", tmp_path)
    assert result.exit_code == 0, result.output
    ring = _ring(tmp_path)
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        fill(AuditLog(store, ring, checkpoint_every=5), 12)
    finally:
        store.close()
    return tmp_path


def _ring(data_dir: Path) -> KeyRing:
    return FileKeyProvider(data_dir / "keys.json", create=False).load()


def _current_b64(data_dir: Path) -> str:
    ring = _ring(data_dir)
    return public_key_b64(public_keys(ring)[f"ed25519:{ring.current['ed25519']}"])


# -- the signing key is apart ------------------------------------------------------------------
def test_keys_init_keeps_the_signing_key_in_its_own_0600_file(data_dir: Path) -> None:
    data_keys = json.loads((data_dir / "keys.json").read_text())
    signing = json.loads((data_dir / "signing-key.json").read_text())

    assert "ed25519" not in data_keys
    assert "ed25519" not in data_keys["current"]
    assert set(signing) == {"format", "current", "seed", "public"}
    assert stat.S_IMODE((data_dir / "signing-key.json").stat().st_mode) == 0o600
    assert _ring(data_dir).signing_key()  # the ring still signs


def test_a_signing_key_file_others_can_read_is_refused(data_dir: Path) -> None:
    (data_dir / "signing-key.json").chmod(0o644)

    result = _cli("audit", "verify", "--data-dir", data_dir)

    assert result.exit_code == 2
    assert "chmod 600" in result.output


def test_a_key_file_from_before_the_split_still_works_and_rotation_moves_the_key_out(
        tmp_path: Path) -> None:
    from core.privacy.keys import _dump, new_keyring

    legacy = new_keyring()
    (tmp_path / "keys.json").write_text(_dump(legacy))
    (tmp_path / "keys.json").chmod(0o600)
    assert _ring(tmp_path).ed25519 == legacy.ed25519

    result = _cli("keys", "rotate", "--signing", "--data-dir", tmp_path)

    assert result.exit_code == 0, result.output
    assert "ed25519" not in json.loads((tmp_path / "keys.json").read_text())
    ring = _ring(tmp_path)
    assert ring.current["ed25519"] == 2
    assert set(public_keys(ring)) == {"ed25519:1", "ed25519:2"}
    assert ring.aes == legacy.aes
    assert ring.hmac == legacy.hmac


# -- printing it -------------------------------------------------------------------------------
def test_audit_public_key_prints_pem_base64_and_the_sha256_fingerprint(data_dir: Path) -> None:
    import base64

    result = _cli("audit", "public-key", "--data-dir", data_dir)

    assert result.exit_code == 0, result.output
    b64 = _current_b64(data_dir)
    fingerprint = "SHA256:" + hashlib.sha256(base64.b64decode(b64)).hexdigest()
    assert f"base64:      {b64}" in result.output
    assert f"fingerprint: {fingerprint}" in result.output
    assert "-----BEGIN PUBLIC KEY-----" in result.output
    assert "PRIVATE" not in result.output
    pem = re.search(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----", result.output,
                    re.DOTALL)
    assert pem
    (data_dir / "hub.pem").write_text(pem.group(0))
    pinned = _cli("audit", "verify", "--data-dir", data_dir, "--public-key",
                  data_dir / "hub.pem")
    assert pinned.exit_code == 0, pinned.output
    assert fingerprint in pinned.output
    assert UNPINNED not in pinned.output


# -- pinning -----------------------------------------------------------------------------------
def _resign_with_a_new_key(data_dir: Path) -> None:
    """What someone holding the key files can do: swap in their own key and re-sign."""
    from core.privacy.keys import _dump_signing

    ring = _ring(data_dir)
    forged = rotate_signing(ring)
    forged = type(forged)(hmac=forged.hmac, aes=forged.aes, ed25519={1: forged.ed25519[2]},
                          current={**forged.current, "ed25519": 1})
    (data_dir / "signing-key.json").write_text(_dump_signing(forged))
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        run_sql(store, "DELETE FROM checkpoints")
        AuditLog(store, _ring(data_dir)).checkpoint(force=True)
    finally:
        store.close()


def test_without_a_pin_a_re_signed_log_is_intact_but_the_output_says_what_that_means(
        data_dir: Path) -> None:
    _resign_with_a_new_key(data_dir)

    result = _cli("audit", "verify", "--data-dir", data_dir)

    assert result.exit_code == 0
    assert result.output.startswith("intact")
    assert UNPINNED in result.output


def test_a_pinned_key_refuses_a_log_signed_by_another(data_dir: Path) -> None:
    (data_dir / "hub.pub").write_text(_current_b64(data_dir) + "\n")
    out = data_dir / "export.json"
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        write_export(export_log(AuditLog(store, _ring(data_dir)), _ring(data_dir)), out)
    finally:
        store.close()
    assert _cli("audit", "verify", "--file", out, "--public-key",
                data_dir / "hub.pub").exit_code == 0

    _resign_with_a_new_key(data_dir)

    live = _cli("audit", "verify", "--data-dir", data_dir, "--public-key", data_dir / "hub.pub")
    assert live.exit_code == 1, live.output
    assert "bad_signature" in live.output
    forged_out = data_dir / "forged.json"
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        write_export(export_log(AuditLog(store, _ring(data_dir)), _ring(data_dir)), forged_out)
    finally:
        store.close()
    offline = _cli("audit", "verify", "--file", forged_out, "--public-key",
                   data_dir / "hub.pub")
    assert offline.exit_code == 1, offline.output
    assert "not the pinned public key" in offline.output


# -- rotation ----------------------------------------------------------------------------------
def test_keys_rotate_signing_keeps_old_checkpoints_verifiable(data_dir: Path) -> None:
    old_b64 = _current_b64(data_dir)
    old_seed = json.loads((data_dir / "signing-key.json").read_text())["seed"]

    result = _cli("keys", "rotate", "--signing", "--data-dir", data_dir)

    assert result.exit_code == 0, result.output
    assert "ed25519:2" in result.output
    signing = json.loads((data_dir / "signing-key.json").read_text())
    assert signing["current"] == 2
    assert signing["seed"] != old_seed  # the old private key is gone…
    assert signing["public"]["1"] == old_b64  # …its public key stays
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        ring = _ring(data_dir)
        log = AuditLog(store, ring, checkpoint_every=5)
        fill(log, 6, start=12)
        cps = log.checkpoints()
        assert {cp.key_id for cp in cps} == {"ed25519:1", "ed25519:2"}
        out = data_dir / "export.json"
        write_export(export_log(log, ring), out)
    finally:
        store.close()
    (data_dir / "old.pub").write_text(old_b64)
    (data_dir / "new.pub").write_text(_current_b64(data_dir))
    live = _cli("audit", "verify", "--data-dir", data_dir, "--public-key", data_dir / "old.pub",
                "--public-key", data_dir / "new.pub")
    assert live.exit_code == 0, live.output
    offline = _cli("audit", "verify", "--file", out, "--public-key", data_dir / "new.pub")
    assert offline.exit_code == 0, offline.output
    only_old = _cli("audit", "verify", "--data-dir", data_dir, "--public-key",
                    data_dir / "old.pub")
    assert only_old.exit_code == 1  # the new checkpoints are not signed by the pinned key


# -- consistency with a retained checkpoint ------------------------------------------------------
def _retain(data_dir: Path) -> Path:
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        log = AuditLog(store, _ring(data_dir))
        cp = log.checkpoint(force=True) or log.latest_checkpoint()
        assert cp is not None
        path = data_dir / "retained.json"
        path.write_text(json.dumps(checkpoint_json(cp)))
        fill(log, 7, start=12)  # the log grows afterwards
        log.checkpoint(force=True)
    finally:
        store.close()
    return path


def test_a_grown_log_is_consistent_with_a_retained_checkpoint(data_dir: Path) -> None:
    retained = _retain(data_dir)
    out = data_dir / "new.json"
    assert _cli("audit", "export", "--out", out, "--data-dir", data_dir).exit_code == 0

    choices: list[list[str | Path]] = [["--file", out], ["--data-dir", data_dir]]
    for args in choices:
        result = _cli("audit", "verify", *args, "--checkpoint", retained)
        assert result.exit_code == 0, result.output
        assert "consistent with the retained checkpoint at size 12" in result.output


def test_a_rewritten_log_is_refused_against_a_retained_checkpoint(data_dir: Path) -> None:
    retained = _retain(data_dir)
    # Someone with the keys rewrites entry 3 and rebuilds the whole log, re-signed: it is
    # intact on its own, but not an extension of what the auditor saw before.
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        entries = [make_entry(i) for i in range(19)]
        entries[3] = make_entry(103)
        for sql in ("DELETE FROM disclosure_log_subjects", "DELETE FROM disclosure_log",
                    "DELETE FROM checkpoints", "DELETE FROM log_state"):
            run_sql(store, sql)
        log = AuditLog(store, _ring(data_dir), checkpoint_every=5)
        for entry in entries:
            log.integrate([entry])
        log.checkpoint(force=True)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM disclosure_log")).scalar() == 19
    finally:
        store.close()
    out = data_dir / "rewritten.json"
    assert _cli("audit", "export", "--out", out, "--data-dir", data_dir).exit_code == 0
    assert _cli("audit", "verify", "--file", out).exit_code == 0  # intact on its own

    choices: list[list[str | Path]] = [["--file", out], ["--data-dir", data_dir]]
    for args in choices:
        result = _cli("audit", "verify", *args, "--checkpoint", retained)
        assert result.exit_code == 1, result.output
        assert "retained checkpoint 12: inconsistent" in result.output


def test_an_earlier_export_serves_as_the_retained_checkpoint(data_dir: Path) -> None:
    first = data_dir / "first.json"
    assert _cli("audit", "export", "--out", first, "--data-dir", data_dir).exit_code == 0
    _retain(data_dir)
    second = data_dir / "second.json"
    assert _cli("audit", "export", "--out", second, "--data-dir", data_dir).exit_code == 0

    result = _cli("audit", "verify", "--file", second, "--since", first)

    assert result.exit_code == 0, result.output
    assert "consistent with the retained checkpoint" in result.output
