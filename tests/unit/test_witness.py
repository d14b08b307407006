"""Optional witness (issue 13 §8): a checkpoint co-signed by the DPO's own key pins the log's
state; a log rebuilt and re-signed with the hub's keys no longer extends it."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from core.ledger.auditlog import AuditLog, checkpoint_json, public_key_b64, public_keys
from core.privacy.keys import FileKeyProvider
from core.store import Store
from hub.cli import app
from tests.unit.test_auditlog import fill, make_entry, run_sql


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A hub data dir with a log, the hub's pinned key, and a checkpoint the DPO co-signed."""
    data = tmp_path / "data"
    assert _cli("keys", "init", "--data-dir", data).exit_code == 0
    ring = FileKeyProvider(data / "keys.json", create=False).load()
    (tmp_path / "hub.pub").write_text(public_key_b64(public_keys(ring)["ed25519:1"]))
    store = Store.open(f"sqlite:///{data / 'hub.db'}")
    try:
        log = AuditLog(store, ring, checkpoint_every=5)
        fill(log, 12)
        cp = log.checkpoint(force=True)
        assert cp is not None
        (tmp_path / "cp.json").write_text(json.dumps(checkpoint_json(cp)))
        fill(log, 5, start=12)
        log.checkpoint(force=True)
    finally:
        store.close()
    made = _cli("audit", "witness", "keygen", "--out", tmp_path / "dpo.key")
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE((tmp_path / "dpo.key").stat().st_mode) == 0o600
    signed = _cli("audit", "witness", "sign", "--key", tmp_path / "dpo.key", "--checkpoint",
                  tmp_path / "cp.json", "--public-key", tmp_path / "hub.pub", "--out",
                  tmp_path / "cosigned.json")
    assert signed.exit_code == 0, signed.output
    return data, tmp_path / "dpo.key.pub", tmp_path / "cosigned.json"


def test_a_log_that_extends_the_cosigned_checkpoint_verifies(tmp_path: Path) -> None:
    data, witness, cosigned = _setup(tmp_path)

    result = _cli("audit", "verify", "--data-dir", data, "--public-key", tmp_path / "hub.pub",
                  "--witness-key", witness, "--cosigned", cosigned)

    assert result.exit_code == 0, result.output
    assert "consistent with the co-signed checkpoint at size 12" in result.output


def test_a_log_rebuilt_with_the_hubs_own_keys_fails_against_the_witness(tmp_path: Path) -> None:
    data, witness, cosigned = _setup(tmp_path)
    ring = FileKeyProvider(data / "keys.json", create=False).load()
    store = Store.open(f"sqlite:///{data / 'hub.db'}")
    try:
        for sql in ("DELETE FROM disclosure_log_subjects", "DELETE FROM disclosure_log",
                    "DELETE FROM checkpoints", "DELETE FROM log_state"):
            run_sql(store, sql)
        log = AuditLog(store, ring, checkpoint_every=5)
        log.integrate([make_entry(100 if i == 2 else i) for i in range(17)])
        log.checkpoint(force=True)
    finally:
        store.close()
    pinned_only = _cli("audit", "verify", "--data-dir", data, "--public-key",
                       tmp_path / "hub.pub")
    assert pinned_only.exit_code == 0  # the hub's key alone cannot tell

    result = _cli("audit", "verify", "--data-dir", data, "--public-key", tmp_path / "hub.pub",
                  "--witness-key", witness, "--cosigned", cosigned)

    assert result.exit_code == 1, result.output
    assert "inconsistent" in result.output


def test_a_forged_cosignature_is_refused(tmp_path: Path) -> None:
    data, witness, cosigned = _setup(tmp_path)
    doc = json.loads(cosigned.read_text())
    doc["root_hash"] = "0" * 64
    cosigned.write_text(json.dumps(doc))

    result = _cli("audit", "verify", "--data-dir", data, "--witness-key", witness,
                  "--cosigned", cosigned)

    assert result.exit_code == 1
    assert "witness: bad_signature" in result.output


def test_the_witness_refuses_to_cosign_a_checkpoint_the_hub_key_did_not_sign(
        tmp_path: Path) -> None:
    _setup(tmp_path)
    doc = json.loads((tmp_path / "cp.json").read_text())
    doc["tree_size"] += 1
    (tmp_path / "cp.json").write_text(json.dumps(doc))

    result = _cli("audit", "witness", "sign", "--key", tmp_path / "dpo.key", "--checkpoint",
                  tmp_path / "cp.json", "--public-key", tmp_path / "hub.pub", "--out",
                  tmp_path / "again.json")

    assert result.exit_code == 1
    assert not (tmp_path / "again.json").exists()
