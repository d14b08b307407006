"""Verification of the live log at scale (core.ledger.auditlog.verify_store streaming in
chunks; core.ledger.verify's incremental pass from the last verified checkpoint)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
import rfc8785
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ledger import merkle
from core.ledger.auditlog import AuditLog, erasure_entry, public_keys, verify_store
from core.ledger.verify import read_state, remember, verify_log
from core.privacy.keys import KeyRing, new_keyring
from core.store import Store, log_verified
from schemas.disclosures import canonical
from tests.unit import test_web
from tests.unit.test_api_openapi import _token
from tests.unit.test_auditlog import T0, TAMPERING, fill, forge_body, make_log, run_sql
from tests.unit.test_web import Web

pytestmark = pytest.mark.timeout(300)



@pytest.mark.parametrize("name", ["untouched", *TAMPERING])
def test_a_full_pass_in_small_chunks_reports_exactly_what_one_chunk_does(
        store: Store, keyring: KeyRing, name: str) -> None:
    make_log(store, keyring, count=20, every=5)
    if name != "untouched":
        TAMPERING[name][0](store)
    run_sql(store, "INSERT INTO disclosure_log_subjects (pseudonym, seq) VALUES ('ssp1:x', 9)")
    keys = public_keys(keyring)

    whole = verify_store(store, keys).as_dict()
    for chunk in (1, 3, 7):
        assert verify_store(store, keys, chunk=chunk).as_dict() == whole


# --------------------------------------------------------------------------- incremental


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "verification"}


def _remembered(store: Store) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(log_verified)).one()


def test_the_first_pass_is_full_and_the_next_reads_only_what_was_appended(
        store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=23, every=5)
    keys = public_keys(keyring)

    first = verify_log(store, keys, keyring, full=False)
    assert (first.ok, first.mode) == (True, "full")
    assert (_remembered(store).tree_size, _remembered(store).erased) == (20, 0)

    fill(log, 40, start=23)  # 63 entries, checkpoints up to 60
    log.erase([3, 30])  # one entry below the remembered checkpoint, one after it
    log.integrate([erasure_entry([3, 30], "Sletning efter anmodning fra den registrerede.",
                                 "dpo", "security_officer")], now=T0 + dt.timedelta(days=1))
    starts: list[int] = []

    def chunk_starts(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("SELECT disclosure_log.seq, disclosure_log.entry_id"):
            starts.append(params[0])
    sa.event.listen(store.engine, "before_cursor_execute", chunk_starts)
    second = verify_log(store, keys, keyring, full=False, chunk=7)
    sa.event.remove(store.engine, "before_cursor_execute", chunk_starts)

    assert second.ok, second.summary()
    assert second.mode == "incremental"
    assert _summary(second.as_dict()) == _summary(verify_store(store, keys).as_dict())
    assert second.erased == 2
    remembered = _remembered(store)
    assert remembered.tree_size == 60
    assert remembered.root_hash == log.checkpoint_at(60).root_hash  # type: ignore[union-attr]
    assert starts == list(range(20, 64, 7))  # from the remembered checkpoint on, 7 at a time

    third = verify_log(store, keys, keyring, full=False)
    assert (third.ok, third.mode, third.entries, third.erased) == (True, "incremental", 64, 2)


def test_incremental_verification_finds_a_tampered_new_entry(store: Store,
                                                             keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    fill(log, 10, start=10)

    run_sql(store, "UPDATE disclosure_log SET recipient = 'infohus' WHERE seq = 13")
    forge_body(store, 11, b"omraade-praestoe", b"omraade-stege")

    report = verify_log(store, keys, keyring, full=False)
    assert report.mode == "incremental"
    found = {(p.where, p.what) for p in report.problems}
    assert {("entry 13", "modified"), ("entry 11", "modified"),
            ("checkpoint 15", "modified")} <= found
    assert _remembered(store).tree_size == 10  # a failed pass is not remembered


def test_a_new_checkpoint_with_a_bad_signature_is_found(store: Store, keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    fill(log, 5, start=10)
    run_sql(store, "UPDATE checkpoints SET root_hash = :r WHERE tree_size = 15", r="0" * 64)

    found = {(p.where, p.what) for p in verify_log(store, keys, keyring, full=False).problems}
    assert {("checkpoint 15", "bad_signature"), ("checkpoint 15", "modified")} <= found


def _advance_state(store: Store, keyring: KeyRing) -> None:
    """What a database administrator could do to hide a change to entry 12: move the
    remembered state past it, to the genuine checkpoint 15 with its genuine frontier (the MAC
    cannot be recomputed without the signing key)."""
    leaves = AuditLog(store).leaf_hashes(15)
    frontier = merkle.MerkleLog()
    for leaf in leaves:
        frontier.append(leaf)
    run_sql(store, "UPDATE log_verified SET tree_size = 15, root_hash = :r, frontier = :f",
            r=frontier.root().hex(), f=",".join(h.hex() for h in frontier.frontier))


def _forge_mac_with_another_key(store: Store, keyring: KeyRing) -> None:
    _advance_state(store, keyring)
    state = read_state(store)
    assert state is not None
    other = new_keyring()
    remember(store, other, state)


def _wrong_frontier(store: Store, keyring: KeyRing) -> None:
    run_sql(store, "UPDATE log_verified SET frontier = :f", f=("ab" * 32 + ",") * 2)


def _point_at_no_checkpoint(store: Store, keyring: KeyRing) -> None:
    run_sql(store, "UPDATE log_verified SET tree_size = 12")


STATE_TAMPERING = {"advanced to a later checkpoint": _advance_state,
                   "re-MACed with another key": _forge_mac_with_another_key,
                   "frontier replaced": _wrong_frontier,
                   "size changed": _point_at_no_checkpoint}


@pytest.mark.parametrize("name", list(STATE_TAMPERING))
def test_a_tampered_remembered_state_is_reported_and_the_whole_log_verified(
        store: Store, keyring: KeyRing, name: str) -> None:
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    fill(log, 10, start=10)
    run_sql(store, "UPDATE disclosure_log SET recipient = 'beredskab' WHERE seq = 12")

    STATE_TAMPERING[name](store, keyring)
    report = verify_log(store, keys, keyring, full=False)

    assert report.mode == "full"
    found = {(p.where, p.what) for p in report.problems}
    assert {("verified state", "modified"), ("entry 12", "modified")} <= found


def test_an_older_genuine_state_put_back_only_makes_the_pass_longer(store: Store,
                                                                   keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    old = _remembered(store)._asdict()
    fill(log, 10, start=10)
    assert verify_log(store, keys, keyring, full=False).ok
    assert _remembered(store).tree_size == 20

    with store.engine.begin() as conn:
        conn.execute(log_verified.update().values(**old))
    report = verify_log(store, keys, keyring, full=False)

    assert (report.ok, report.mode, report.entries) == (True, "incremental", 20)
    assert _remembered(store).tree_size == 20


def test_entries_removed_after_the_remembered_state_are_found(store: Store,
                                                            keyring: KeyRing) -> None:
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    fill(log, 10, start=10)
    run_sql(store, "DELETE FROM disclosure_log WHERE seq >= 17")
    run_sql(store, "DELETE FROM disclosure_log_subjects WHERE seq >= 17")

    report = verify_log(store, keys, keyring, full=False)
    found = {(p.where, p.what) for p in report.problems}
    assert report.mode == "incremental"
    assert {("checkpoint 20", "missing"), ("log state", "modified")} <= found


def test_a_change_to_an_entry_verified_before_is_for_the_full_pass(store: Store,
                                                                 keyring: KeyRing) -> None:
    """What the incremental pass does not prove (core/ledger/verify.py says so)."""
    log = make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    assert verify_log(store, keys, keyring, full=False).ok
    fill(log, 5, start=10)
    run_sql(store, "UPDATE disclosure_log SET recipient = 'infohus' WHERE seq = 3")

    assert verify_log(store, keys, keyring, full=False).ok
    full = verify_log(store, keys, keyring, full=True)
    assert ("entry 3", "modified") in {(p.where, p.what) for p in full.problems}


def test_without_the_signing_seed_nothing_is_remembered_and_a_rotation_starts_afresh(
        store: Store, keyring: KeyRing) -> None:
    make_log(store, keyring, count=10, every=5)
    keys = public_keys(keyring)
    seedless = dataclasses.replace(keyring, ed25519={})
    assert verify_log(store, keys, seedless, full=False).ok
    assert read_state(store) is None

    assert verify_log(store, keys, keyring, full=False).mode == "full"
    assert verify_log(store, keys, keyring, full=False).mode == "incremental"
    rotated = dataclasses.replace(keyring, ed25519={2: bytes(range(32))},
                                  current={**keyring.current, "ed25519": 2})
    report = verify_log(store, keys, rotated, full=False)  # the old MAC key is gone: not suspect
    assert (report.ok, report.mode) == (True, "full")
    assert read_state(store).key_id == "ed25519:2"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- canonical form

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=6), _json, max_size=5))
def test_canonical_gives_the_rfc8785_library_bytes_or_its_error_for_any_json(
        doc: dict[str, Any]) -> None:
    """Verification checks each entry's form with schemas.disclosures.canonical, which takes a
    json.dumps fast path for plain documents: it must agree with the library exactly (bytes,
    or the refusal of a float, a huge integer or a lone surrogate)."""
    try:
        expected: bytes | type[Exception] = rfc8785.dumps(doc)
    except rfc8785.CanonicalizationError as exc:
        expected = type(exc)
    try:
        got: bytes | type[Exception] = canonical(doc)
    except rfc8785.CanonicalizationError as exc:
        got = type(exc)
    assert got == expected


# --------------------------------------------------------------------------- API and web UI

web = test_web.web  # the web UI tests' module-scoped app over the sample data


def test_the_api_and_the_integrity_page_run_the_incremental_pass_when_asked(web: Web) -> None:
    AuditLog(web.store, web.ring).checkpoint(force=True)
    client = web.client()
    officer = _token(web, "security_officer")

    full = client.get("/api/v1/disclosures/verify", headers=officer).json()
    quick = client.get("/api/v1/disclosures/verify?incremental=true", headers=officer).json()

    assert (full["ok"], full["verification"]) == (True, "full")
    assert (quick["ok"], quick["verification"]) == (True, "incremental")
    same = ("entries", "checkpoints", "tree_size", "root_hash", "erased_entries")
    assert {k: quick[k] for k in same} == {k: full[k] for k in same}
    officer_ui = web.login("sikkerhed")
    assert "Trinvis kontrol" in officer_ui.get("/ui/log/integritet?trinvis=1").text
    assert "Hele loggen er læst og kontrolleret." in officer_ui.get("/ui/log/integritet").text
