"""The worker's work as a chain of typed steps that a unit test runs without Kafka.

    decrypt → validate → decide (policy) → minimise + pseudonymise → route

``process`` turns one ingest record into exactly one :data:`Result`: ``Routed``, ``Rejected``,
``Quarantined`` or — for a signal — ``Aggregated`` (pseudonymised, on its way into windowed
state). ``derive`` turns a threshold met in that state into the concern that leaves the hub.
Faults in the data are values; only bugs raise.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from core.bus import envelope
from core.bus.envelope import EnvelopeRefused, PayloadCipher
from core.ledger.entries import derived_entry_id
from core.policy.evaluator import Decision, Policy, SignalRule, year_group
from core.privacy.crypto import Pseudonymiser
from core.privacy.vault import Identity
from schemas.concerns import Aggregate, ConcernSource, RelatedPseudonym, RoutedConcern
from schemas.cpr import age_at
from schemas.disclosures import EntryKind, LogEntry
from schemas.events import (
    DEFAULT_MAX_FUTURE_SKEW,
    CanonicalEvent,
    Consent,
    error_loc,
    future_skew_context,
)
from schemas.outcomes import EventOutcome, OutcomeStatus
from schemas.personal import disclosure_units
from schemas.signals import SignalRecord
from streams.aggregation import Crossed, local_day

# The canonical event's fields that can carry personal data, as the policy names them: read
# from the schema's PersonalData marks, so a newly marked field is reported as withheld.
PERSONAL_FIELDS = disclosure_units()
# A scrubber: (free text, names the event carries) → text with identifiers replaced.
Scrub = Callable[[str, Sequence[str]], str]


@dataclass(frozen=True)
class IngestRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Mapping[str, bytes]
    # "topic/partition/offset": names a record that carries no event id of its own, the same
    # way on every redelivery.
    position: str = ""


@dataclass(frozen=True)
class Routed:
    outcome: EventOutcome
    concerns: tuple[RoutedConcern, ...]
    identities: tuple[Identity, ...] = ()
    entries: tuple[LogEntry, ...] = ()  # one disclosure-log entry per recipient queue


@dataclass(frozen=True)
class Rejected:
    outcome: EventOutcome
    entries: tuple[LogEntry, ...] = ()  # the refusal, with its reason code and no content


@dataclass(frozen=True)
class Quarantined:
    outcome: EventOutcome
    record: IngestRecord


@dataclass(frozen=True)
class Aggregated:
    outcome: EventOutcome
    signal: SignalRecord  # for the ``signals`` topic: pseudonymised, identity sealed


@dataclass(frozen=True)
class Derived:
    """The concern a crossed threshold makes: its per-queue concerns and log entries, or a
    refusal entry if the rules refuse it; the identity for the vault (subject rules only)."""

    event_id: str
    concerns: tuple[RoutedConcern, ...]
    entries: tuple[LogEntry, ...]
    identities: tuple[Identity, ...] = ()


Result = Routed | Rejected | Quarantined | Aggregated


def record_event_id(record: IngestRecord) -> str:
    """The event id a record claims: its header, else its key; "" when it has neither.
    At most 100 characters (the width of the store's event id columns)."""
    return envelope.read(record.headers, record.key).event_id


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and error types only; pydantic's ``input`` is dropped (it holds the value)."""
    parts = sorted({
        f"{'.'.join(error_loc(err)) or '<root>'}:{err['type']}" for err in exc.errors()
    })
    return "invalid:" + ",".join(parts[:10])


def facts_of(event: CanonicalEvent, age: int) -> dict[str, str | int]:
    """What the policy may test about an event (core/policy/evaluator.py FACTS and age)."""
    return {
        "age": age,
        "necessity": "stated" if event.necessity.strip() else "blank",
        "kind": event.kind.value,
        "purpose": event.purpose.value,
        "collaboration": event.collaboration.value,
        "category": event.category.value,
        "area": event.area.value,
        "severity": event.severity.value,
        "consent": event.consent.value,
        "agency": event.source.agency.value,
    }


class Pipeline:
    """Holds the reusable objects (ciphers, MAC, policy) so per-event work stays small."""

    def __init__(self, cipher: PayloadCipher, pseudonymise: Pseudonymiser, policy: Policy,
                 scrub: Scrub | None = None, *,
                 max_future_skew: dt.timedelta = DEFAULT_MAX_FUTURE_SKEW) -> None:
        self.cipher = cipher
        self.max_future_skew = max_future_skew
        self.pseudonymise = pseudonymise
        self.policy = policy
        # Without a scrubber, a `scrub` treatment withholds the text: fail closed.
        self.scrub = scrub

    def process(self, record: IngestRecord, now: dt.datetime | None = None) -> Result:
        now = now or dt.datetime.now(dt.UTC)
        claims = envelope.read(record.headers, record.key)
        event_id, agency, ingested_at = claims.event_id, claims.agency, claims.ingested_at

        def quarantine(reason: str) -> Quarantined:
            return Quarantined(
                EventOutcome(event_id=event_id, agency=agency, status=OutcomeStatus.quarantined,
                             reason=reason, ingested_at=ingested_at, decided_at=now),
                record,
            )

        try:
            plaintext = envelope.open(self.cipher, record.topic, claims, record.value)
        except EnvelopeRefused as exc:
            return quarantine(exc.reason)
        try:
            # The future bound (issue 13 item 7) against this clock, which is never behind
            # the API's acceptance: what the API accepted under the same skew passes here.
            event = CanonicalEvent.model_validate_json(
                plaintext, context=future_skew_context(self.max_future_skew))
        except ValidationError as exc:
            return quarantine(describe_validation_error(exc))
        if str(event.event_id) != event_id:
            return quarantine("event_id_mismatch")
        if event.source.agency.value != agency:
            return quarantine("source_agency_mismatch")

        try:
            age = age_at(event.subject.cpr, event.occurred_at.date())
        except ValueError:
            return quarantine("invalid:subject.cpr:birth_date")
        facts = facts_of(event, age)
        rule = self.policy.signal_rule(event.kind.value) if event.kind.value != "concern" \
            else None
        if event.kind.value != "concern":
            refusal = self.policy.refusal(facts)
            if refusal is None and rule is not None:
                return self._aggregate(event, age, rule, ingested_at, now, facts)
            decision = refusal or Decision(
                "reject", (), "signal_not_aggregated", self.policy.version)
        else:
            decision = self.policy.decide(facts)
        if decision.effect == "reject":
            return self._reject(event, decision, ingested_at, now, facts)
        return self._route(event, age, decision, ingested_at, now, facts)

    def _reject(self, event: CanonicalEvent, decision: Decision,
                ingested_at: dt.datetime | None, now: dt.datetime,
                facts: dict[str, str | int] | None = None) -> Rejected:
        """The refusal's outcome and its log entry (reason code, no content)."""
        event_id, agency = str(event.event_id), event.source.agency.value
        basis = self.policy.legal_basis(agency)
        return Rejected(
            EventOutcome(
                event_id=event_id, agency=agency, status=OutcomeStatus.rejected,
                reason=decision.reason, rule_ids=list(decision.rule_ids),
                policy_version=decision.policy_version, ingested_at=ingested_at,
                decided_at=now, decision_inputs=facts,
            ),
            (LogEntry(
                entry_id=derived_entry_id("rejection", event_id), kind=EntryKind.rejection,
                at=now, event_id=event_id, agency=agency, unit=event.source.unit,
                collaboration=event.collaboration.value, legal_basis=basis,
                purpose=event.purpose.value, reason_code=decision.reason,
                rule_ids=list(decision.rule_ids), policy_version=decision.policy_version,
            ),),
        )

    def _route(self, event: CanonicalEvent, age: int, decision: Decision,
               ingested_at: dt.datetime | None, now: dt.datetime,
               facts: dict[str, str | int] | None = None) -> Routed:
        """Per recipient queue: the concern minimised as its treatments say, and its
        disclosure-log entry; the identities for the vault."""
        event_id, agency = str(event.event_id), event.source.agency.value
        basis = self.policy.legal_basis(agency)
        # Each person's pseudonym once per event (a related person's is used twice below).
        pseudonyms = {cpr: self.pseudonymise(cpr) for cpr in
                      {event.subject.cpr, *(p.cpr for p in event.related_persons if p.cpr)}}
        pseudonym = pseudonyms[event.subject.cpr]
        source = ConcernSource(agency=event.source.agency, unit=event.source.unit)
        related = [RelatedPseudonym(role=p.role,
                                    pseudonym=pseudonyms[p.cpr] if p.cpr else None)
                   for p in event.related_persons]
        names = [n for n in [event.subject.name, *(p.name for p in event.related_persons)] if n]
        scrubbed: dict[str, str] = {}

        def text(field: str, value: str, treatment: str) -> str | None:
            if treatment != "scrub" or self.scrub is None or not value.strip():
                return None
            if field not in scrubbed:
                scrubbed[field] = self.scrub(value, names)
            return scrubbed[field]

        concerns = []
        for queue in decision.queues:
            t = decision.treatments[queue]
            school = event.subject.school if t["subject.school"] == "keep" else None
            persons = related if t["related_persons"] == "role_pseudonym" else []
            description = text("description", event.description, t["description"])
            necessity = text("necessity", event.necessity, t["necessity"])
            shown_age, band = self._age(age, t)
            year = year_group(event.subject.class_) if t["subject.class"] == "year_group" \
                else None
            shown = {"subject.school": school, "related_persons": persons or None,
                     "description": description, "necessity": necessity}
            concerns.append(RoutedConcern(
                event_id=event.event_id, queue=queue, pseudonym=pseudonym, age=shown_age,
                age_band=band, year_group=year,
                category=event.category, area=event.area, severity=event.severity,
                occurred_at=event.occurred_at, source=source,
                collaboration=event.collaboration, consent=event.consent,
                rule_ids=list(decision.rule_ids), policy_version=decision.policy_version,
                school=school, related_persons=persons or None, description=description,
                necessity=necessity, flags=list(decision.flags),
                disclosed=sorted(["subject.pseudonym", "source",
                                  *_age_fields(shown_age, band, year),
                                  *(f for f, v in shown.items() if v is not None)]),
                withheld=[f for f in PERSONAL_FIELDS if shown.get(f) is None],
            ))
        # The log keeps the sender's necessity text, scrubbed, whatever the queues were shown.
        logged_necessity = text("necessity", event.necessity, "scrub")
        entries = tuple(LogEntry(
            entry_id=derived_entry_id("disclosure", event_id, c.queue),
            kind=EntryKind.disclosure, at=now, event_id=event_id, agency=agency,
            unit=event.source.unit, recipient=c.queue, recipient_type="queue",
            collaboration=event.collaboration.value, legal_basis=basis,
            purpose=event.purpose.value, necessity=logged_necessity, fields=c.disclosed,
            rule_ids=list(decision.rule_ids), policy_version=decision.policy_version,
            pseudonym=pseudonym,
            related_pseudonyms=[p.pseudonym for p in c.related_persons or [] if p.pseudonym],
            details={"flags": list(decision.flags)} if decision.flags else {},
        ) for c in concerns)
        identities = [Identity(pseudonym, event.subject.cpr, event.subject.name)]
        identities += [Identity(pseudonyms[p.cpr], p.cpr, p.name)
                       for p in event.related_persons if p.cpr]
        return Routed(
            EventOutcome(
                event_id=event_id, agency=agency, status=OutcomeStatus.routed,
                queues=list(decision.queues), rule_ids=list(decision.rule_ids),
                policy_version=decision.policy_version, ingested_at=ingested_at, decided_at=now,
                decision_inputs=facts,
            ),
            tuple(concerns),
            tuple(identities),
            entries,
        )

    def _age(self, age: int, treatments: Mapping[str, str]) -> tuple[int | None, str | None]:
        """(exact age, age band) as a queue is shown them: the age (``pseudonym_age``), or its
        band and no age (``pseudonym_age_band``; neither if no band holds it)."""
        if treatments["subject"] == "pseudonym_age_band":
            return None, self.policy.doc.generalise.age_band(age)
        return age, None

    def _aggregate(self, event: CanonicalEvent, age: int, rule: SignalRule,
                   ingested_at: dt.datetime | None, now: dt.datetime,
                   facts: dict[str, str | int] | None = None) -> Aggregated:
        event_id = str(event.event_id)
        agency = event.source.agency.value
        if event.absence is not None:
            day, counts = event.absence.date, not event.absence.excused
        else:  # a signal without detail is one registration (one day absent) on its own day
            day, counts = local_day(event.occurred_at), True
        identity = json.dumps({"cpr": event.subject.cpr, "name": event.subject.name},
                              separators=(",", ":")).encode("utf-8")
        key_id, sealed = self.cipher.encrypt(identity, event_id, signal_aad(agency))
        signal = SignalRecord(
            event_id=event_id, rule=rule.id, kind=event.kind, day=day, counts=counts,
            pseudonym=self.pseudonymise(event.subject.cpr), age=age, area=event.area,
            agency=event.source.agency, unit=event.source.unit, school=event.subject.school,
            collaboration=event.collaboration, consent=event.consent,
            occurred_at=event.occurred_at, key_id=key_id,
            sealed_identity=base64.b64encode(sealed).decode("ascii"))
        return Aggregated(
            EventOutcome(event_id=event_id, agency=agency, status=OutcomeStatus.aggregated,
                         rule_ids=[rule.id], policy_version=self.policy.version,
                         ingested_at=ingested_at, decided_at=now, decision_inputs=facts),
            signal)

    def derive(self, rule: SignalRule, signal: SignalRecord, crossed: Crossed,
               event_id: uuid.UUID, now: dt.datetime) -> Derived:
        """The concern ``crossed`` makes, decided by the same rules as any concern. ``signal``
        is the one that met the threshold (its source, collaboration and consent speak for the
        concern). An area-level concern carries the area and counts: no pseudonym, no age, no
        school, no identity."""
        personal = rule.per == "subject"
        agency = signal.agency.value
        facts: dict[str, str | int] = {
            "necessity": "stated", "kind": "concern", "purpose": "crime_prevention",
            "collaboration": signal.collaboration.value, "category": rule.concern.category.value,
            "area": signal.area.value, "severity": rule.concern.severity.value,
            "consent": signal.consent.value if personal else "not_sought", "agency": agency,
        }
        if personal:
            facts["age"] = signal.age
        decision = self.policy.decide(facts)
        basis = self.policy.legal_basis(agency)
        ident = str(event_id)
        aggregate = Aggregate(rule=rule.id, counted="days" if personal else "young_people",
                              count=crossed.count, window_from=crossed.first,
                              window_to=crossed.last)
        details: dict[str, int | str | list[str]] = {
            "signal_rule": rule.id, "count": crossed.count,
            "window_from": crossed.first.isoformat(), "window_to": crossed.last.isoformat()}
        if decision.effect == "reject":
            return Derived(ident, (), (LogEntry(
                entry_id=derived_entry_id("rejection", ident), kind=EntryKind.rejection,
                at=now, event_id=ident, agency=agency, unit=signal.unit,
                collaboration=signal.collaboration.value, legal_basis=basis,
                purpose="crime_prevention", reason_code=decision.reason,
                rule_ids=[rule.id, *decision.rule_ids], policy_version=decision.policy_version,
                details=details),))
        description = rule.concern.description.format(
            count=crossed.count, window=crossed.window, first=crossed.first.isoformat(),
            last=crossed.last.isoformat())
        pseudonym = signal.pseudonym if personal else None
        concerns = []
        for queue in decision.queues:
            t = decision.treatments[queue]
            school = signal.school if personal and t["subject.school"] == "keep" else None
            shown_age, band = self._age(signal.age, t) if personal else (None, None)
            text = {f: (v if t[f] != "drop" else None) for f, v in (
                ("description", description), ("necessity", rule.concern.necessity))}
            shown = {"subject.school": school, **text}
            concerns.append(RoutedConcern(
                event_id=event_id, queue=queue, pseudonym=pseudonym,
                age=shown_age, age_band=band, category=rule.concern.category,
                area=signal.area, severity=rule.concern.severity, occurred_at=signal.occurred_at,
                source=ConcernSource(agency=signal.agency, unit=signal.unit),
                collaboration=signal.collaboration,
                consent=signal.consent if personal else Consent.not_sought,
                rule_ids=[rule.id, *decision.rule_ids], policy_version=decision.policy_version,
                school=school, description=text["description"], necessity=text["necessity"],
                flags=list(decision.flags), aggregate=aggregate,
                disclosed=sorted([*(["subject.pseudonym"] if personal else []),
                                  *_age_fields(shown_age, band, None), "source", "aggregate",
                                  *(f for f, v in shown.items() if v is not None)]),
                withheld=[f for f in PERSONAL_FIELDS if f not in shown or shown[f] is None],
            ))
        entries = tuple(LogEntry(
            entry_id=derived_entry_id("disclosure", ident, c.queue),
            kind=EntryKind.disclosure, at=now, event_id=ident, agency=agency, unit=signal.unit,
            recipient=c.queue, recipient_type="queue",
            collaboration=signal.collaboration.value, legal_basis=basis,
            purpose="crime_prevention", necessity=rule.concern.necessity, fields=c.disclosed,
            rule_ids=list(c.rule_ids), policy_version=decision.policy_version,
            pseudonym=pseudonym,
            details={**details, **({"flags": list(decision.flags)} if decision.flags else {})},
        ) for c in concerns)
        identities: tuple[Identity, ...] = ()
        if personal and concerns:
            doc = json.loads(self.cipher.decrypt(
                signal.key_id, base64.b64decode(signal.sealed_identity), signal.event_id,
                signal_aad(agency)))
            identities = (Identity(signal.pseudonym, doc["cpr"], doc["name"]),)
        return Derived(ident, tuple(concerns), entries, identities)


def _age_fields(age: int | None, band: str | None, year: int | None) -> list[str]:
    """The disclosed names of the subject's age, age band and year group, where shown."""
    return [name for name, value in (("subject.age", age), ("subject.age_band", band),
                                     ("subject.year_group", year)) if value is not None]


def signal_aad(agency: str) -> str:
    """The agency part of a sealed identity's associated data: never valid as ingest AAD."""
    return f"signal.{agency}"


def outcome_json(outcome: EventOutcome) -> bytes:
    return outcome.model_dump_json().encode("utf-8")


def concern_json(concern: RoutedConcern) -> bytes:
    return concern.model_dump_json(exclude_none=True).encode("utf-8")


def dedupe_batch(records: Sequence[IngestRecord]) -> list[IngestRecord]:
    """Keep the first record of each event id inside one batch."""
    seen: set[str] = set()
    out = []
    for record in records:
        ident = record_event_id(record)
        if ident and ident in seen:
            continue
        seen.add(ident)
        out.append(record)
    return out


def parse_outcome(value: bytes) -> EventOutcome:
    return EventOutcome.model_validate(json.loads(value))
