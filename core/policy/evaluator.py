"""The §115 policy as data, and its one evaluator.

The policy file is validated once at load: an unknown queue, fact, value or effect refuses to
start and names the rule. Decisions are values (:class:`Decision`), not exceptions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import ConfigError
from schemas.events import Agency, Area, Category, Collaboration, Consent, Kind, Purpose, Severity
from schemas.personal import never_disclosed


class Necessity(StrEnum):
    """Whether the sender said why sharing is necessary (§115 stk. 4: a stated choice)."""

    stated = "stated"
    blank = "blank"


# Facts a rule may test. Enumerated facts are matched with `in`/`not_in`; `age` (whole years
# at occurred_at, from the CPR) with `between`/`not_between`.
FACTS: dict[str, type] = {
    "kind": Kind,
    "purpose": Purpose,
    "collaboration": Collaboration,
    "category": Category,
    "area": Area,
    "severity": Severity,
    "consent": Consent,
    "agency": Agency,
    "necessity": Necessity,
}
NUMERIC_FACTS = frozenset({"age"})
DEFAULT_DENY_REASON = "no_rule_permits"
Facts = Mapping[str, str | int]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Model):
    in_: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None
    between: tuple[int, int] | None = None
    not_between: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _one(self) -> Condition:
        given = [x for x in (self.in_, self.not_in, self.between, self.not_between)
                 if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `in`, `not_in`, `between`, `not_between`")
        if not given[0]:
            raise ValueError("an empty list matches nothing; remove the condition instead")
        for bounds in (self.between, self.not_between):
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError("`between` bounds are [low, high], inclusive")
        return self

    @property
    def numeric(self) -> bool:
        return self.between is not None or self.not_between is not None

    def holds(self, value: str | int) -> bool:
        if self.in_ is not None:
            return value in self.in_
        if self.not_in is not None:
            return value not in self.not_in
        if self.between is not None:
            return isinstance(value, int) and self.between[0] <= value <= self.between[1]
        assert self.not_between is not None
        return not (isinstance(value, int)
                    and self.not_between[0] <= value <= self.not_between[1])


class QueueBy(_Model):
    fact: str
    map: dict[str, str]


class Expectation(_Model):
    effect: Literal["route", "reject"]
    queues: list[str] | None = None
    reason: str | None = None
    flags: list[str] | None = None
    fields: dict[str, list[str]] | None = None
    # Per queue, the treatment of some fields (e.g. {omraade-stege: {subject: pseudonym_age_band}}).
    treatments: dict[str, dict[str, str]] | None = None


class Example(_Model):
    event: dict[str, str | int]
    expect: Expectation


class Rule(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    when: dict[str, Condition] = Field(min_length=1)
    effect: Literal["route", "reject"]
    reason: str | None = None
    queues: list[str] | None = None
    queue_by: QueueBy | None = None
    flags: list[str] = Field(default_factory=list)
    examples: list[Example] = Field(min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.effect == "reject" and not self.reason:
            raise ValueError("a reject rule needs a `reason`")
        if self.effect == "route" and (self.queues is None) == (self.queue_by is None):
            raise ValueError("a route rule needs exactly one of `queues` or `queue_by`")
        return self

    def matches(self, facts: Facts) -> bool:
        # A fact the event does not have (an area-level concern has no age) matches nothing.
        return all(name in facts and cond.holds(facts[name]) for name, cond in self.when.items())

    def recipients(self, facts: Facts) -> list[str]:
        if self.queues is not None:
            return list(self.queues)
        assert self.queue_by is not None
        queue = self.queue_by.map.get(str(facts[self.queue_by.fact]))
        return [queue] if queue else []


# What may leave the hub, per field of the canonical event. `pseudonym_age` (subject: a
# pseudonym and the age, nothing else), `pseudonym_age_band` (a pseudonym and the age band of
# `generalise.age_bands`, not the age), `year_group` (the class "8.b" as its year group 8, not
# the class), `role_pseudonym` (related persons: role and pseudonym), `scrub` (free text with
# identifiers replaced), `keep`, `drop`.
TREATMENTS: dict[str, frozenset[str]] = {
    "subject": frozenset({"pseudonym_age", "pseudonym_age_band"}),
    "subject.school": frozenset({"keep", "drop"}),
    "subject.class": frozenset({"drop", "year_group"}),  # a quasi-identifier in small schools
    "related_persons": frozenset({"role_pseudonym", "drop"}),
    "description": frozenset({"scrub", "drop"}),
    "necessity": frozenset({"scrub", "drop"}),
    "source": frozenset({"keep"}),
}
# Fields that are never disclosed whatever a policy says: the schema's direct identifiers.
NEVER_DISCLOSED = never_disclosed()


class Disclosure(_Model):
    default: dict[str, str]
    queues: dict[str, dict[str, str]] = Field(default_factory=dict)

    def treatments(self, queue: str) -> dict[str, str]:
        return {**self.default, **self.queues.get(queue, {})}


# Until a policy says otherwise (format 1 files without `disclosure`), free text and
# quasi-identifiers are withheld: fail closed.
WITHHOLD_ALL = Disclosure(default={
    "subject": "pseudonym_age", "subject.school": "drop", "subject.class": "drop",
    "related_persons": "drop", "description": "drop", "necessity": "drop", "source": "keep",
})


# A school class as pupils and schools write it: "8.b", "8 B", "8b", "08.x", "klasse 9c",
# "0. a" (børnehaveklasse), "10.x". Anything else ("modtagerklasse", "specialklasse 3") has no
# year group the hub can read, and is withheld.
_CLASS = re.compile(r"^\s*(?:(?:klasse|kl\.?)\s*)?(0?\d|10)\s*\.?\s*(?:[a-zæøå]{1,2}\b|"
                    r"klasse\b|årgang\b)?\s*$", re.IGNORECASE)
YEAR_GROUPS = range(0, 11)  # 0. (børnehaveklasse) to 10. klasse


def year_group(school_class: str | None) -> int | None:
    """The year group of a class ("8.b" → 8), or None when it cannot be read (withheld)."""
    if not school_class:
        return None
    match = _CLASS.match(school_class)
    if match is None:
        return None
    year = int(match.group(1))
    return year if year in YEAR_GROUPS else None


class GeneraliseExample(_Model):
    """An example of a generalisation: an age and the band it falls in (null: no band, the age
    is withheld), or a class and its year group (null: withheld)."""

    age: int | None = Field(None, ge=0, le=130)
    age_band: str | None = None
    class_: str | None = Field(None, alias="class")
    year_group: int | None = None

    @model_validator(mode="after")
    def _one(self) -> GeneraliseExample:
        if (self.age is None) == (self.class_ is None):
            raise ValueError("an example gives exactly one of `age` or `class`")
        return self


class Generalise(_Model):
    """How quasi-identifiers are generalised: the age bands of `pseudonym_age_band`, as
    inclusive [low, high] pairs, ascending and without gaps or overlaps. An age outside every
    band gets no band: it is withheld (fail closed)."""

    age_bands: list[tuple[int, int]] = Field(default_factory=list)
    examples: list[GeneraliseExample] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bands(self) -> Generalise:
        for low, high in self.age_bands:
            if not 0 <= low <= high <= 130:
                raise ValueError(f"age band [{low}, {high}]: give [low, high] with "
                                 "0 <= low <= high <= 130")
        for (_, high), (low, _) in zip(self.age_bands, self.age_bands[1:], strict=False):
            if low != high + 1:
                raise ValueError(f"age bands must follow each other without gap or overlap: "
                                 f"a band ends at {high}, the next starts at {low}")
        return self

    def age_band(self, age: int) -> str | None:
        """``"12-14"`` for 13 with a band [12, 14]; None outside every band."""
        for low, high in self.age_bands:
            if low <= age <= high:
                return f"{low}-{high}"
        return None


class LegalBasis(_Model):
    """The legal basis written into each disclosure-log entry: per source agency, and for the
    hub's own acts (re-identification, consultation, subject access, erasure)."""

    agencies: dict[str, str]
    hub: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")


# Until a policy names them, entries say only "rpl-115" (retsplejeloven §115).
DEFAULT_LEGAL_BASIS = LegalBasis(agencies={a.value: "rpl-115" for a in Agency}, hub="rpl-115")


class Retention(_Model):
    """How long routed concerns are kept, in months, per queue (``default_months`` else)."""

    default_months: int = Field(ge=1, le=240)
    queues: dict[str, int] = Field(default_factory=dict)

    def months(self, queue: str) -> int:
        return self.queues.get(queue, self.default_months)


COLLABORATIONS = frozenset(c.value for c in Collaboration)


class FourEyes(_Model):
    """Re-identification in a queue (or of a collaboration) that needs a second consultant's
    approval: ``four_eyes``, and how long a request stands (ISO 8601, e.g. ``PT24H``)."""

    four_eyes: bool = False
    expires_after: dt.timedelta = Field(dt.timedelta(hours=24), gt=dt.timedelta(0),
                                        le=dt.timedelta(days=31))


class Reidentification(_Model):
    """Per queue and per collaboration (e.g. ``SSP+``): whether re-identifying a young person
    who has a concern there waits for a second consultant (four eyes). Absent: at once."""

    queues: dict[str, FourEyes] = Field(default_factory=dict)
    collaborations: dict[Collaboration, FourEyes] = Field(default_factory=dict)

    def four_eyes(self, queue: str, collaboration: str | None) -> dt.timedelta | None:
        """How long a request stands when a concern in ``queue`` (of ``collaboration``)
        needs four eyes; None when it does not."""
        settings = [self.queues.get(queue)]
        if collaboration in COLLABORATIONS:
            settings.append(self.collaborations.get(Collaboration(collaboration)))
        return min((s.expires_after for s in settings if s is not None and s.four_eyes),
                   default=None)


SIGNAL_KINDS = frozenset(k.value for k in Kind if k is not Kind.concern)


class Window(_Model):
    """Exactly one of ``school_days`` (Monday–Friday; holidays are not known to the hub, so
    they count as school days) or ``days`` (calendar days). The window ends on the newest
    signal date seen for the key and includes it."""

    school_days: int | None = Field(None, ge=1, le=200)
    days: int | None = Field(None, ge=1, le=366)

    @model_validator(mode="after")
    def _one(self) -> Window:
        if (self.school_days is None) == (self.days is None):
            raise ValueError("give exactly one of `school_days` or `days`")
        return self


class SignalConcern(_Model):
    """The concern a crossed threshold becomes. ``description`` may use {count}, {window},
    {first} and {last}; it is generated text, so it holds no identifiers."""

    category: Category
    severity: Severity
    description: str = Field(min_length=1, max_length=1000)
    necessity: str = Field(min_length=1, max_length=1000)


class SignalSeen(_Model):
    """One signal in an example: its day, who (a label: ``per: area`` counts distinct ones)
    and whether it counts (false: excused absence)."""

    day: dt.date
    who: str = "a"
    counts: bool = True


class SignalExpectation(_Model):
    concerns: int = Field(ge=0)


class SignalExample(_Model):
    signals: list[SignalSeen] = Field(min_length=1)
    expect: SignalExpectation


class SignalRule(_Model):
    """Aggregates one signal kind in windowed state, per pseudonymised young person
    (``per: subject``: counts distinct days) or per area (``per: area``: counts distinct young
    people). At ``threshold`` inside the window one concern leaves the hub; the next one only
    after the count has fallen below the threshold again."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    kind: Kind
    per: Literal["subject", "area"]
    threshold: int = Field(ge=1, le=1000)
    window: Window
    concern: SignalConcern
    examples: list[SignalExample] = Field(min_length=1)

    @model_validator(mode="after")
    def _signal(self) -> SignalRule:
        if self.kind is Kind.concern:
            raise ValueError("`kind` must be a signal kind: "
                             f"{sorted(SIGNAL_KINDS)}")
        return self


class PolicyDoc(_Model):
    policy: str
    title: str
    format: Literal[1]
    queues: dict[str, str] = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    disclosure: Disclosure = WITHHOLD_ALL
    generalise: Generalise = Generalise()
    legal_basis: LegalBasis = DEFAULT_LEGAL_BASIS
    retention: Retention = Retention(default_months=24)
    # Policies without it (format 1 as first written): re-identification needs no approval.
    reidentification: Reidentification = Reidentification()
    # No rule for a signal kind: its signals are rejected `signal_not_aggregated` (fail closed).
    signals: list[SignalRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    effect: Literal["route", "reject"]
    rule_ids: tuple[str, ...]
    reason: str | None
    policy_version: str
    queues: tuple[str, ...] = field(default=())
    flags: tuple[str, ...] = field(default=())
    # Per recipient queue: field → treatment (keep, drop, scrub, pseudonym_age, …).
    treatments: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def disclosed(self, queue: str) -> list[str]:
        """Names of the fields that reach ``queue`` (anything not dropped)."""
        return sorted(f for f, t in self.treatments.get(queue, {}).items() if t != "drop")


DECISIONS_REMEMBERED = 10_000


class Policy:
    """A loaded, linted policy. ``decide(facts)`` is the one evaluator."""

    def __init__(self, doc: PolicyDoc, version: str) -> None:
        self.doc = doc
        self.version = version
        self.queues: tuple[str, ...] = tuple(doc.queues)
        # decide() is a pure function of the facts, which take few distinct values (an age,
        # a handful of categories; never an identity): remembered, bounded.
        self._decided: dict[tuple[tuple[str, str | int], ...], Decision] = {}

    def legal_basis(self, agency: str | None = None) -> str:
        """The legal basis of a disclosure by ``agency``, or of the hub's own acts."""
        basis = self.doc.legal_basis
        return basis.hub if agency is None else basis.agencies.get(agency, basis.hub)

    def signal_rule(self, kind: str) -> SignalRule | None:
        """The aggregation rule for signals of ``kind``, if the policy has one."""
        return next((r for r in self.doc.signals if r.kind.value == kind), None)

    def refusal(self, facts: Facts) -> Decision | None:
        """The reject rules alone: a signal is not disclosed, so only a refusal applies to it
        (whether its concern may leave, and to whom, is decided when the threshold is met)."""
        rejects = [rule for rule in self.doc.rules
                   if rule.effect == "reject" and rule.matches(facts)]
        if not rejects:
            return None
        return Decision("reject", tuple(r.id for r in rejects), rejects[0].reason, self.version)

    def decide(self, facts: Facts) -> Decision:
        """The decision the rules give ``facts`` (the same decision for the same facts)."""
        key = tuple(sorted(facts.items()))
        decision = self._decided.get(key)
        if decision is None:
            if len(self._decided) >= DECISIONS_REMEMBERED:
                self._decided.clear()
            decision = self._decided[key] = self._decide(facts)
        return decision

    def _decide(self, facts: Facts) -> Decision:
        fired = [rule for rule in self.doc.rules if rule.matches(facts)]
        rejects = [rule for rule in fired if rule.effect == "reject"]
        if rejects:
            return Decision("reject", tuple(r.id for r in rejects), rejects[0].reason,
                            self.version)
        queues: list[str] = []
        ids: list[str] = []
        flags: list[str] = []
        for rule in fired:
            for queue in rule.recipients(facts):
                if queue not in queues:
                    queues.append(queue)
            flags += [f for f in rule.flags if f not in flags]
            ids.append(rule.id)
        if not queues:
            return Decision("reject", tuple(ids), DEFAULT_DENY_REASON, self.version)
        treatments = {q: self.doc.disclosure.treatments(q) for q in queues}
        return Decision("route", tuple(ids), None, self.version, tuple(queues), tuple(flags),
                        treatments)


def safe_load(stream: Any) -> Any:
    """``yaml.safe_load`` through libyaml where PyYAML was built with it (its wheels are):
    ten times faster than the pure-Python loader, the same documents."""
    if yaml.__with_libyaml__:
        return yaml.load(stream, Loader=yaml.CSafeLoader)
    return yaml.safe_load(stream)


def _lint(doc: PolicyDoc, source: str, text: str = "") -> None:
    agencies = {a.value for a in Agency}
    for agency in doc.legal_basis.agencies:
        if agency not in agencies:
            raise ConfigError(f"{source}:{_line_of(text, ('legal_basis', 'agencies'))}: "
                              f"legal_basis names unknown agency {agency!r}")
    for agency in sorted(agencies - set(doc.legal_basis.agencies)):
        raise ConfigError(f"{source}:{_line_of(text, ('legal_basis', 'agencies'))}: "
                          f"legal_basis has no entry for agency {agency!r}")
    kinds = [r.kind for r in doc.signals]
    for index, signal in enumerate(doc.signals):
        if kinds.count(signal.kind) > 1:
            raise ConfigError(f"{source}:{_line_of(text, ('signals', index))}: signal rule "
                              f"{signal.id!r}: a second rule for kind {signal.kind.value!r}")
    for queue in doc.retention.queues:
        if queue not in doc.queues:
            raise ConfigError(f"{source}:{_line_of(text, ('retention', 'queues'))}: "
                              f"retention names unknown queue {queue!r}")
    for queue in doc.reidentification.queues:
        if queue not in doc.queues:
            raise ConfigError(f"{source}:{_line_of(text, ('reidentification', 'queues'))}: "
                              f"reidentification names unknown queue {queue!r}")
    for index, rule in enumerate(doc.rules):
        where = _At(source, text, ("rules", index), f"rule {rule.id!r}")
        for name, cond in rule.when.items():
            if name in NUMERIC_FACTS:
                if not cond.numeric:
                    raise ConfigError(f"{where}: {name} takes `between`/`not_between`")
                continue
            enum = FACTS.get(name)
            if enum is None:
                known = sorted([*FACTS, *NUMERIC_FACTS])
                raise ConfigError(f"{where}: unknown fact {name!r}; known: {known}")
            if cond.numeric:
                raise ConfigError(f"{where}: {name} takes `in`/`not_in`, not a range")
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
                if name not in FACTS and name not in NUMERIC_FACTS:
                    raise ConfigError(f"{where}: example uses unknown fact {name!r}")
    where = _At(source, text, ("disclosure",), "disclosure")
    for queue, overrides in [("default", doc.disclosure.default), *doc.disclosure.queues.items()]:
        if queue != "default" and queue not in doc.queues:
            raise ConfigError(f"{where}: unknown queue {queue!r}")
        for fld, treatment in overrides.items():
            if fld not in TREATMENTS:
                raise ConfigError(f"{where}.{queue}: unknown field {fld!r}; "
                                  f"known: {sorted(TREATMENTS)}")
            if treatment not in TREATMENTS[fld]:
                raise ConfigError(f"{where}.{queue}: {fld} cannot be {treatment!r}; "
                                  f"choose one of {sorted(TREATMENTS[fld])}")
    missing = set(TREATMENTS) - set(doc.disclosure.default)
    if missing:
        raise ConfigError(f"{where}.default: say what happens to {sorted(missing)}")
    banded = [q for q in ("default", *doc.disclosure.queues)
              if (doc.disclosure.default if q == "default" else
                  doc.disclosure.treatments(q)).get("subject") == "pseudonym_age_band"]
    if banded and not doc.generalise.age_bands:
        raise ConfigError(f"{where}.{banded[0]}: subject is pseudonym_age_band, but "
                          f"`generalise.age_bands` (line {_line_of(text, ('generalise',))}) "
                          "defines no bands")


class _At:
    """``source:line: what`` of the YAML node at ``path``, for error messages. The line is
    looked up when a message is formatted: composing the YAML tree costs ~80 ms, and the
    shipped policy, which raises nothing, was composed 13 times on every load."""

    def __init__(self, source: str, text: str, path: tuple[str | int, ...], what: str) -> None:
        self.source, self.text, self.path, self.what = source, text, path, what

    def __str__(self) -> str:
        return f"{self.source}:{_line_of(self.text, self.path)}: {self.what}"


def _line_of(text: str, path: tuple[str | int, ...]) -> int | None:
    """1-based line of the YAML node at ``path`` (keys and list indexes), for error messages."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    best = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                and step < len(node.value):
            node = node.value[step]
        else:
            node = None
        if node is None:
            break
        best = node.start_mark.line + 1
    return best


def canonical_version(raw: Any) -> str:
    """SHA-256 of the policy's canonical JSON form: the policy version."""
    # default=str: a YAML date (signal examples) reads as its ISO text, quoted or not.
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from exc
    return parse_policy(text, str(path))


def parse_policy(text: str, path: str) -> Policy:
    """A policy from its YAML text (``path`` names it in errors), validated as at load."""
    try:
        raw = safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from exc
    try:
        doc = PolicyDoc.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        line = _line_of(text, tuple(p for p in first["loc"] if isinstance(p, str | int)))
        raise ConfigError(f"{path}:{line}: invalid policy at {loc}: {first['msg']}") from exc
    _lint(doc, path, text)
    return Policy(doc, canonical_version(raw))


# Facts an example leaves out take these values.
EXAMPLE_DEFAULTS: dict[str, str | int] = {
    "age": 14,
    "necessity": "stated",
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
            if exp.flags is not None:
                ok = ok and sorted(got.flags) == sorted(exp.flags)
            if exp.fields is not None:
                ok = ok and all(got.disclosed(q) == sorted(f) for q, f in exp.fields.items())
            if exp.treatments is not None:
                ok = ok and all(got.treatments.get(q, {}).get(f) == t
                                for q, fields in exp.treatments.items() for f, t in fields.items())
            results.append(ExampleResult(rule.id, i, ok, got, exp))
    return results


@dataclass(frozen=True)
class GeneraliseResult:
    index: int
    given: str       # "age 13" / "class 8.b"
    expected: str
    got: str
    passed: bool


def run_generalise_examples(policy: Policy) -> list[GeneraliseResult]:
    """The policy's examples of age bands and year groups (``generalise.examples``)."""
    results = []
    gen = policy.doc.generalise
    for i, ex in enumerate(gen.examples):
        if ex.age is not None:
            given, expected, got = f"age {ex.age}", str(ex.age_band), str(gen.age_band(ex.age))
        else:
            given = f"class {ex.class_}"
            expected, got = str(ex.year_group), str(year_group(ex.class_))
        results.append(GeneraliseResult(i, given, expected, got, expected == got))
    return results
