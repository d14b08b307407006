"""Retention and erasure: expired concerns are deleted, and a person with nothing left has their
identity destroyed in the vault — unless a legal hold suspends both.

One run (:func:`run_retention`):

1. **Plan** (reads only). Every concern whose ``routed_at`` is older than its queue's retention
   (``policy.doc.retention``, whole calendar months back from ``now``) expires — unless it
   names a person under a legal hold, as subject or as related person; a hold on any of a
   person's pseudonyms (their alias group across key versions) holds them all. Then every
   person with a live vault entry whom no remaining concern names (subject or
   ``related_persons``), who is not held and whose newest vault entry is older than a grace
   period, is erased: the wrapped data keys of all their pseudonyms are destroyed.
2. **Log** one ``erasure`` entry per affected person, integrated straight into the disclosure
   log (:meth:`core.ledger.auditlog.AuditLog.integrate`), then sign a checkpoint.
3. **Act**: per person, in one transaction, delete their expired concerns and destroy their
   keys (:meth:`core.store.Store.retire`). Each write re-checks its precondition in the same
   statement (no hold; for an erasure, no concern names the person), so a hold placed or a
   concern projected meanwhile is respected. A person named as related person in someone
   else's expired concern may be erased before that concern is deleted: the plan already
   counted it as gone, and the concern goes in the same run.

Crash safety. The entry is written *before* the act (write-ahead), and its id is derived from
what it records: ``derived_entry_id("erasure", <event_id|queue of each concern deleted>,
"identity", <each pseudonym whose key is destroyed>)``. A concern is deleted once and a key is
destroyed once, so two real erasures never share an id, and a rerun after a crash — which
plans the same act, because a person's deletion and erasure commit together — reproduces the
id: the log holds one entry, the work is finished. Ids from the run's date would not do: the
periodic task runs hourly, and a second erasure of the same person on the same day would be
swallowed as a duplicate.

The residual gap of write-ahead logging: if the run dies between logging and acting *and* the
world changes before the rerun (a hold placed, a new concern about the person, more concerns
expired), the first entry describes an act that was then done differently, and the rerun logs
what it does under its own id. A re-check that refuses a planned write (the same kind of
change, during a run) leaves its entry standing too; the report counts such persons as
``raced``.

Nothing here logs, prints or raises with a CPR or a name: the run never opens the vault.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.ledger.auditlog import DEFAULT_ORIGIN, AuditLog
from core.ledger.entries import derived_entry_id
from core.logs import get_logger
from core.policy.evaluator import Policy
from core.privacy.crypto import PSEUDONYM_PATTERN, pseudonym_domain_version
from core.privacy.keys import KeyRing
from core.store import ConcernRow, Retirement, Store
from schemas.disclosures import EntryKind, LogEntry

REASON_EXPIRED = "retention_expired"  # concerns deleted (and maybe the identity with them)
REASON_NOTHING_LEFT = "no_remaining_data"  # identity erased; no concern named the person
# A vault entry is written by the worker before the projector stores its concern; an entry
# younger than this is never erased for "having nothing", whatever the projector's lag.
VAULT_GRACE = dt.timedelta(days=7)
_BATCH = 200  # persons per transaction


def months_before(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` minus whole calendar months, the day clamped to the month's last day
    (31 March − 1 month = 28/29 February).

    Hand-written rather than dateutil's ``relativedelta``: python-dateutil is in the venv only
    as a transitive dependency (croniter, via faust), is not declared in pyproject.toml and has
    no type stubs installed (mypy strict), and this is five lines of the standard library.

    Retention subtracts from ``now`` (one cut-off per queue) rather than adding to each
    ``routed_at``; at month ends the two differ by a day or three, and subtracting is the side
    that keeps a concern longer, never shorter.
    """
    if months < 0:
        raise ValueError("months must not be negative")
    index = when.year * 12 + (when.month - 1) - months
    year, month0 = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month0 + 1)[1])
    return when.replace(year=year, month=month0 + 1, day=day)


@dataclass
class RetentionReport:
    """What one run did (or, with ``dry_run``, would do). Counts only, no pseudonyms."""

    now: dt.datetime
    dry_run: bool = False
    deleted: dict[str, int] = field(default_factory=dict)  # concerns deleted, per queue
    concerns_held: int = 0  # expired, kept because a legal hold names a person in them
    persons_held: int = 0  # held persons whose concerns or identity a hold kept this run
    identities_erased: int = 0  # persons whose vault entries were destroyed
    vault_entries_erased: int = 0  # entries (a person has one per key version)
    entries_logged: int = 0  # erasure entries new in the log (0 on a rerun)
    raced: int = 0  # persons for whom a re-check refused a planned write (hold, new concern)

    @property
    def concerns_deleted(self) -> int:
        return sum(self.deleted.values())

    def counts(self) -> dict[str, Any]:
        """Flat, loggable counts."""
        return {
            "dry_run": self.dry_run, "concerns_deleted": self.concerns_deleted,
            "deleted_per_queue": dict(sorted(self.deleted.items())),
            "concerns_held": self.concerns_held, "persons_held": self.persons_held,
            "identities_erased": self.identities_erased,
            "vault_entries_erased": self.vault_entries_erased,
            "entries_logged": self.entries_logged, "raced": self.raced,
        }

    def lines(self) -> list[str]:
        would = "would be " if self.dry_run else ""
        out = [f"retention {'dry run' if self.dry_run else 'run'} at {self.now.isoformat()}"]
        out.append(f"concerns {would}deleted: {self.concerns_deleted}")
        out += [f"  {queue}: {n}" for queue, n in sorted(self.deleted.items())]
        out.append(f"identities {would}erased: {self.identities_erased} persons, "
                   f"{self.vault_entries_erased} vault entries")
        out.append(f"held: {self.persons_held} persons, {self.concerns_held} expired concerns "
                   "kept")
        out.append(f"erasure entries {'to log' if self.dry_run else 'logged'}: "
                   f"{self.entries_logged}")
        if self.raced:
            out.append(f"persons skipped (a hold or a new concern arrived during the run): "
                       f"{self.raced}")
        return out


class _Persons:
    """Alias groups (union-find over the alias links): one group per person."""

    def __init__(self, links: Iterable[tuple[str, str]]) -> None:
        self._parent: dict[str, str] = {}
        for a, b in links:
            self.union(a, b)

    def find(self, p: str) -> str:
        parent = self._parent
        root = p
        while parent.get(root, root) != root:
            root = parent[root]
        while p != root:  # path compression
            parent[p], p = root, parent.get(p, p)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)


def _newest(pseudonyms: Iterable[str]) -> str:
    """The pseudonym under the newest key version (ties: the smallest text)."""
    def key(p: str) -> tuple[int, str]:
        parsed = pseudonym_domain_version(p)
        return (-(parsed[1] if parsed else -1), p)
    return min(pseudonyms, key=key)


def _named_in(row: ConcernRow) -> set[str]:
    """The pseudonyms a concern names: its subject and its related persons (an area-level
    concern, stored with the pseudonym "", names no one)."""
    names = {row.pseudonym} if row.pseudonym else set()
    if row.payload is None:
        return names
    try:
        doc = json.loads(row.payload)
        for person in doc.get("related_persons") or []:
            if isinstance(person, dict) and isinstance(person.get("pseudonym"), str):
                names.add(person["pseudonym"])
    except (ValueError, AttributeError, TypeError):
        # Unreadable payload: count every pseudonym-shaped text in it, so that nobody it may
        # name is erased on its account.
        names.update(re.findall(PSEUDONYM_PATTERN.pattern, row.payload))
    return names


@dataclass
class _Plan:
    deletions: dict[str, list[ConcernRow]] = field(default_factory=dict)  # root -> expired
    erasures: dict[str, list[str]] = field(default_factory=dict)  # root -> live pseudonyms
    members: dict[str, set[str]] = field(default_factory=dict)  # root -> every pseudonym known
    live_roots: set[str] = field(default_factory=set)  # persons with a live vault entry
    held_roots: set[str] = field(default_factory=set)  # held persons this run suspended
    concerns_held: int = 0
    max_seq: int = 0


def _plan(store: Store, policy: Policy, now: dt.datetime, grace: dt.timedelta) -> _Plan:
    links = store.alias_links()
    persons = _Persons(links)
    members: dict[str, set[str]] = defaultdict(set)

    def person(p: str) -> str:
        root = persons.find(p)
        members[root].add(p)
        return root

    for a, _ in links:
        person(a)
    held = {person(h["pseudonym"]) for h in store.legal_holds()}
    cutoffs: dict[str, dt.datetime] = {}
    plan = _Plan()
    remaining: set[str] = set()  # persons named by a concern that stays
    deletions: dict[str, list[ConcernRow]] = defaultdict(list)
    after = 0
    while rows := store.concern_rows(after=after):
        after = rows[-1].seq
        for row in rows:
            roots = {person(p) for p in _named_in(row)}
            cutoff = cutoffs.get(row.queue)
            if cutoff is None:
                cutoff = cutoffs[row.queue] = months_before(
                    now, policy.doc.retention.months(row.queue))
            if row.routed_at >= cutoff:
                remaining |= roots
            elif roots & held:
                plan.concerns_held += 1
                plan.held_roots |= roots & held
                remaining |= roots
            else:
                deletions[persons.find(row.pseudonym)].append(row)
    plan.max_seq = after
    plan.deletions = dict(deletions)

    live: dict[str, list[tuple[str, dt.datetime]]] = defaultdict(list)
    for pseudonym, created_at in store.live_vault_entries():
        live[person(pseudonym)].append((pseudonym, created_at))
    plan.live_roots = set(live)
    for root, entries in live.items():
        if root in remaining:
            continue
        if max(created for _, created in entries) > now - grace:
            continue  # too new: its concern may still be on its way to the store
        if root in held:
            plan.held_roots.add(root)
            continue
        plan.erasures[root] = sorted(p for p, _ in entries)
    plan.members = dict(members)
    return plan


def _entry(deleted: list[ConcernRow], erased: list[str], has_identity: bool,
           policy: Policy, now: dt.datetime, principal: str) -> LogEntry:
    entry_id = derived_entry_id("erasure", *sorted(f"{r.event_id}|{r.queue}" for r in deleted),
                                "identity", *erased)
    details: dict[str, int | str | list[str]] = {
        "concerns_deleted": len(deleted),
        "queues": sorted({r.queue for r in deleted}),
        "identity": "erased" if erased else ("retained" if has_identity else "absent"),
    }
    if erased:
        details["vault_entries_erased"] = len(erased)
        details["erased_pseudonyms"] = erased
    named = [r.pseudonym for r in deleted if r.pseudonym] or erased
    return LogEntry(
        entry_id=entry_id, kind=EntryKind.erasure, at=now,
        # None: the area-level concerns, which are about no one, deleted together
        pseudonym=_newest(named) if named else None,
        reason_code=REASON_EXPIRED if deleted else REASON_NOTHING_LEFT,
        legal_basis=policy.legal_basis(), policy_version=policy.version,
        principal=principal, details=details,
    )


def run_retention(store: Store, policy: Policy, ring: KeyRing, *, now: dt.datetime,
                  principal: str = "retention", dry_run: bool = False,
                  origin: str = DEFAULT_ORIGIN, vault_grace: dt.timedelta = VAULT_GRACE,
                  ) -> RetentionReport:
    """Delete expired concerns, erase the identities of persons with nothing left, log one
    ``erasure`` entry per affected person. Idempotent; safe to rerun after a crash. With
    ``dry_run`` nothing is written and the report says what would be done."""
    if now.tzinfo is None:
        raise ValueError("now must carry an offset")
    now = now.astimezone(dt.UTC)
    plan = _plan(store, policy, now, vault_grace)
    report = RetentionReport(now=now, dry_run=dry_run, concerns_held=plan.concerns_held,
                             persons_held=len(plan.held_roots))
    roots = sorted(set(plan.deletions) | set(plan.erasures))
    entries = [_entry(plan.deletions.get(root, []), plan.erasures.get(root, []),
                      root in plan.live_roots, policy, now, principal) for root in roots]

    if dry_run:
        for rows in plan.deletions.values():
            for row in rows:
                report.deleted[row.queue] = report.deleted.get(row.queue, 0) + 1
        report.identities_erased = len(plan.erasures)
        report.vault_entries_erased = sum(len(v) for v in plan.erasures.values())
        report.entries_logged = len(entries)
        return report

    # 1. Write-ahead: the entries first (idempotent by id), then a signed checkpoint.
    log = AuditLog(store, ring, origin=origin)
    for i in range(0, len(entries), 500):
        report.entries_logged += len(log.integrate(entries[i:i + 500]))
    if report.entries_logged:
        log.checkpoint(force=True)

    # 2. The acts: per person, deletion and erasure in one transaction.
    raced: set[str] = set()
    for i in range(0, len(roots), _BATCH):
        chunk = roots[i:i + _BATCH]
        todo: list[Retirement] = []
        for root in chunk:
            by_queue: dict[str, list[int]] = defaultdict(list)
            for row in plan.deletions.get(root, []):
                by_queue[row.queue].append(row.seq)
            todo.append(Retirement(frozenset(plan.members[root]), dict(by_queue),
                                   root in plan.erasures))
        done = store.retire(todo, newer_than_seq=plan.max_seq, at=now)
        for root, person, (deleted, erased) in zip(chunk, todo, done, strict=True):
            for queue, n in deleted.items():
                if n:
                    report.deleted[queue] = report.deleted.get(queue, 0) + n
                if n < len(person.expired[queue]):
                    raced.add(root)
            if erased:
                report.identities_erased += 1
                report.vault_entries_erased += erased
            elif person.erase:
                raced.add(root)
    report.raced = len(raced)
    # The what-if replay's decision inputs (hub/policy_diff.py) for the policy's shortest period.
    store.prune_decision_inputs(months_before(now, min(
        [policy.doc.retention.default_months, *policy.doc.retention.queues.values()])))
    return report


# -- legal holds ---------------------------------------------------------------------------


def place_hold(store: Store, pseudonym: str, reason: str, principal: str, *,
               now: dt.datetime | None = None) -> bool:
    """Suspend retention for the person ``pseudonym`` names (all their pseudonyms). False if
    that pseudonym is held already. ``reason`` must hold no identity (a case number, not a
    name); it is stored as given."""
    if not PSEUDONYM_PATTERN.fullmatch(pseudonym):
        raise ValueError("not a pseudonym")
    return store.place_legal_hold(pseudonym, reason, principal, now or dt.datetime.now(dt.UTC))


def release_hold(store: Store, pseudonym: str) -> int:
    """Release the person's holds (placed on ``pseudonym`` or any of its aliases). Returns how
    many holds were released; the next retention run catches up on what they suspended."""
    return store.release_legal_holds(store.aliases(pseudonym))


def holds(store: Store) -> list[dict[str, Any]]:
    """Every hold: pseudonym, reason, principal, created_at (oldest first)."""
    return store.legal_holds()


# -- the periodic task ---------------------------------------------------------------------


async def retention_pass(store: Store, policy: Policy, ring: KeyRing, *,
                         origin: str = DEFAULT_ORIGIN,
                         refusal_retention: dt.timedelta = dt.timedelta(days=180)) -> None:
    """One retention run, which also deletes refused-request records older than
    ``refusal_retention``. Logs counts only; a failed run is logged by its error type
    (messages may quote SQL parameters) and not raised: the next run retries."""
    log = get_logger("hub.retention")
    try:
        now = dt.datetime.now(dt.UTC)
        report = await asyncio.to_thread(run_retention, store, policy, ring,
                                         now=now, origin=origin)
        refusals = await asyncio.to_thread(store.delete_refusals_before,
                                           now - refusal_retention)
        log.info("retention_run", **report.counts(), refusals_deleted=refusals)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the loop must outlive one failed run
        log.error("retention_failed", error=type(exc).__name__)


async def retention_loop(store: Store, policy: Policy, ring: KeyRing, interval_s: float, *,
                         origin: str = DEFAULT_ORIGIN,
                         refusal_retention: dt.timedelta = dt.timedelta(days=180)) -> None:
    """:func:`retention_pass` now and then every ``interval_s`` seconds until cancelled, in
    one process (the worker instead runs the pass while it holds the retention election:
    core/bus/election.py)."""
    while True:
        await retention_pass(store, policy, ring, origin=origin,
                             refusal_retention=refusal_retention)
        await asyncio.sleep(interval_s)
