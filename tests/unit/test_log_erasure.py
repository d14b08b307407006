"""The log allows erasure (issue 13 §9): a format 2 entry's body can be erased while its leaf
keeps the tree verifiable; the erasure is logged first; format 1 logs and exports still
verify."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from core.ledger import auditlog
from core.ledger.auditlog import AuditLog, erasure_entry, public_keys, verify_store
from core.ledger.entries import random_entry_id
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing
from core.store import Store
from hub.audit_export import canonical_json, export_log, verify_export
from hub.cli import app
from schemas.disclosures import STORED, EntryKind, LogEntry, leaf_bytes
from tests.unit.factories import SUBJECT_CPR
from tests.unit.test_audit_export import _run_script, _spec_script, key_b64, resign
from tests.unit.test_auditlog import entry_body, fill, forge_body, run_sql

AT = dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)


def _erase(log: AuditLog, seqs: list[int]) -> auditlog.EraseResult:
    log.integrate([erasure_entry(seqs, "Et CPR-nummer slap igennem scrubberen.", "søren",
                                 "security_officer")])
    return log.erase(seqs)


def _about(log: AuditLog, pseudonym: str) -> list[int]:
    return [int(i["seq"]) for i in log.page(pseudonyms=[pseudonym], limit=100).items]


def test_an_erased_entry_leaves_a_verifiable_log_and_no_content(store: Store,
                                                                keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=5)
    fill(log, 12)
    pseudonym = json.loads(entry_body(store, 7))["pseudonym"]
    root = log.state().root_hash

    result = _erase(log, [7])

    assert result.erased == [7]
    report = verify_store(store, public_keys(keyring))
    assert report.ok, report.summary()
    assert report.erased == 1
    assert "1 entries erased" in report.summary()
    assert AuditLog(store).leaf_hashes(12) == log.leaf_hashes(12)  # the tree is unchanged
    assert log.state().root_hash != root  # (only grown: by the erasure entry)
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT body, pseudonym, recipient, agency, event_id "
                                   "FROM disclosure_log WHERE seq = 7")).one()
        assert tuple(row) == (None, None, None, None, None)
        assert not conn.execute(sa.text("SELECT * FROM disclosure_log_subjects WHERE seq = 7"
                                        )).first()
    shown = next(i for i in log.page(limit=100).items if i["seq"] == 7)
    assert shown["erased"] is True
    assert "pseudonym" not in shown
    assert "necessity" not in shown
    assert 7 not in _about(log, pseudonym)
    erasure = log.page(kind="erasure", limit=5).items[0]
    assert erasure["details"] == {"log_entries": ["7"]}
    assert "pseudonym" not in erasure


def test_after_erasure_tampering_is_still_found(store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=5)
    fill(log, 12)
    _erase(log, [7])

    forge_body(store, 3, b"omraade", b"omraadE")  # another entry's content
    run_sql(store, "UPDATE disclosure_log SET entry = replace(entry, 'disclosure', "
                   "'consultation') WHERE seq = 7")  # the erased entry's leaf

    found = {(p.where, p.what) for p in verify_store(store, public_keys(keyring)).problems}
    assert ("entry 3", "modified") in found
    assert ("entry 7", "modified") in found
    assert ("checkpoint 5", "modified") in found


def test_a_body_removed_without_an_erasure_record_is_reported(store: Store,
                                                              keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=5)
    fill(log, 12)

    log.erase([4])  # no erasure entry first

    report = verify_store(store, public_keys(keyring))
    assert [(p.where, p.what) for p in report.problems] == [("entry 4", "modified")]
    assert "no erasure entry" in report.problems[0].message


def test_a_cpr_number_found_by_verify_can_be_erased(store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring)
    fill(log, 3)
    log.integrate([LogEntry.model_validate({
        "entry_id": random_entry_id(), "kind": "disclosure", "at": AT, "agency": "school",
        "necessity": "Far har nr. 15 06 11 41 23.", "pseudonym": "ssp1:" + "b" * 32},
        context=STORED)])
    assert [p.what for p in verify_store(store, public_keys(keyring)).problems] == \
        ["personal_data"]

    _erase(log, [3])

    assert verify_store(store, public_keys(keyring)).ok


def test_an_export_after_erasure_verifies_also_with_the_documented_script(
        store: Store, keyring: KeyRing, tmp_path: Path) -> None:
    log = AuditLog(store, keyring, checkpoint_every=5)
    fill(log, 12)
    _erase(log, [2, 7])

    doc = export_log(log, keyring)
    data = canonical_json(doc)

    assert [e["body"] is None for e in doc["entries"][:8]] == \
        [False, False, True, False, False, False, False, True]
    report = verify_export(data)
    assert report.ok, report.summary()
    assert report.erased == 2
    script = _run_script(_spec_script(tmp_path), data, key_b64(keyring), tmp_path)
    assert script.returncode == 0, script.stderr
    # Putting a changed body back where one was erased is found.
    forged = copy.deepcopy(doc)
    forged["entries"][2]["body"] = forged["entries"][3]["body"]
    assert ("entry 2", "modified") in {(p.where, p.what)
                                       for p in verify_export(resign(forged, keyring)).problems}


# -- format 1 ----------------------------------------------------------------------------------
def _format_1_log(store: Store, keyring: KeyRing, monkeypatch: pytest.MonkeyPatch,
                  count: int) -> AuditLog:
    """A log as the hub wrote it before format 2: the entry is its leaf, no body."""
    def old(entry: LogEntry, seq: int, now: dt.datetime, _salt: str) -> tuple[bytes, Any]:
        return leaf_bytes(entry, seq, now), None

    with monkeypatch.context() as m:
        m.setattr(auditlog, "sequence_entry", old)
        log = AuditLog(store, keyring, checkpoint_every=5)
        fill(log, count)
    return log


def test_a_format_1_log_and_its_exports_still_verify(store: Store, keyring: KeyRing,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    log = _format_1_log(store, keyring, monkeypatch, 8)
    fill(log, 4, start=8)  # then the hub is upgraded: format 2 from here on

    assert verify_store(store, public_keys(keyring)).ok
    items = log.page(limit=100, newest_first=False).items
    assert [i["v"] for i in items] == [1] * 8 + [2] * 4
    assert all("event_id" in i and "agency" in i for i in items)
    doc = export_log(log, keyring)
    assert verify_export(canonical_json(doc)).ok


def test_an_export_file_of_format_1_still_verifies(store: Store, keyring: KeyRing,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    log = _format_1_log(store, keyring, monkeypatch, 12)
    doc = export_log(log, keyring)
    # The file as the hub wrote it before format 2: no body member, format_version 1.
    old_file = {**doc, "format_version": 1,
                "entries": [{k: v for k, v in e.items() if k != "body"}
                            for e in doc["entries"]]}

    report = verify_export(resign(old_file, keyring))

    assert report.ok, report.summary()
    assert report.entries == 12
    with_body = copy.deepcopy(old_file)
    with_body["entries"][0]["body"] = None  # a format 1 file has no such member
    assert not verify_export(resign(with_body, keyring)).ok


def test_a_format_1_entry_is_not_erased(store: Store, keyring: KeyRing,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    log = _format_1_log(store, keyring, monkeypatch, 3)

    result = _erase(log, [1])

    assert (result.erased, result.version_1) == ([], [1])
    assert verify_store(store, public_keys(keyring)).ok


# -- the command and the API -------------------------------------------------------------------
def test_cli_audit_erase_by_cpr_erases_every_entry_about_the_person(tmp_path: Path) -> None:
    ring = FileKeyProvider(tmp_path / "keys.json", create=True).load()
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        pseudonym = Pseudonymiser(ring, "ssp")(SUBJECT_CPR)
        log = AuditLog(store, ring)
        fill(log, 4)
        log.integrate([LogEntry(entry_id=random_entry_id(), kind=EntryKind.disclosure, at=AT,
                                pseudonym=pseudonym, recipient="infohus",
                                recipient_type="queue") for _ in range(2)])
        assert len(_about(log, pseudonym)) == 2
    finally:
        store.close()

    result = CliRunner().invoke(app, ["audit", "erase", "--cpr", "-", "--reason",
                                      "Borgeren har fået medhold i en sletningsanmodning.",
                                      "--by", "søren", "--data-dir", str(tmp_path)],
                                input=SUBJECT_CPR + "\n")

    assert result.exit_code == 0, result.output
    assert "erased 2 entries' bodies" in result.output
    assert SUBJECT_CPR not in result.output
    verified = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path)])
    assert verified.exit_code == 0, verified.output
    assert "2 entries erased" in verified.output
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        assert _about(AuditLog(store), pseudonym) == []
    finally:
        store.close()


def test_cli_audit_erase_refuses_a_reason_with_a_cpr_number(tmp_path: Path) -> None:
    FileKeyProvider(tmp_path / "keys.json", create=True).load()
    Store.open(f"sqlite:///{tmp_path / 'hub.db'}").close()

    result = CliRunner().invoke(app, ["audit", "erase", "--seq", "0", "--reason",
                                      "Fejl i registreringen af 15.06.11-4123 i dag.",
                                      "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert "4123" not in result.output


def test_api_erase_is_for_security_officers_and_logs_first(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from core.ledger.disclosures import StoreSink
    from core.settings import Settings
    from hub.api import create_api
    from hub.auth import new_token
    from tests.unit.conftest import without_hub_environment

    with without_hub_environment():
        settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        try:
            fill(AuditLog(store, ring), 5)
            tokens = {"sikkerhed": new_token(), "konsulent": new_token()}
            store.add_principal("sikkerhed", "security_officer", (), tokens["sikkerhed"])
            store.add_principal("konsulent", "consultant", ("infohus",), tokens["konsulent"])
            with TestClient(create_api(settings, sink=StoreSink(AuditLog(store)))) as client:
                body = {"seqs": [1, 3, 99], "reason": "Et CPR-nummer slap igennem i fritekst."}
                refused = client.post("/api/v1/disclosures/erase", json=body, headers={
                    "Authorization": f"Bearer {tokens['konsulent']}"})
                assert refused.status_code == 403
                done = client.post("/api/v1/disclosures/erase", json=body, headers={
                    "Authorization": f"Bearer {tokens['sikkerhed']}"})
                assert done.status_code == 200, done.text
                assert done.json() == {"erased": [1, 3], "already": [], "version_1": [],
                                       "missing": [99]}
            report = verify_store(store, public_keys(ring))
            assert report.ok, report.summary()
            assert report.erased == 2
        finally:
            store.close()
