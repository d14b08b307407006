"""The disclosure log in the store (core.ledger.auditlog): sequencing, checkpoints, proofs, and
verification of the live log against every way a database administrator could tamper."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bus import InMemoryBus
from core.ledger import merkle
from core.ledger.auditlog import (
    AuditLog,
    public_key_b64,
    public_keys,
    verify_checkpoint,
    verify_store,
)
from core.ledger.entries import derived_entry_id
from core.ledger.sequencer import Sequencer
from core.privacy.keys import KeyRing, new_keyring
from core.settings import Settings
from core.store import Store
from schemas.cpr import contains_cpr_like
from schemas.disclosures import (
    Checkpoint,
    EntryKind,
    LogEntry,
    body_document,
    entry_document,
    leaf_bytes,
    read_entry,
    sequence_entry,
)

pytestmark = pytest.mark.timeout(120)

T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
QUEUES = ("infohus", "beredskab", "omraade-stege", "omraade-praestoe")
NECESSITIES = (
    "Fælles indsats med skole og forvaltning kan forebygge kriminalitet.",
    "Bekymring for unge på havnen i Præstø; gruppen søger væk fra skolen.",
    "Økonomisk udnyttelse og trusler mod en yngre elev i Stege.",
)


def make_entry(i: int, *, pseudonym: str | None = None) -> LogEntry:
    """Entry ``i`` of a test log: disclosures to queues, with Danish necessity text, and a
    rejection every fifth entry."""
    if i % 5 == 4:
        return LogEntry(entry_id=derived_entry_id("rejection", f"event-{i}"),
                        kind=EntryKind.rejection, at=T0 + dt.timedelta(minutes=i),
                        event_id=f"event-{i}", agency="police", unit="Vordingborg Politi",
                        collaboration="SSP", purpose="investigation",
                        reason_code="purpose_not_permitted", rule_ids=["purpose"],
                        policy_version="a" * 64)
    return LogEntry(
        entry_id=derived_entry_id("disclosure", f"event-{i}", QUEUES[i % len(QUEUES)]),
        kind=EntryKind.disclosure, at=T0 + dt.timedelta(minutes=i), event_id=f"event-{i}",
        agency=("school", "social", "police")[i % 3], unit="Stege Skole",
        recipient=QUEUES[i % len(QUEUES)], recipient_type="queue", collaboration="SSP",
        legal_basis="rpl-115-stk2", purpose="crime_prevention",
        necessity=NECESSITIES[i % len(NECESSITIES)], fields=["category", "area", "severity"],
        rule_ids=["target-group", "area-group"], policy_version="a" * 64,
        pseudonym=pseudonym or f"ssp1:subject{i % 7:02d}",
        related_pseudonyms=[f"ssp1:guardian{i % 7:02d}"] if i % 2 else [],
    )


def fill(log: AuditLog, count: int, *, start: int = 0) -> list[int]:
    """Integrate entries ``start..start+count-1``, one per minute of logging time."""
    seqs: list[int] = []
    for i in range(start, start + count):
        seqs += log.integrate([make_entry(i)], now=T0 + dt.timedelta(minutes=i))
    return seqs


def make_log(store: Store, ring: KeyRing, count: int = 20, every: int = 5) -> AuditLog:
    log = AuditLog(store, ring, checkpoint_every=every)
    fill(log, count)
    return log


def run_sql(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def entry_body(store: Store, seq: int) -> bytes:
    """A format 2 entry's stored body."""
    with store.engine.connect() as conn:
        return bytes(conn.execute(sa.text("SELECT body FROM disclosure_log WHERE seq = :s"),
                                  {"s": seq}).scalar_one())


def forge_body(store: Store, seq: int, old: bytes, new: bytes) -> None:
    """Change an entry's body and make its leaf commit to the new body (the leaf hash
    column is left as it was)."""
    body = entry_body(store, seq).replace(old, new)
    leaf = json.loads(entry_bytes(store, seq))
    leaf["body_sha256"] = hashlib.sha256(body).hexdigest()
    run_sql(store, "UPDATE disclosure_log SET entry = :e, body = :b WHERE seq = :s",
            e=rfc8785.dumps(leaf), b=body, s=seq)


def entry_bytes(store: Store, seq: int) -> bytes:
    with store.engine.connect() as conn:
        return bytes(conn.execute(sa.text("SELECT entry FROM disclosure_log WHERE seq = :s"),
                                  {"s": seq}).scalar_one())


def problems(store: Store, ring: KeyRing) -> set[tuple[str, str]]:
    report = verify_store(store, public_keys(ring))
    return {(p.where, p.what) for p in report.problems}


# --------------------------------------------------------------------------- sequencing


def test_integrate_twice_keeps_one_copy_with_contiguous_seqs(store: Store,
                                                             keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=100)
    batch = [make_entry(i) for i in range(10)]

    assert log.integrate(batch, now=T0) == list(range(10))
    assert log.integrate(batch, now=T0) == []
    assert log.integrate([*batch, make_entry(10), make_entry(10), make_entry(11)],
                         now=T0) == [10, 11]

    rows = log.entry_rows()
    assert [seq for seq, _ in rows] == list(range(12))
    assert len({json.loads(data)["entry_id"] for _, data in rows}) == 12
    assert log.state().size == 12
    assert verify_store(store, public_keys(keyring)).ok


def test_every_entry_of_a_batch_gets_a_salt_of_its_own(store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring)
    log.integrate([make_entry(0)], now=T0)
    log.integrate([make_entry(i) for i in range(40)], now=T0)  # the first one is known

    salts = [json.loads(body)["salt"] for _, _, body in log.entry_rows_with_bodies()
             if body is not None]
    assert len(salts) == 40
    assert all(re.fullmatch(r"[0-9a-f]{32}", s) for s in salts)
    assert len(set(salts)) == 40


def test_leaf_is_the_canonical_entry_with_seq_and_logging_time(store: Store,
                                                               keyring: KeyRing) -> None:
    log = AuditLog(store, keyring)
    entry = make_entry(3)
    log.integrate([entry], now=T0)

    [(_, data, body)] = log.entry_rows_with_bodies()
    assert body is not None
    salt = json.loads(body)["salt"]
    assert (data, body) == sequence_entry(entry, 0, T0, salt)
    stored = read_entry(data, body)
    assert (stored.entry, stored.seq, stored.logged_at, stored.version) == (entry, 0, T0, 2)
    assert "Fælles".encode() in body  # UTF-8, not \u escapes (RFC 8785)
    assert "Fælles".encode() not in data  # the leaf holds no content
    assert json.loads(data)["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert body == rfc8785.dumps(json.loads(body))
    assert data == rfc8785.dumps(json.loads(data))
    assert log.leaf_hashes(1) == [merkle.leaf_hash(data)]


def test_a_checkpoint_is_signed_every_n_entries(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=12, every=5)

    assert [cp.tree_size for cp in log.checkpoints()] == [5, 10]
    for cp in log.checkpoints():
        assert cp.root_hash == merkle.root(log.leaf_hashes(cp.tree_size)).hex()
        assert verify_checkpoint(cp, public_keys(keyring)) is None


def test_checkpoint_force_signs_now_and_only_when_the_tree_grew(store: Store,
                                                               keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=12, every=5)
    later = T0 + dt.timedelta(hours=1)

    cp = log.checkpoint(later, force=True)

    assert cp is not None
    assert (cp.tree_size, cp.issued_at) == (12, later)
    assert log.latest_checkpoint() == cp
    assert log.checkpoint(later, force=True) is None  # nothing new to sign


def test_checkpoint_without_force_waits_for_the_interval(store: Store,
                                                        keyring: KeyRing) -> None:
    log = AuditLog(store, keyring, checkpoint_every=100, checkpoint_interval=60)
    fill(log, 3)
    log.checkpoint(T0, force=True)
    fill(log, 2, start=3)

    assert log.checkpoint(T0 + dt.timedelta(seconds=30)) is None
    cp = log.checkpoint(T0 + dt.timedelta(seconds=61))
    assert cp is not None
    assert cp.tree_size == 5


def test_checkpoint_note_is_the_documented_text(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=5, every=5)
    [cp] = log.checkpoints()

    assert cp.note() == (f"ssp-hub disclosure log v1\nssp-hub\n5\n{cp.root_hash}\n"
                         "2026-03-02T12:04:00.000000Z\n").encode()
    raw_key = base64.b64decode(public_key_b64(public_keys(keyring)["ed25519:1"]))
    assert len(raw_key) == 32


# --------------------------------------------------------------------------- proofs


def test_every_inclusion_proof_verifies_against_every_covering_checkpoint(
        store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=23, every=5)
    log.checkpoint(T0 + dt.timedelta(hours=1), force=True)

    for cp in log.checkpoints():
        root = bytes.fromhex(cp.root_hash)
        for seq, data in log.entry_rows(0, cp.tree_size - 1):
            merkle.verify_inclusion(merkle.leaf_hash(data), seq, cp.tree_size,
                                    log.inclusion_proof(seq, cp.tree_size), root)


def test_every_pair_of_checkpoints_is_consistent(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=23, every=5)
    log.checkpoint(T0 + dt.timedelta(hours=1), force=True)
    cps = log.checkpoints()
    assert len(cps) == 5

    for a in cps:
        for b in cps:
            if a.tree_size <= b.tree_size:
                merkle.verify_consistency(a.tree_size, b.tree_size, bytes.fromhex(a.root_hash),
                                          bytes.fromhex(b.root_hash),
                                          log.consistency_proof(a.tree_size, b.tree_size))


def _inclusion_case(log: AuditLog, case: str) -> tuple[bytes, int, int, list[bytes], bytes]:
    """(leaf hash, index, tree size, proof, root) for leaf 6 against checkpoint 15, spoiled."""
    cps = {cp.tree_size: bytes.fromhex(cp.root_hash) for cp in log.checkpoints()}
    leaves = log.leaf_hashes(15)
    proof = log.inclusion_proof(6, 15)
    leaf, index, size, root = leaves[6], 6, 15, cps[15]
    if case == "wrong index":
        index = 7
    elif case == "another leaf":
        leaf = leaves[7]
    elif case == "truncated":
        proof = proof[:-1]
    elif case == "extended":
        proof = [*proof, proof[0]]
    elif case == "swapped siblings":
        proof[0], proof[1] = proof[1], proof[0]
    elif case == "different tree size":
        size, root = 20, cps[20]
    elif case == "older root":
        root = cps[10]
    elif case == "sibling altered":
        proof[1] = bytes([proof[1][0] ^ 1]) + proof[1][1:]
    return leaf, index, size, proof, root


INCLUSION_SPOILS = ("wrong index", "another leaf", "truncated", "extended", "swapped siblings",
                    "different tree size", "older root", "sibling altered")


@pytest.mark.parametrize("case", INCLUSION_SPOILS)
def test_a_spoiled_inclusion_proof_fails(store: Store, keyring: KeyRing, case: str) -> None:
    log = make_log(store, keyring, count=20, every=5)
    merkle.verify_inclusion(*_inclusion_case(log, "intact"))

    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(*_inclusion_case(log, case))


CONSISTENCY_SPOILS = ("truncated", "swapped elements", "wrong first size", "wrong second size",
                      "roots swapped", "element altered")


@pytest.mark.parametrize("case", CONSISTENCY_SPOILS)
def test_a_spoiled_consistency_proof_fails(store: Store, keyring: KeyRing, case: str) -> None:
    log = make_log(store, keyring, count=20, every=5)
    cps = {cp.tree_size: bytes.fromhex(cp.root_hash) for cp in log.checkpoints()}
    first, second = 10, 15
    proof = log.consistency_proof(first, second)
    first_root, second_root = cps[first], cps[second]
    merkle.verify_consistency(first, second, first_root, second_root, proof)
    assert len(proof) >= 2

    if case == "truncated":
        proof = proof[:-1]
    elif case == "swapped elements":
        proof[0], proof[1] = proof[1], proof[0]
    elif case == "wrong first size":
        first = 5
    elif case == "wrong second size":
        second = 20
    elif case == "roots swapped":
        first_root, second_root = second_root, first_root
    elif case == "element altered":
        proof[-1] = bytes(32)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, first_root, second_root, proof)


# --------------------------------------------------------------------------- tampering


def test_verify_store_finds_an_untouched_log_intact(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=20, every=5)
    fill(log, 2, start=20)

    report = verify_store(store, public_keys(keyring))

    assert report.ok, report.summary()
    assert (report.entries, report.checkpoints, report.tree_size, report.uncovered) == \
        (22, 4, 22, 2)
    assert report.root_hash == log.state().root_hash.hex()
    assert report.as_dict()["status"] == "intact"


def _modify_entry_bytes(store: Store) -> None:
    forge_body(store, 7, b"omraade-praestoe", b"omraade-stege")


def _hide_from_subject_search(store: Store) -> None:
    # The pseudonym column drives the subject filter: changing it hides the entry from a
    # person's access request while the hashed bytes still say who it was about.
    run_sql(store, "UPDATE disclosure_log SET pseudonym = 'ssp1:someoneelse' WHERE seq = 7")


def _hide_from_subject_index(store: Store) -> None:
    run_sql(store, "DELETE FROM disclosure_log_subjects WHERE seq = 7")


def _change_recipient_column(store: Store) -> None:
    run_sql(store, "UPDATE disclosure_log SET recipient = 'infohus' WHERE seq = 7")


def _delete_middle(store: Store) -> None:
    run_sql(store, "DELETE FROM disclosure_log WHERE seq = 7")


def _delete_last_covered(store: Store) -> None:
    run_sql(store, "DELETE FROM disclosure_log WHERE seq >= 17")


def _swap(store: Store) -> None:
    with store.engine.begin() as conn:
        rows = {r.seq: r._asdict() for r in conn.execute(
            sa.text("SELECT * FROM disclosure_log WHERE seq IN (3, 4)"))}
        conn.execute(sa.text("DELETE FROM disclosure_log WHERE seq IN (3, 4)"))
        for seq, other in ((3, 4), (4, 3)):
            conn.execute(sa.text(
                "INSERT INTO disclosure_log (seq, entry_id, kind, decision, at, logged_at, "
                "agency, recipient, pseudonym, event_id, entry, leaf_hash) VALUES (:seq, "
                ":entry_id, :kind, :decision, :at, :logged_at, :agency, :recipient, "
                ":pseudonym, :event_id, :entry, :leaf_hash)"), {**rows[other], "seq": seq})


def _insert_copy(store: Store) -> None:
    run_sql(store, "INSERT INTO disclosure_log (seq, entry_id, kind, decision, at, logged_at, "
                   "agency, recipient, pseudonym, event_id, entry, leaf_hash) SELECT 20, "
                   "'ff' || entry_id, kind, decision, at, logged_at, agency, recipient, "
                   "pseudonym, event_id, entry, leaf_hash FROM disclosure_log WHERE seq = 5")


def _append_forged(store: Store) -> None:
    forged = make_entry(99)
    data = leaf_bytes(forged, 20, T0 + dt.timedelta(hours=2))
    run_sql(store, "INSERT INTO disclosure_log (seq, entry_id, kind, decision, at, logged_at, "
                   "agency, recipient, pseudonym, event_id, entry, leaf_hash) VALUES (20, "
                   ":id, 'disclosure', 'disclosed', :at, :at, :agency, :recipient, :p, :ev, "
                   ":entry, :leaf)",
            id=forged.entry_id, at=T0, agency=forged.agency, recipient=forged.recipient,
            p=forged.pseudonym, ev=forged.event_id, entry=data,
            leaf=merkle.leaf_hash(data).hex())


def _alter_signature(store: Store) -> None:
    with store.engine.connect() as conn:
        sig = conn.execute(sa.text("SELECT signature FROM checkpoints WHERE tree_size = 10")
                           ).scalar_one()
    raw = bytearray(base64.b64decode(sig))
    raw[0] ^= 1
    run_sql(store, "UPDATE checkpoints SET signature = :s WHERE tree_size = 10",
            s=base64.b64encode(bytes(raw)).decode())


def _alter_checkpoint_root(store: Store) -> None:
    run_sql(store, "UPDATE checkpoints SET root_hash = :r WHERE tree_size = 10", r="0" * 64)


def _resign_with_another_key(store: Store) -> None:
    other = Ed25519PrivateKey.generate()
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM checkpoints WHERE tree_size = 10")).one()
    cp = Checkpoint(origin=row.origin, tree_size=row.tree_size, root_hash=row.root_hash,
                    issued_at=dt.datetime.fromisoformat(str(row.issued_at)).replace(
                        tzinfo=dt.UTC),
                    key_id=row.key_id, signature="")
    run_sql(store, "UPDATE checkpoints SET signature = :s WHERE tree_size = 10",
            s=base64.b64encode(other.sign(cp.note())).decode())


def _unknown_key_id(store: Store) -> None:
    run_sql(store, "UPDATE checkpoints SET key_id = 'ed25519:2' WHERE tree_size = 10")


TAMPERING: dict[str, tuple[Callable[[Store], None], set[tuple[str, str]]]] = {
    "entry bytes modified": (_modify_entry_bytes, {("entry 7", "modified")}),
    "pseudonym column changed": (_hide_from_subject_search, {("entry 7", "modified")}),
    "subject index row deleted": (_hide_from_subject_index, {("entry 7", "modified")}),
    "recipient column changed": (_change_recipient_column, {("entry 7", "modified")}),
    "entry deleted in the middle": (_delete_middle, {("entry 7", "missing")}),
    "last entries deleted": (_delete_last_covered, {("checkpoint 20", "missing")}),
    "two entries swapped": (_swap, {("entry 3", "reordered"), ("entry 4", "reordered")}),
    "a copy appended": (_insert_copy, {("entry 20", "inserted")}),
    "a forged entry appended": (_append_forged, {("entry 20", "inserted")}),
    "checkpoint signature altered": (_alter_signature, {("checkpoint 10", "bad_signature")}),
    "checkpoint root altered": (_alter_checkpoint_root, {("checkpoint 10", "bad_signature")}),
    "checkpoint signed by another key": (_resign_with_another_key,
                                         {("checkpoint 10", "bad_signature")}),
    "checkpoint claims an unknown key": (_unknown_key_id, {("checkpoint 10", "bad_signature")}),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_verify_store_names_the_tampered_entry_or_checkpoint(store: Store, keyring: KeyRing,
                                                            name: str) -> None:
    make_log(store, keyring, count=20, every=5)
    assert verify_store(store, public_keys(keyring)).ok
    tamper, expected = TAMPERING[name]

    tamper(store)

    report = verify_store(store, public_keys(keyring))
    assert not report.ok
    assert report.as_dict()["status"] == "tampered"
    found = {(p.where, p.what) for p in report.problems}
    assert expected <= found, report.summary()


def test_a_modified_entry_also_breaks_the_signed_root_it_is_under(store: Store,
                                                                 keyring: KeyRing) -> None:
    make_log(store, keyring, count=20, every=5)
    _modify_entry_bytes(store)
    # Even with the leaf hash column "repaired", the signed root still gives it away.
    data = entry_bytes(store, 7)
    run_sql(store, "UPDATE disclosure_log SET leaf_hash = :h WHERE seq = 7",
            h=merkle.leaf_hash(data).hex())

    found = problems(store, keyring)

    assert ("checkpoint 10", "modified") in found
    assert ("entry 7", "modified") in found  # the copied columns no longer match the bytes


def test_verify_store_with_the_wrong_keys_reports_every_checkpoint(store: Store,
                                                                  keyring: KeyRing) -> None:
    make_log(store, keyring, count=20, every=5)

    found = problems(store, new_keyring())

    assert found == {(f"checkpoint {n}", "bad_signature") for n in (5, 10, 15, 20)}


def test_verify_store_reads_a_hand_edited_text_entry_without_crashing(
        store: Store, keyring: KeyRing) -> None:
    make_log(store, keyring, count=10, every=5)
    run_sql(store, "UPDATE disclosure_log SET entry = 'not json at all' WHERE seq = 2")

    assert ("entry 2", "modified") in problems(store, keyring)


# -- the leaf is RFC 8785 ----------------------------------------------------------------------
_text = st.text(max_size=40).filter(lambda t: not contains_cpr_like(t))


@settings(max_examples=300, deadline=None)
@given(necessity=_text, unit=_text, reason=_text, fields=st.lists(_text, max_size=4),
       details=st.dictionaries(st.text(max_size=8), st.one_of(
           st.integers(-(2**53 - 1), 2**53 - 1), _text, st.lists(_text, max_size=3)), max_size=3),
       seq=st.integers(0, 2**40))
def test_leaf_bytes_equal_the_rfc8785_library_for_any_entry(
        necessity: str, unit: str, reason: str, fields: list[str],
        details: dict[str, Any], seq: int) -> None:
    """leaf_bytes takes a json.dumps fast path; it must give the library's bytes exactly,
    for any Unicode text (control characters, quotes, non-BMP) and any detail keys."""
    entry = LogEntry(entry_id=derived_entry_id("p", necessity), kind=EntryKind.consultation,
                     at=T0, unit=unit, necessity=necessity, reason=reason, fields=fields,
                     details=details)

    assert leaf_bytes(entry, seq, T0) == rfc8785.dumps(entry_document(entry, seq, T0))


@settings(max_examples=300, deadline=None)
@given(necessity=_text, unit=_text, reason=_text, fields=st.lists(_text, max_size=4),
       details=st.dictionaries(st.text(max_size=8), st.one_of(
           st.integers(-(2**53 - 1), 2**53 - 1), _text, st.lists(_text, max_size=3)), max_size=3),
       pseudonym=st.none() | _text, seq=st.integers(0, 2**40))
def test_a_sequenced_entrys_leaf_and_body_are_the_rfc8785_library_bytes(
        necessity: str, unit: str, reason: str, fields: list[str], details: dict[str, Any],
        pseudonym: str | None, seq: int) -> None:
    """The sequencer writes each entry's leaf and body through orjson's fast path; both must
    be the library's bytes exactly, for any Unicode text and any detail keys (non-ASCII ones
    take the library)."""
    entry = LogEntry(entry_id=derived_entry_id("p", necessity), kind=EntryKind.disclosure,
                     at=T0, unit=unit, necessity=necessity, reason=reason, fields=fields,
                     details=details, pseudonym=pseudonym, recipient="stege")
    leaf, body = sequence_entry(entry, seq, T0, "ab" * 16)

    assert body == rfc8785.dumps(body_document(entry, "ab" * 16))
    assert leaf == rfc8785.dumps(json.loads(leaf))
    assert json.loads(leaf)["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_the_sequencer_asks_for_a_timed_checkpoint_at_most_every_tenth_of_its_interval(
        store: Store, keyring: KeyRing, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    log = AuditLog(store, keyring, checkpoint_every=1000, checkpoint_interval=2.0)
    asked: list[float] = []
    real = log.checkpoint

    def counted() -> Checkpoint | None:
        asked.append(time.monotonic())
        return real()

    monkeypatch.setattr(log, "checkpoint", counted)
    bus = InMemoryBus()
    sequencer = Sequencer(Settings(data_dir=tmp_path), log, bus)
    consumer = sequencer.consumer()
    await consumer.start()
    log.integrate([make_entry(0)])

    for _ in range(5):  # steps in quick succession: one question, and it signs the first
        await sequencer.step(consumer, timeout_ms=0)
    assert (len(asked), len(log.checkpoints())) == (1, 1)
    log.integrate([make_entry(1)])
    await asyncio.sleep(0.25)  # a tenth of the interval has passed: asked, not due yet
    await sequencer.step(consumer, timeout_ms=0)
    assert (len(asked), len(log.checkpoints())) == (2, 1)
    await asyncio.sleep(2.0)  # the interval has passed: the grown tree is signed
    await sequencer.step(consumer, timeout_ms=0)
    assert (len(asked), [c.tree_size for c in log.checkpoints()]) == (3, [1, 2])
