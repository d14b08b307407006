"""Retention and erasure (issue 4 §4): expired concerns are deleted per queue, a person with
nothing left loses their identity in the vault, legal holds suspend both, every erasure is
logged once, and the disclosure log still verifies afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs
from typer.testing import CliRunner

from core.ledger.auditlog import AuditLog, public_keys, verify_store
from core.ledger.entries import random_entry_id
from core.ledger.retention import (
    REASON_EXPIRED,
    REASON_NOTHING_LEFT,
    holds,
    months_before,
    place_hold,
    release_hold,
    retention_loop,
    run_retention,
)
from core.policy.evaluator import Policy, load_policy
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing, rotate_keyring
from core.privacy.vault import EntryErased, Identity, Vault, rekey
from core.settings import Settings
from core.store import Retirement, Store, concerns, vault
from hub.cli import app
from schemas.disclosures import EntryKind, LogEntry
from tests.unit.factories import make_cpr

# Concerns are routed "now" (the store stamps routed_at); runs look at the future instead.
AFTER_13_MONTHS = dt.timedelta(days=400)  # past beredskab/opsoegende (12), not the others (24)
AFTER_25_MONTHS = dt.timedelta(days=770)  # past every queue


@dataclass(frozen=True)
class Person:
    pseudonym: str
    cpr: str
    name: str


@dataclass
class World:
    store: Store
    ring: KeyRing
    policy: Policy

    def person(self, serial: int, *, ring: KeyRing | None = None) -> Person:
        ring = ring or self.ring
        cpr = make_cpr(dt.date(2010, 1 + serial % 12, 1 + serial % 28), "4", serial)
        person = Person(Pseudonymiser(ring, "ssp")(cpr), cpr, f"Navn Efternavn{serial}")
        Vault(self.store, ring).put([Identity(person.pseudonym, cpr, person.name)])
        return person

    def concern(self, pseudonym: str, queue: str, *, related: Sequence[str] = (),
                routed_at: dt.datetime | None = None) -> str:
        event_id = str(uuid.uuid4())
        payload: dict[str, Any] = {"event_id": event_id, "queue": queue,
                                   "pseudonym": pseudonym, "source": {"agency": "school"}}
        if related:
            payload["related_persons"] = [{"role": "sibling", "pseudonym": p} for p in related]
        self.store.project_concerns([{
            "event_id": event_id, "queue": queue, "pseudonym": pseudonym,
            "occurred_at": dt.datetime.now(dt.UTC), "payload": json.dumps(payload),
        }])
        if routed_at is not None:
            with self.store.engine.begin() as conn:
                conn.execute(concerns.update().where(concerns.c.event_id == event_id)
                             .values(routed_at=routed_at.astimezone(dt.UTC)))
        return event_id

    def run(self, after: dt.timedelta = dt.timedelta(0), **kwargs: Any) -> Any:
        return run_retention(self.store, self.policy, self.ring,
                             now=dt.datetime.now(dt.UTC) + after, **kwargs)

    def events(self) -> set[str]:
        with self.store.engine.connect() as conn:
            return {r.event_id for r in conn.execute(sa.select(concerns.c.event_id))}

    def erased(self, pseudonym: str) -> bool:
        row = self.store.vault_entry(pseudonym)
        assert row is not None
        return row.wrapped_dek is None

    def erasures(self) -> list[dict[str, Any]]:
        return AuditLog(self.store).page(kind="erasure", limit=1000, newest_first=False).items


@pytest.fixture
def world(store: Store, keyring: KeyRing, shipped_policy: Policy) -> World:
    return World(store, keyring, shipped_policy)


# -- month arithmetic ----------------------------------------------------------------------
@pytest.mark.parametrize(("when", "months", "expected"), [
    ("2026-03-15T10:00:00", 1, "2026-02-15T10:00:00"),
    ("2026-03-31T23:59:59", 1, "2026-02-28T23:59:59"),  # clamped to the month's last day
    ("2024-03-31T00:00:00", 1, "2024-02-29T00:00:00"),  # leap year
    ("2026-01-31T00:00:00", 12, "2025-01-31T00:00:00"),
    ("2026-01-15T00:00:00", 13, "2024-12-15T00:00:00"),  # across two year boundaries
    ("2026-05-31T00:00:00", 24, "2024-05-31T00:00:00"),
    ("2028-02-29T00:00:00", 12, "2027-02-28T00:00:00"),
    ("2026-07-04T00:00:00", 0, "2026-07-04T00:00:00"),
])
def test_months_before_is_calendar_correct(when: str, months: int, expected: str) -> None:
    tz = dt.UTC
    got = months_before(dt.datetime.fromisoformat(when).replace(tzinfo=tz), months)
    assert got == dt.datetime.fromisoformat(expected).replace(tzinfo=tz)


def test_months_before_refuses_negative_months() -> None:
    with pytest.raises(ValueError, match="negative"):
        months_before(dt.datetime.now(dt.UTC), -1)


# -- deletion per queue --------------------------------------------------------------------
def test_expired_concerns_are_deleted_per_queue_retention(world: World) -> None:
    a, b, c = world.person(1), world.person(2), world.person(3)
    beredskab = world.concern(a.pseudonym, "beredskab")  # 12 months
    opsoegende = world.concern(b.pseudonym, "opsoegende")  # 12 months
    stege = world.concern(c.pseudonym, "omraade-stege")  # 24 months (default)

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == {stege}
    assert report.deleted == {"beredskab": 1, "opsoegende": 1}
    assert beredskab not in world.events()
    assert opsoegende not in world.events()

    report = world.run(AFTER_25_MONTHS)

    assert world.events() == set()
    assert report.deleted == {"omraade-stege": 1}


def test_the_cutoff_is_whole_calendar_months_back_from_now(world: World) -> None:
    now = dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC)  # leap day
    p = world.person(4)

    def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)

    # beredskab: 12 months back from 29 Feb 2028 is 28 Feb 2027, 12:00 (clamped)
    expired_12 = world.concern(p.pseudonym, "beredskab", routed_at=at(2027, 2, 28, 11, 59))
    kept_12 = world.concern(p.pseudonym, "beredskab", routed_at=at(2027, 2, 28, 12))
    # omraade-stege: 24 months back is 29 Feb 2026 → 28 Feb 2026, 12:00
    expired_24 = world.concern(p.pseudonym, "omraade-stege", routed_at=at(2026, 2, 28, 11, 59))
    kept_24 = world.concern(p.pseudonym, "omraade-stege", routed_at=at(2026, 3, 1, 0))

    report = run_retention(world.store, world.policy, world.ring, now=now)

    assert world.events() == {kept_12, kept_24}
    assert expired_12 not in world.events()
    assert expired_24 not in world.events()
    assert report.deleted == {"beredskab": 1, "omraade-stege": 1}


def test_a_fresh_run_deletes_nothing(world: World) -> None:
    p = world.person(5)
    event = world.concern(p.pseudonym, "beredskab")

    report = world.run()

    assert world.events() == {event}
    assert report.concerns_deleted == 0
    assert report.identities_erased == 0
    assert report.entries_logged == 0
    assert world.erasures() == []


# -- erasure of identities -----------------------------------------------------------------
def test_a_person_with_nothing_left_has_their_identity_destroyed(world: World) -> None:
    p = world.person(6)
    world.concern(p.pseudonym, "beredskab")
    found = Vault(world.store, world.ring).identity(p.pseudonym)
    assert found is not None
    assert found.cpr == p.cpr

    report = world.run(AFTER_13_MONTHS)

    assert report.identities_erased == 1
    assert report.vault_entries_erased == 1
    with pytest.raises(EntryErased):
        Vault(world.store, world.ring).identity(p.pseudonym)
    [entry] = world.erasures()
    assert entry["pseudonym"] == p.pseudonym
    assert entry["kind"] == "erasure"
    assert entry["decision"] == "erased"
    assert entry["reason_code"] == REASON_EXPIRED
    assert entry["legal_basis"] == world.policy.legal_basis()
    assert entry["policy_version"] == world.policy.version
    assert entry["principal"] == "retention"
    assert entry["details"] == {"concerns_deleted": 1, "queues": ["beredskab"],
                                "identity": "erased", "vault_entries_erased": 1,
                                "erased_pseudonyms": [p.pseudonym]}


def test_a_person_with_a_concern_in_another_queue_keeps_their_identity(world: World) -> None:
    p = world.person(7)
    world.concern(p.pseudonym, "beredskab")
    stege = world.concern(p.pseudonym, "omraade-stege")

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == {stege}
    assert report.identities_erased == 0
    assert not world.erased(p.pseudonym)
    [entry] = world.erasures()
    assert entry["details"] == {"concerns_deleted": 1, "queues": ["beredskab"],
                                "identity": "retained"}


def test_a_related_person_named_by_a_remaining_concern_keeps_their_identity(
        world: World) -> None:
    subject, sibling = world.person(8), world.person(9)
    world.concern(subject.pseudonym, "omraade-stege", related=[sibling.pseudonym])  # 24
    own = world.concern(sibling.pseudonym, "beredskab")  # 12

    report = world.run(AFTER_13_MONTHS)

    assert own not in world.events()
    assert report.identities_erased == 0
    assert not world.erased(sibling.pseudonym)
    assert not world.erased(subject.pseudonym)

    report = world.run(AFTER_25_MONTHS)  # the subject's concern goes, and the mention with it

    assert world.events() == set()
    assert report.identities_erased == 2
    assert world.erased(sibling.pseudonym)
    assert world.erased(subject.pseudonym)
    by_pseudonym = {e["pseudonym"]: e for e in world.erasures()}
    assert by_pseudonym[sibling.pseudonym]["details"]["identity"] == "erased"
    assert by_pseudonym[sibling.pseudonym]["reason_code"] == REASON_NOTHING_LEFT
    assert by_pseudonym[sibling.pseudonym]["details"]["concerns_deleted"] == 0


def test_a_related_person_only_mentioned_in_expired_concerns_is_erased(world: World) -> None:
    subject, guardian = world.person(10), world.person(11)
    world.concern(subject.pseudonym, "beredskab", related=[guardian.pseudonym])

    report = world.run(AFTER_13_MONTHS)

    assert report.identities_erased == 2
    assert world.erased(subject.pseudonym)
    assert world.erased(guardian.pseudonym)
    assert len(world.erasures()) == 2  # one entry per person


def test_a_new_vault_entry_is_not_erased_while_its_concern_may_be_on_the_way(
        world: World) -> None:
    p = world.person(12)  # in the vault, no concern (yet)

    assert world.run().identities_erased == 0
    assert world.run(dt.timedelta(days=6)).identities_erased == 0
    assert not world.erased(p.pseudonym)

    report = world.run(dt.timedelta(days=8))

    assert report.identities_erased == 1
    assert world.erased(p.pseudonym)
    [entry] = world.erasures()
    assert entry["reason_code"] == REASON_NOTHING_LEFT
    assert entry["details"]["concerns_deleted"] == 0


def test_a_concern_without_a_vault_entry_is_deleted_and_logged(world: World) -> None:
    pseudonym = Pseudonymiser(world.ring, "ssp")(make_cpr(dt.date(2011, 2, 3), "4", 13))
    world.concern(pseudonym, "opsoegende")

    report = world.run(AFTER_13_MONTHS)

    assert report.deleted == {"opsoegende": 1}
    assert report.identities_erased == 0
    [entry] = world.erasures()
    assert entry["pseudonym"] == pseudonym
    assert entry["details"]["identity"] == "absent"


# -- legal holds ---------------------------------------------------------------------------
def test_a_legal_hold_suspends_deletion_and_erasure_until_released(world: World) -> None:
    p, other = world.person(14), world.person(15)
    held_event = world.concern(p.pseudonym, "beredskab")
    world.concern(other.pseudonym, "beredskab")
    assert place_hold(world.store, p.pseudonym, "klagesag J.nr. 2026-17", "sikkerhed")

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == {held_event}
    assert not world.erased(p.pseudonym)
    assert world.erased(other.pseudonym)
    assert report.persons_held == 1
    assert report.concerns_held == 1
    assert [e["pseudonym"] for e in world.erasures()] == [other.pseudonym]
    assert [h["pseudonym"] for h in holds(world.store)] == [p.pseudonym]
    assert holds(world.store)[0]["principal"] == "sikkerhed"

    assert release_hold(world.store, p.pseudonym) == 1
    assert holds(world.store) == []
    report = world.run(AFTER_13_MONTHS)

    assert world.events() == set()
    assert world.erased(p.pseudonym)
    assert report.persons_held == 0
    assert report.identities_erased == 1


def test_a_hold_on_any_alias_protects_the_whole_person(world: World) -> None:
    old = world.person(16)
    rotated = rotate_keyring(world.ring)
    rekey(world.store, rotated)
    new = Pseudonymiser(rotated, "ssp")(old.cpr)
    event = world.concern(new, "beredskab")  # seen again after the rotation
    place_hold(world.store, old.pseudonym, "tilsynssag", "dpo")  # held under the old one

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == {event}
    assert not world.erased(old.pseudonym)
    assert not world.erased(new)
    assert report.persons_held == 1

    assert release_hold(world.store, new) == 1  # released through the other alias
    world.run(AFTER_13_MONTHS)

    assert world.events() == set()
    assert world.erased(old.pseudonym)
    assert world.erased(new)


def test_a_hold_on_a_related_person_keeps_the_concerns_that_name_them(world: World) -> None:
    subject, witness = world.person(17), world.person(18)
    event = world.concern(subject.pseudonym, "beredskab", related=[witness.pseudonym])
    place_hold(world.store, witness.pseudonym, "retssag", "dpo")

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == {event}
    assert not world.erased(subject.pseudonym)
    assert not world.erased(witness.pseudonym)
    assert report.concerns_held == 1


def test_placing_a_hold_twice_keeps_the_first_and_malformed_pseudonyms_are_refused(
        world: World) -> None:
    p = world.person(19)
    assert place_hold(world.store, p.pseudonym, "først", "a") is True
    assert place_hold(world.store, p.pseudonym, "senere", "b") is False
    assert [(h["reason"], h["principal"]) for h in holds(world.store)] == [("først", "a")]
    with pytest.raises(ValueError, match="not a pseudonym") as excinfo:
        place_hold(world.store, p.cpr, "x", "a")
    assert p.cpr not in str(excinfo.value)
    assert release_hold(world.store, world.person(20).pseudonym) == 0


# -- key rotation --------------------------------------------------------------------------
def test_a_person_under_two_key_versions_is_erased_together(world: World) -> None:
    old = world.person(21)
    world.concern(old.pseudonym, "beredskab")
    rotated = rotate_keyring(world.ring)
    rekey(world.store, rotated)
    new = Pseudonymiser(rotated, "ssp")(old.cpr)
    world.concern(new, "opsoegende")
    assert Vault(world.store, rotated).identity(new) is not None

    report = world.run(AFTER_13_MONTHS)

    assert world.events() == set()
    assert report.identities_erased == 1
    assert report.vault_entries_erased == 2
    assert world.erased(old.pseudonym)
    assert world.erased(new)
    for pseudonym in (old.pseudonym, new):
        with pytest.raises(EntryErased):
            Vault(world.store, rotated).identity(pseudonym)
    [entry] = world.erasures()  # one person, one entry
    assert entry["pseudonym"] == new  # the newest pseudonym the concerns used
    assert entry["details"]["concerns_deleted"] == 2
    assert entry["details"]["queues"] == ["beredskab", "opsoegende"]
    assert entry["details"]["erased_pseudonyms"] == sorted([old.pseudonym, new])


def test_a_fresh_concern_under_the_old_pseudonym_keeps_the_new_entry_too(
        world: World) -> None:
    old = world.person(22)
    world.concern(old.pseudonym, "omraade-vordingborg")
    rotated = rotate_keyring(world.ring)
    rekey(world.store, rotated)
    new = Pseudonymiser(rotated, "ssp")(old.cpr)

    report = world.run(AFTER_13_MONTHS)

    assert report.identities_erased == 0
    assert not world.erased(old.pseudonym)
    assert not world.erased(new)


# -- the log -------------------------------------------------------------------------------
def test_erasures_are_logged_once_and_the_log_still_verifies(world: World) -> None:
    people = [world.person(30 + i) for i in range(4)]
    for p in people:
        world.concern(p.pseudonym, "beredskab")
    # an earlier history in the log that retention must leave intact
    AuditLog(world.store, world.ring).integrate([LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.disclosure, at=dt.datetime.now(dt.UTC),
        recipient="beredskab", recipient_type="queue", pseudonym=people[0].pseudonym)])

    first = world.run(AFTER_13_MONTHS)
    second = world.run(AFTER_13_MONTHS)
    third = world.run(AFTER_25_MONTHS)

    assert first.entries_logged == 4
    assert second.entries_logged == 0
    assert third.entries_logged == 0
    assert second.concerns_deleted == 0
    assert second.identities_erased == 0
    assert len(world.erasures()) == 4
    verified = verify_store(world.store, public_keys(world.ring))
    assert verified.ok, verified.summary()
    assert verified.entries == 5
    assert verified.uncovered == 0


def test_a_run_that_dies_after_logging_finishes_on_rerun_without_logging_twice(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = world.person(40), world.person(41)
    world.concern(a.pseudonym, "beredskab")
    world.concern(b.pseudonym, "beredskab")
    world.concern(b.pseudonym, "omraade-stege")

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("killed")

    monkeypatch.setattr(world.store, "retire", crash)
    with pytest.raises(RuntimeError):
        world.run(AFTER_13_MONTHS)
    assert len(world.erasures()) == 2
    assert len(world.events()) == 3
    monkeypatch.undo()

    report = world.run(AFTER_13_MONTHS)

    assert report.entries_logged == 0
    assert report.deleted == {"beredskab": 2}
    assert report.identities_erased == 1
    assert len(world.erasures()) == 2
    assert verify_store(world.store, public_keys(world.ring)).ok


def test_a_run_that_dies_halfway_through_finishes_on_rerun(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    subject, sibling = world.person(42), world.person(43)
    world.concern(subject.pseudonym, "opsoegende", related=[sibling.pseudonym])
    world.concern(sibling.pseudonym, "opsoegende")
    real_retire = world.store.retire
    calls: list[int] = []

    def retire_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("killed")
        return real_retire(*args, **kwargs)

    monkeypatch.setattr("core.ledger.retention._BATCH", 1)  # one person per transaction
    monkeypatch.setattr(world.store, "retire", retire_once)
    with pytest.raises(RuntimeError):
        world.run(AFTER_13_MONTHS)
    assert len(world.events()) == 1  # one person done (deleted and erased together)
    assert world.erased(subject.pseudonym) != world.erased(sibling.pseudonym)
    first = world.erasures()
    monkeypatch.undo()

    report = world.run(AFTER_13_MONTHS)

    assert report.entries_logged == 0
    assert report.identities_erased == 1
    assert world.events() == set()
    assert world.erased(subject.pseudonym)
    assert world.erased(sibling.pseudonym)
    assert world.erasures() == first  # the first run's records stand, nothing added
    assert verify_store(world.store, public_keys(world.ring)).ok


def test_no_cpr_or_name_in_any_log_entry(world: World) -> None:
    people = [world.person(50 + i) for i in range(3)]
    world.concern(people[0].pseudonym, "beredskab", related=[people[1].pseudonym])
    world.concern(people[2].pseudonym, "opsoegende")

    world.run(AFTER_13_MONTHS)

    rows = AuditLog(world.store).entry_rows()
    assert len(rows) == 3
    blob = b"".join(data for _, data in rows).decode("utf-8")
    for p in people:
        assert p.cpr not in blob
        assert p.name not in blob
        assert f"{p.cpr[:6]}-{p.cpr[6:]}" not in blob


def test_a_dry_run_changes_nothing(world: World) -> None:
    p = world.person(60)
    event = world.concern(p.pseudonym, "beredskab")

    report = world.run(AFTER_13_MONTHS, dry_run=True)

    assert report.deleted == {"beredskab": 1}
    assert report.identities_erased == 1
    assert report.entries_logged == 1
    assert report.dry_run
    assert world.events() == {event}
    assert not world.erased(p.pseudonym)
    assert world.erasures() == []


def test_the_writes_re_check_holds_and_concerns_that_arrived_during_the_run(
        world: World) -> None:
    p, q = world.person(61), world.person(62)
    planned_up_to = 0  # the run read the table before q's concern was projected
    world.concern(q.pseudonym, "beredskab", related=[p.pseudonym])
    with world.store.engine.connect() as conn:
        seq = conn.execute(sa.select(concerns.c.seq)).scalar_one()
    now = dt.datetime.now(dt.UTC)

    [(deleted, erased)] = world.store.retire(
        [Retirement(frozenset({p.pseudonym}), {}, erase=True)],
        newer_than_seq=planned_up_to, at=now)
    assert (deleted, erased) == ({}, 0)  # q's new concern names p
    assert not world.erased(p.pseudonym)

    place_hold(world.store, q.pseudonym, "placed meanwhile", "dpo")
    [(deleted, erased)] = world.store.retire(
        [Retirement(frozenset({q.pseudonym}), {"beredskab": [seq]}, erase=True)],
        newer_than_seq=seq, at=now)
    assert (deleted, erased) == ({"beredskab": 0}, 0)
    assert world.events() != set()
    assert not world.erased(q.pseudonym)


# -- the periodic task ---------------------------------------------------------------------
async def test_the_retention_loop_runs_and_logs_counts_only(world: World) -> None:
    p = world.person(70)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    world.concern(p.pseudonym, "beredskab", routed_at=long_ago)
    with world.store.engine.begin() as conn:
        conn.execute(vault.update().values(created_at=long_ago))

    refusal = {"principal": "anonymous", "token_hash": None, "method": "GET",
               "route": "/api/v1/queues", "status": 401, "reason": "missing_token"}
    world.store.record_refusals([{**refusal, "at": long_ago},
                                 {**refusal, "at": dt.datetime.now(dt.UTC)}])

    with capture_logs() as logs:
        task = asyncio.create_task(
            retention_loop(world.store, world.policy, world.ring, interval_s=3600,
                           refusal_retention=dt.timedelta(days=180)))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if any(e.get("event") == "retention_run" for e in logs):
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    [run] = [e for e in logs if e["event"] == "retention_run"]
    assert run["concerns_deleted"] == 1
    assert run["identities_erased"] == 1
    assert run["refusals_deleted"] == 1  # the refusal from 400 days ago; today's stays
    assert len(world.store.refusals_page(limit=10).items) == 1
    assert p.pseudonym not in json.dumps(logs, default=str)
    assert world.events() == set()


# -- the command line ----------------------------------------------------------------------
@pytest.fixture
def hub_dir(tmp_path: Path) -> Iterator[tuple[Path, World]]:
    """A data dir with keys and a store, where the CLI finds them."""
    settings = Settings(data_dir=tmp_path)
    ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        yield tmp_path, World(store, ring, load_policy(settings.resolved_policy_file))
    finally:
        store.close()


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["retention", *[str(a) for a in args]])


def test_cli_run_prints_the_report(hub_dir: tuple[Path, World]) -> None:
    data_dir, world = hub_dir
    p = world.person(80)
    world.concern(p.pseudonym, "beredskab")
    future = (dt.datetime.now(dt.UTC) + AFTER_13_MONTHS).isoformat()

    dry = _cli("run", "--data-dir", data_dir, "--now", future, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "concerns would be deleted: 1" in dry.output
    assert len(world.events()) == 1

    result = _cli("run", "--data-dir", data_dir, "--now", future)

    assert result.exit_code == 0, result.output
    assert "concerns deleted: 1" in result.output
    assert "beredskab: 1" in result.output
    assert "identities erased: 1 persons" in result.output
    assert "erasure entries logged: 1" in result.output
    assert world.events() == set()
    assert world.erased(p.pseudonym)
    assert p.pseudonym not in result.output


def test_cli_run_without_a_key_file_fails_clearly(tmp_path: Path) -> None:
    result = _cli("run", "--data-dir", tmp_path)

    assert result.exit_code == 2
    assert "key file" in result.output
    assert "keys init" in result.output


def test_cli_run_refuses_a_malformed_now(hub_dir: tuple[Path, World]) -> None:
    data_dir, _ = hub_dir
    result = _cli("run", "--data-dir", data_dir, "--now", "next tuesday")
    assert result.exit_code == 2
    assert "--now" in result.output


def test_cli_hold_release_and_list(hub_dir: tuple[Path, World]) -> None:
    data_dir, world = hub_dir
    p = world.person(81)
    world.concern(p.pseudonym, "beredskab")

    assert "no legal holds" in _cli("holds", "--data-dir", data_dir).output
    held = _cli("hold", p.pseudonym, "--reason", "klagesag 2026-4", "--by", "dpo",
                "--data-dir", data_dir)
    assert held.exit_code == 0, held.output
    again = _cli("hold", p.pseudonym, "--reason", "igen", "--data-dir", data_dir)
    assert again.exit_code == 0
    assert "held already" in again.output
    listed = _cli("holds", "--data-dir", data_dir)
    assert p.pseudonym in listed.output
    assert "dpo" in listed.output
    assert "klagesag 2026-4" in listed.output

    future = (dt.datetime.now(dt.UTC) + AFTER_13_MONTHS).isoformat()
    _cli("run", "--data-dir", data_dir, "--now", future)
    assert len(world.events()) == 1
    assert not world.erased(p.pseudonym)

    released = _cli("release", p.pseudonym, "--data-dir", data_dir)
    assert released.exit_code == 0, released.output
    assert _cli("release", p.pseudonym, "--data-dir", data_dir).exit_code == 1
    _cli("run", "--data-dir", data_dir, "--now", future)
    assert world.events() == set()
    assert world.erased(p.pseudonym)


def test_cli_never_echoes_a_malformed_pseudonym(hub_dir: tuple[Path, World]) -> None:
    data_dir, world = hub_dir
    p = world.person(82)
    for args in (("hold", p.cpr, "--reason", "x"), ("release", p.cpr),
                 ("hold", f"{p.cpr[:6]}-{p.cpr[6:]}", "--reason", "x")):
        result = _cli(*args, "--data-dir", data_dir)
        assert result.exit_code == 2, result.output
        assert "not a pseudonym" in result.output
        assert p.cpr[:6] not in result.output
    assert holds(world.store) == []


def test_cli_hold_refuses_a_cpr_in_the_reason_and_an_unknown_pseudonym(
        hub_dir: tuple[Path, World]) -> None:
    data_dir, world = hub_dir
    p = world.person(83)
    result = _cli("hold", p.pseudonym, "--reason", f"sag om {p.cpr}", "--data-dir", data_dir)
    assert result.exit_code == 2
    assert p.cpr not in result.output
    assert "found: cpr" in result.output
    # Names and phone numbers too (issue 12: one free-text check for every form).
    result = _cli("hold", p.pseudonym, "--reason", "klage fra Mikkel Hansen, tlf. 22 33 44 55",
                  "--data-dir", data_dir)
    assert result.exit_code == 2
    assert "found: name, phone" in result.output
    assert "Mikkel" not in result.output
    assert "22 33" not in result.output
    stranger = Pseudonymiser(world.ring, "ssp")(make_cpr(dt.date(2012, 1, 1), "4", 84))
    result = _cli("hold", stranger, "--reason", "x", "--data-dir", data_dir)
    assert result.exit_code == 1
    assert "no concern or vault entry" in result.output
    assert holds(world.store) == []
