"""Policy what-if: replay the decisions of the last days against a proposed policy version.

Each event the policy decided stores the facts it was decided on (``events.decision_inputs``,
migration 0011: enumerated codes and the age in whole years). :func:`policy_diff` decides those
facts again under the proposed policy, exactly as the worker would (:func:`outcome_of`), and
compares the result with the outcome stored at the time. The answer holds counts and event ids
only, never event content. Events decided before their inputs were stored are counted as
``not_replayable``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.policy.evaluator import Policy, run_examples, run_generalise_examples
from core.store import Store
from core.store.repositories.decisions import StoredDecision

DEFAULT_DAYS = 30
MAX_DAYS = 3660


@dataclass(frozen=True, order=True)
class Outcome:
    """What became of an event: ``routed`` (to ``queues``), ``rejected`` (with ``reason``), or
    ``aggregated`` (a signal counted into windowed state)."""

    status: str
    queues: tuple[str, ...] = ()
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "queues": list(self.queues), "reason": self.reason}

    def describe(self) -> str:
        """``routed to infohus, underretning`` / ``rejected (outside_target_group)``."""
        if self.status == "routed":
            return f"routed to {', '.join(self.queues)}"
        if self.status == "rejected":
            return f"rejected ({self.reason})"
        return self.status


def outcome_of(policy: Policy, facts: Mapping[str, str | int]) -> tuple[Outcome, tuple[str, ...]]:
    """The outcome ``policy`` gives an event with ``facts``, and the rules that decided it: a
    concern by :meth:`Policy.decide`; a signal by the reject rules alone, then aggregated if a
    signal rule counts its kind (streams/pipeline.py ``Pipeline.process``)."""
    kind = str(facts.get("kind", "concern"))
    if kind != "concern":
        refusal = policy.refusal(facts)
        rule = policy.signal_rule(kind)
        if refusal is None and rule is not None:
            return Outcome("aggregated"), (rule.id,)
        if refusal is None:
            return Outcome("rejected", reason="signal_not_aggregated"), ()
        return Outcome("rejected", reason=refusal.reason), refusal.rule_ids
    decision = policy.decide(facts)
    if decision.effect == "reject":
        return Outcome("rejected", reason=decision.reason), decision.rule_ids
    return Outcome("routed", tuple(sorted(decision.queues))), decision.rule_ids


def stored_outcome(decision: StoredDecision) -> Outcome:
    if decision.status == "routed":
        return Outcome("routed", tuple(sorted(decision.queues)))
    if decision.status == "rejected":
        return Outcome("rejected", reason=decision.reason)
    return Outcome(decision.status)


@dataclass
class Change:
    """Events whose outcome would go from ``before`` to ``after``."""

    before: Outcome
    after: Outcome
    event_ids: list[str] = field(default_factory=list)


@dataclass
class RuleChange:
    """Among the changed events: those a rule decided before and would not now, and back."""

    rule_id: str
    no_longer: list[str] = field(default_factory=list)
    newly: list[str] = field(default_factory=list)


@dataclass
class QueueChange:
    """Among the changed events: those a queue would no longer receive, and those it would."""

    queue: str
    lost: list[str] = field(default_factory=list)
    gained: list[str] = field(default_factory=list)


@dataclass
class PolicyDiff:
    proposed_version: str
    current_version: str
    days: int
    since: dt.datetime
    until: dt.datetime
    replayed: int = 0
    not_replayable: int = 0
    changes: list[Change] = field(default_factory=list)
    rules: list[RuleChange] = field(default_factory=list)
    queues: list[QueueChange] = field(default_factory=list)
    # The proposal's own examples that fail ("ssp-target-group #1"), as `ssp-hub policy test`
    # runs them: a version to be released should pass them all.
    failing_examples: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(len(c.event_ids) for c in self.changes)

    @property
    def changed_ids(self) -> list[str]:
        return sorted(e for c in self.changes for e in c.event_ids)

    def as_json(self) -> dict[str, Any]:
        return {
            "proposed_version": self.proposed_version, "current_version": self.current_version,
            "days": self.days, "from": self.since.isoformat(), "to": self.until.isoformat(),
            "replayed": self.replayed, "changed": self.changed,
            "unchanged": self.replayed - self.changed, "not_replayable": self.not_replayable,
            "failing_examples": self.failing_examples,
            "changes": [{"from": c.before.as_json(), "to": c.after.as_json(),
                         "count": len(c.event_ids), "event_ids": c.event_ids}
                        for c in self.changes],
            "rules": [{"rule_id": r.rule_id, "no_longer": len(r.no_longer),
                       "newly": len(r.newly), "no_longer_event_ids": r.no_longer,
                       "newly_event_ids": r.newly} for r in self.rules],
            "queues": [{"queue": q.queue, "lost": len(q.lost), "gained": len(q.gained),
                        "lost_event_ids": q.lost, "gained_event_ids": q.gained}
                       for q in self.queues],
        }


def replay(proposed: Policy, decisions: Iterable[StoredDecision], diff: PolicyDiff) -> None:
    """Decide each stored decision's inputs under ``proposed``; fill ``diff`` with what changes."""
    changes: dict[tuple[Outcome, Outcome], list[str]] = defaultdict(list)
    rules: dict[str, RuleChange] = {}
    queues: dict[str, QueueChange] = {}
    for stored in decisions:
        diff.replayed += 1
        before = stored_outcome(stored)
        after, rule_ids = outcome_of(proposed, stored.inputs)
        if after == before:
            continue
        ident = stored.event_id
        changes[(before, after)].append(ident)
        for rule_id in sorted(set(stored.rule_ids) - set(rule_ids)):
            rules.setdefault(rule_id, RuleChange(rule_id)).no_longer.append(ident)
        for rule_id in sorted(set(rule_ids) - set(stored.rule_ids)):
            rules.setdefault(rule_id, RuleChange(rule_id)).newly.append(ident)
        for queue in sorted(set(before.queues) - set(after.queues)):
            queues.setdefault(queue, QueueChange(queue)).lost.append(ident)
        for queue in sorted(set(after.queues) - set(before.queues)):
            queues.setdefault(queue, QueueChange(queue)).gained.append(ident)
    # Largest change first; ties in a stable order.
    diff.changes = [Change(b, a, sorted(ids)) for (b, a), ids in
                    sorted(changes.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
    diff.rules = [rules[r] for r in sorted(rules)]
    diff.queues = [queues[q] for q in sorted(queues)]


def policy_diff(store: Store, current: Policy, proposed: Policy, *, days: int = DEFAULT_DAYS,
                now: dt.datetime | None = None) -> PolicyDiff:
    """Replay the decisions of the last ``days`` days in ``store`` against ``proposed``."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    until = now or dt.datetime.now(dt.UTC)
    since = until - dt.timedelta(days=days)
    diff = PolicyDiff(proposed.version, current.version, days, since, until)
    replay(proposed, store.decisions_since(since), diff)
    diff.not_replayable = store.not_replayable_since(since)
    diff.failing_examples = failing_examples(proposed)
    return diff


def failing_examples(policy: Policy) -> list[str]:
    """The policy's rule, generalisation and signal examples that fail, by rule and index."""
    from streams.aggregation import run_signal_examples

    failed = [f"{r.rule_id} #{r.index}" for r in run_examples(policy) if not r.passed]
    failed += [f"generalise #{g.index}" for g in run_generalise_examples(policy) if not g.passed]
    failed += [f"{s.rule_id} #{s.index}" for s in run_signal_examples(policy.doc.signals)
               if not s.passed]
    return failed
