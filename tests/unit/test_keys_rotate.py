"""Key rotation and pseudonym domains (issue 3 §2): new versions for new events, the joint
view unbroken through the vault, and a hub that refuses to start on a damaged key file."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.errors import KeyFileError
from core.policy.evaluator import Policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing, new_keyring, rotate_keyring
from core.privacy.vault import Identity, Vault, rekey
from core.settings import Settings
from core.store import Store
from hub.cli import app as cli
from streams.pipeline import Pipeline, Routed
from tests.unit.factories import (
    GUARDIAN_CPR,
    GUARDIAN_NAME,
    SUBJECT_CPR,
    SUBJECT_NAME,
    make_event,
    record_for,
)

OTHER_CPR = "1503124567"  # born 2012-03-15


def _two_domain_ring() -> KeyRing:
    base = new_keyring()
    return KeyRing(hmac={"ssp": {1: os.urandom(32)}, "psp": {1: os.urandom(32)}},
                   aes=base.aes, ed25519=base.ed25519,
                   current={"aes": 1, "ed25519": 1, "hmac:ssp": 1, "hmac:psp": 1})


def _concern(pseudonym: str, queue: str, occurred_at: dt.datetime,
             agency: str = "school") -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    payload = {"event_id": event_id, "queue": queue, "pseudonym": pseudonym,
               "occurred_at": occurred_at.isoformat(), "source": {"agency": agency}}
    return {"event_id": event_id, "queue": queue, "pseudonym": pseudonym,
            "payload": json.dumps(payload), "occurred_at": occurred_at}


# -- the key ring ----------------------------------------------------------------------------
def test_rotation_adds_a_version_to_every_domain_and_the_aes_key() -> None:
    ring = _two_domain_ring()

    rotated = rotate_keyring(ring)

    assert rotated.current == {"aes": 2, "ed25519": 1, "hmac:ssp": 2, "hmac:psp": 2}
    for domain in ("ssp", "psp"):
        assert rotated.hmac[domain][1] == ring.hmac[domain][1]  # the old version stays
        assert rotated.hmac[domain][2] != ring.hmac[domain][1]
    assert rotated.aes[1] == ring.aes[1]
    assert len(rotated.aes[2]) == 32
    assert rotated.ed25519 == ring.ed25519
    assert ring.current["hmac:ssp"] == 1  # the input is not modified


def test_new_events_get_the_next_version_after_rotation(keyring: KeyRing) -> None:
    rotated = rotate_keyring(rotate_keyring(keyring))

    assert Pseudonymiser(keyring, "ssp")(SUBJECT_CPR).startswith("ssp1:")
    assert Pseudonymiser(rotated, "ssp")(SUBJECT_CPR).startswith("ssp3:")
    assert Pseudonymiser(rotated, "ssp", 1)(SUBJECT_CPR) == Pseudonymiser(keyring, "ssp")(
        SUBJECT_CPR)
    assert PayloadCipher(rotated).key_id == "aes:3"


def test_pipeline_on_a_rotated_ring_routes_with_the_new_version_and_reads_old_payloads(
        keyring: KeyRing, shipped_policy: Policy) -> None:
    old_record = record_for(PayloadCipher(keyring), make_event("school"))
    rotated = rotate_keyring(keyring)
    pipeline = Pipeline(PayloadCipher(rotated), Pseudonymiser(rotated, "ssp"), shipped_policy)

    for record in (old_record, record_for(PayloadCipher(rotated), make_event("school"))):
        result = pipeline.process(record)
        assert isinstance(result, Routed)
        assert {(c.pseudonym or "").split(":")[0] for c in result.concerns} == {"ssp2"}


def test_two_domains_give_unlinkable_pseudonyms_for_the_same_cpr() -> None:
    ring = _two_domain_ring()
    ssp, psp = Pseudonymiser(ring, "ssp"), Pseudonymiser(ring, "psp")

    in_ssp, in_psp = ssp(SUBJECT_CPR), psp(SUBJECT_CPR)

    assert in_ssp.split(":")[1] != in_psp.split(":")[1]
    # Neither domain's key yields the other's pseudonym for any version either.
    rotated = rotate_keyring(ring)
    assert Pseudonymiser(rotated, "ssp")(SUBJECT_CPR).split(":")[1] != \
        Pseudonymiser(rotated, "psp")(SUBJECT_CPR).split(":")[1]
    assert in_psp.split(":")[1] not in {Pseudonymiser(rotated, "ssp", v)(SUBJECT_CPR)
                                        .split(":")[1] for v in (1, 2)}


def test_rotated_ring_survives_the_key_file(tmp_path: Path, keyring: KeyRing) -> None:
    provider = FileKeyProvider(tmp_path / "keys.json", create=True)
    provider.write(keyring)

    old, new = provider.rotate()
    loaded = provider.load()

    assert old.current["hmac:ssp"] == 1
    assert loaded.current == new.current == {**keyring.current, "hmac:ssp": 2, "aes": 2}
    assert loaded.hmac == new.hmac
    assert loaded.aes == new.aes


# -- re-keying through the vault -------------------------------------------------------------
def test_rekey_links_old_and_new_pseudonyms_both_ways(store: Store, keyring: KeyRing) -> None:
    old_p = Pseudonymiser(keyring, "ssp")
    Vault(store, keyring).put([Identity(old_p(SUBJECT_CPR), SUBJECT_CPR, SUBJECT_NAME),
                               Identity(old_p(GUARDIAN_CPR), GUARDIAN_CPR, GUARDIAN_NAME)])
    rotated = rotate_keyring(keyring)
    new_p = Pseudonymiser(rotated, "ssp")

    report = rekey(store, rotated)

    assert (report.entries, report.new_entries, report.links, report.skipped) == (2, 2, 2, 0)
    old, new = old_p(SUBJECT_CPR), new_p(SUBJECT_CPR)
    assert new.startswith("ssp2:")
    assert store.aliases(old) == store.aliases(new) == {old, new}
    assert new_p(GUARDIAN_CPR) not in store.aliases(old)  # different people stay apart
    found = Vault(store, rotated).identity(new)
    assert found is not None
    assert (found.cpr, found.name) == (SUBJECT_CPR, SUBJECT_NAME)
    entry = store.vault_entry(new)
    assert entry is not None
    assert entry.key_version == 2  # the new entry is wrapped under the new AES key


def test_rekey_is_idempotent(store: Store, keyring: KeyRing) -> None:
    Vault(store, keyring).put([Identity(Pseudonymiser(keyring, "ssp")(SUBJECT_CPR),
                                        SUBJECT_CPR, SUBJECT_NAME)])
    rotated = rotate_keyring(keyring)
    rekey(store, rotated)

    again = rekey(store, rotated)

    assert again.new_entries == 0
    assert len(store.vault_entries()) == 2


def test_joint_view_shows_concerns_from_before_and_after_rotation_in_time_order(
        store: Store, keyring: KeyRing) -> None:
    old = Pseudonymiser(keyring, "ssp")(SUBJECT_CPR)
    Vault(store, keyring).put([Identity(old, SUBJECT_CPR, SUBJECT_NAME)])
    t0 = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    before = _concern(old, "beredskab", t0, "school")
    rotated = rotate_keyring(keyring)
    rekey(store, rotated)
    new = Pseudonymiser(rotated, "ssp")(SUBJECT_CPR)
    after = _concern(new, "omraade-stege", t0 + dt.timedelta(days=3), "police")
    # Filed last, but occurred first: 12:30 UTC is before t0 (13:05 UTC).
    earliest = _concern(new, "beredskab", dt.datetime(2026, 3, 2, 12, 30, tzinfo=dt.UTC))
    store.project_concerns([after, before, earliest])
    queues = ["beredskab", "omraade-stege"]

    for asked in (old, new):
        page = store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(asked),
                                           limit=50, cursor=None)
        assert [i["event_id"] for i in page.items] == [
            earliest["event_id"], before["event_id"], after["event_id"]]

    # Paging keeps the order and the {"items","next_cursor"} shape.
    first = store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(new), limit=2,
                                        cursor=None)
    assert first.next_cursor is not None
    rest = store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(new), limit=2,
                                       cursor=first.next_cursor)
    assert [i["event_id"] for i in first.items + rest.items] == [
        earliest["event_id"], before["event_id"], after["event_id"]]
    assert rest.next_cursor is None


def test_time_cursor_from_another_endpoint_is_refused(store: Store) -> None:
    from core.store import encode_cursor

    with pytest.raises(ValueError, match="cursor"):
        store.subject_concerns_page(queues=["beredskab"], pseudonyms=["ssp1:x"], limit=1,
                                    cursor=encode_cursor(5))


def test_person_first_vaulted_by_a_worker_on_old_keys_is_linked_by_the_new_worker(
        store: Store, keyring: KeyRing) -> None:
    rotated = rotate_keyring(keyring)
    rekey(store, rotated)  # the vault is re-keyed; the old worker still runs
    old = Pseudonymiser(keyring, "ssp")(OTHER_CPR)
    Vault(store, keyring).put([Identity(old, OTHER_CPR, "Ny Person")])

    new = Pseudonymiser(rotated, "ssp")(OTHER_CPR)
    Vault(store, rotated).put([Identity(new, OTHER_CPR, "Ny Person")])  # restarted worker

    assert store.aliases(new) == {old, new}


def test_two_rotations_link_all_three_versions(store: Store, keyring: KeyRing) -> None:
    v1 = Pseudonymiser(keyring, "ssp")(SUBJECT_CPR)
    Vault(store, keyring).put([Identity(v1, SUBJECT_CPR, SUBJECT_NAME)])
    second = rotate_keyring(keyring)
    rekey(store, second)
    third = rotate_keyring(second)
    rekey(store, third)
    v2 = Pseudonymiser(second, "ssp")(SUBJECT_CPR)
    v3 = Pseudonymiser(third, "ssp")(SUBJECT_CPR)

    for p in (v1, v2, v3):
        assert store.aliases(p) == {v1, v2, v3}
    assert Vault(store, third).identity(v1) is not None


def test_rekey_handles_every_domain_in_the_ring(store: Store) -> None:
    ring = _two_domain_ring()
    ssp, psp = Pseudonymiser(ring, "ssp")(SUBJECT_CPR), Pseudonymiser(ring, "psp")(SUBJECT_CPR)
    Vault(store, ring).put([Identity(ssp, SUBJECT_CPR, SUBJECT_NAME),
                            Identity(psp, SUBJECT_CPR, SUBJECT_NAME)])
    rotated = rotate_keyring(ring)

    rekey(store, rotated)

    new_ssp = Pseudonymiser(rotated, "ssp")(SUBJECT_CPR)
    new_psp = Pseudonymiser(rotated, "psp")(SUBJECT_CPR)
    assert store.aliases(ssp) == {ssp, new_ssp}
    assert store.aliases(psp) == {psp, new_psp}  # the domains stay unlinked


def test_rekey_skips_erased_entries(store: Store, keyring: KeyRing) -> None:
    old = Pseudonymiser(keyring, "ssp")(SUBJECT_CPR)
    vault = Vault(store, keyring)
    vault.put([Identity(old, SUBJECT_CPR, SUBJECT_NAME)])
    vault.erase(old)

    report = rekey(store, rotate_keyring(keyring))

    assert (report.entries, report.skipped, report.new_entries) == (1, 1, 0)


# -- the command -----------------------------------------------------------------------------
def test_keys_rotate_command_rotates_rekeys_and_says_to_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
    store = Store.open(settings.resolved_database_url)
    old = Pseudonymiser(ring, "ssp")(SUBJECT_CPR)
    try:
        Vault(store, ring).put([Identity(old, SUBJECT_CPR, SUBJECT_NAME)])
    finally:
        store.close()

    result = CliRunner().invoke(cli, ["keys", "rotate", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "hmac:ssp: version 1 -> 2" in result.output
    assert "aes: version 1 -> 2" in result.output
    assert "restart the worker and the API" in result.output
    assert SUBJECT_CPR not in result.output
    assert SUBJECT_NAME not in result.output
    rotated = FileKeyProvider(settings.resolved_key_file, create=False).load()
    assert rotated.current["hmac:ssp"] == 2
    store = Store.open(settings.resolved_database_url)
    try:
        assert store.aliases(old) == {old, Pseudonymiser(rotated, "ssp")(SUBJECT_CPR)}
    finally:
        store.close()


def test_keys_rotate_without_a_key_file_fails_and_creates_none(tmp_path: Path) -> None:
    from hub.cli import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("sys.argv", ["ssp-hub", "keys", "rotate", "--data-dir", str(tmp_path)])
        with pytest.raises(SystemExit) as info:
            main()

    assert info.value.code != 0
    assert not (tmp_path / "keys.json").exists()


# -- fail closed -----------------------------------------------------------------------------
def _damaged(text: str) -> dict[str, str]:
    doc = json.loads(text)
    wrong_b64 = dict(doc)
    wrong_b64["hmac"] = {"ssp": {"1": "not base64 at all!!"}}
    short_key = dict(doc)
    short_key["aes"] = {"1": base64.b64encode(os.urandom(16)).decode()}
    no_current = dict(doc)
    no_current["current"] = {k: v for k, v in doc["current"].items() if k != "hmac:ssp"}
    missing_version = dict(doc)
    missing_version["current"] = {**doc["current"], "aes": 7}
    no_ssp = dict(doc)
    no_ssp["hmac"] = {}
    return {
        "truncated": text[: len(text) // 2],
        "empty": "",
        "a list": "[]",
        "wrong base64": json.dumps(wrong_b64),
        "16-byte key": json.dumps(short_key),
        "no current ssp version": json.dumps(no_current),
        "current version absent": json.dumps(missing_version),
        "no ssp domain": json.dumps(no_ssp),
    }


@pytest.mark.parametrize("damage", [
    "truncated", "empty", "a list", "wrong base64", "16-byte key", "no current ssp version",
    "current version absent", "no ssp domain",
])
def test_api_and_worker_refuse_to_start_on_a_damaged_key_file(tmp_path: Path,
                                                              damage: str) -> None:
    from hub.api import create_api
    from streams.app import create_stream_app

    settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    path = settings.resolved_key_file
    ring = FileKeyProvider(path, create=True).load()
    damaged = _damaged(path.read_text())[damage]
    path.write_text(damaged)
    path.chmod(0o600)

    with pytest.raises(KeyFileError) as api_error:
        create_api(settings)
    with pytest.raises(KeyFileError) as worker_error:
        create_stream_app(settings)

    for message in (str(api_error.value), str(worker_error.value)):
        assert "key file" in message
        for key in [*ring.aes.values(), *ring.hmac["ssp"].values()]:
            assert base64.b64encode(key).decode() not in message
    assert path.read_text() == damaged  # left as found, for the operator to restore


def test_a_damaged_key_file_is_never_replaced_even_in_dev_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    path = settings.resolved_key_file
    FileKeyProvider(path, create=True).load()
    damaged = path.read_text()[:40]
    path.write_text(damaged)

    with pytest.raises(KeyFileError):
        FileKeyProvider(path, create=True).load()

    assert path.read_text() == damaged
