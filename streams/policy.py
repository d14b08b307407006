"""The §115 policy as data, and its one evaluator.

The policy file is validated once at load: an unknown queue, fact, value or effect refuses to
start and names the rule. Decisions are values (:class:`Decision`), not exceptions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.errors import ConfigError
from schemas.events import Agency, Area, Category, Collaboration, Consent, Kind, Purpose, Severity

FACTS: dict[str, type] = {
    "kind": Kind,
    "purpose": Purpose,
    "collaboration": Collaboration,
    "category": Category,
    "area": Area,
    "severity": Severity,
    "consent": Consent,
    "agency": Agency,
}
DEFAULT_DENY_REASON = "no_rule_permits"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    in_: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None

    @model_validator(mode="after")
    def _one(self) -> Condition:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("give exactly one of `in` or `not_in`")
        if not (self.in_ or self.not_in):
            raise ValueError("an empty list matches nothing; remove the condition instead")
        return self

    def holds(self, value: str) -> bool:
        if self.in_ is not None:
            return value in self.in_
        assert self.not_in is not None
        return value not in self.not_in


class QueueBy(_Model):
    fact: str
    map: dict[str, str]


class Expectation(_Model):
    effect: Literal["route", "reject"]
    queues: list[str] | None = None
    reason: str | None = None


class Example(_Model):
    event: dict[str, str]
    expect: Expectation


class Rule(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    when: dict[str, Condition] = Field(min_length=1)
    effect: Literal["route", "reject"]
    reason: str | None = None
    queues: list[str] | None = None
    queue_by: QueueBy | None = None
    examples: list[Example] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.effect == "reject" and not self.reason:
            raise ValueError("a reject rule needs a `reason`")
        if self.effect == "route" and (self.queues is None) == (self.queue_by is None):
            raise ValueError("a route rule needs exactly one of `queues` or `queue_by`")
        return self

    def matches(self, facts: Mapping[str, str]) -> bool:
        return all(cond.holds(facts[name]) for name, cond in self.when.items())

    def recipients(self, facts: Mapping[str, str]) -> list[str]:
        if self.queues is not None:
            return list(self.queues)
        assert self.queue_by is not None
        queue = self.queue_by.map.get(facts[self.queue_by.fact])
        return [queue] if queue else []


class PolicyDoc(_Model):
    policy: str
    title: str
    format: Literal[1]
    queues: dict[str, str] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class Decision:
    effect: Literal["route", "reject"]
    rule_ids: tuple[str, ...]
    reason: str | None
    policy_version: str
    queues: tuple[str, ...] = field(default=())


class Policy:
    """A loaded, linted policy. ``decide(facts)`` is the one evaluator."""

    def __init__(self, doc: PolicyDoc, version: str) -> None:
        self.doc = doc
        self.version = version
        self.queues: tuple[str, ...] = tuple(doc.queues)

    def decide(self, facts: Mapping[str, str]) -> Decision:
        fired = [rule for rule in self.doc.rules if rule.matches(facts)]
        rejects = [rule for rule in fired if rule.effect == "reject"]
        if rejects:
            return Decision("reject", tuple(r.id for r in rejects), rejects[0].reason,
                            self.version)
        queues: list[str] = []
        ids: list[str] = []
        for rule in fired:
            for queue in rule.recipients(facts):
                if queue not in queues:
                    queues.append(queue)
            ids.append(rule.id)
        if not queues:
            return Decision("reject", tuple(ids), DEFAULT_DENY_REASON, self.version)
        return Decision("route", tuple(ids), None, self.version, tuple(queues))


def _lint(doc: PolicyDoc, source: str) -> None:
    for rule in doc.rules:
        where = f"{source}: rule {rule.id!r}"
        for name, cond in rule.when.items():
            enum = FACTS.get(name)
            if enum is None:
                raise ConfigError(f"{where}: unknown fact {name!r}; known: {sorted(FACTS)}")
            allowed = {m.value for m in enum}  # type: ignore[attr-defined]
            for value in (cond.in_ or []) + (cond.not_in or []):
                if value not in allowed:
                    raise ConfigError(f"{where}: {value!r} is not a valid {name}")
        targets = list(rule.queues or [])
        if rule.queue_by is not None:
            enum = FACTS.get(rule.queue_by.fact)
            if enum is None:
                raise ConfigError(f"{where}: queue_by names unknown fact {rule.queue_by.fact!r}")
            allowed = {m.value for m in enum}  # type: ignore[attr-defined]
            for value in rule.queue_by.map:
                if value not in allowed:
                    raise ConfigError(f"{where}: {value!r} is not a valid {rule.queue_by.fact}")
            targets += list(rule.queue_by.map.values())
        for queue in targets:
            if queue not in doc.queues:
                raise ConfigError(f"{where}: unknown queue {queue!r}; declare it under `queues`")
        for example in rule.examples:
            for name in example.event:
                if name not in FACTS:
                    raise ConfigError(f"{where}: example uses unknown fact {name!r}")


def canonical_version(raw: Any) -> str:
    """SHA-256 of the policy's canonical JSON form: the policy version."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_policy(path: Path) -> Policy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from exc
    try:
        doc = PolicyDoc.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{path}: invalid policy at {loc}: {first['msg']}") from exc
    _lint(doc, str(path))
    return Policy(doc, canonical_version(raw))


# Facts an example leaves out take these values.
EXAMPLE_DEFAULTS: dict[str, str] = {
    "kind": "concern",
    "purpose": "crime_prevention",
    "collaboration": "SSP",
    "category": "wellbeing",
    "area": "vordingborg",
    "severity": "medium",
    "consent": "given",
    "agency": "school",
}


@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    index: int
    passed: bool
    got: Decision
    expected: Expectation


def run_examples(policy: Policy) -> list[ExampleResult]:
    results: list[ExampleResult] = []
    for rule in policy.doc.rules:
        for i, example in enumerate(rule.examples):
            got = policy.decide({**EXAMPLE_DEFAULTS, **example.event})
            exp = example.expect
            ok = got.effect == exp.effect
            if exp.queues is not None:
                ok = ok and sorted(got.queues) == sorted(exp.queues)
            if exp.reason is not None:
                ok = ok and got.reason == exp.reason
            results.append(ExampleResult(rule.id, i, ok, got, exp))
    return results
