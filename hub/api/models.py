"""The API's answers as pydantic models: what ``/openapi.json`` documents for every JSON
route (issue 14 item 3).

The routes build their answers as they always did and send them with
:func:`hub.api.context.answer` (bytes unchanged); these models document them, and the tests
(``tests/unit/test_api_openapi.py``, schemathesis' ``response_schema_conformance``) check the
real answers against them. A field that the API leaves *out* when it does not apply is typed
``X | SkipJsonSchema[None] = None``: optional in the schema, never documented as null.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from hub.subject_access import SubjectAccessItem
from schemas.concerns import Aggregate, ConcernSource
from schemas.events import Area, Category, Collaboration, Consent, Severity
from schemas.outcomes import OutcomeStatus

T = TypeVar("T")


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(_Answer, Generic[T]):
    """The list shape of every list endpoint."""

    items: list[T]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null at "
                                                "the end")


# -- ingest and connectors ------------------------------------------------------------------
class IngestAccepted(_Answer):
    event_id: str
    duplicate: bool | SkipJsonSchema[None] = Field(
        None, description="present (true) only when this agency sent the event id before; "
                          "nothing new was published")


class ConnectorAccepted(_Answer):
    line: int = Field(description="the source line or record (1-based)")
    event_id: str
    duplicate: bool | SkipJsonSchema[None] = Field(
        None, description="present (true) only for a record sent before")


class ConnectorRefused(_Answer):
    line: int = Field(description="the source line or record; 0 for the file as a whole")
    field: str = Field(description="the source field, never its value")
    reason: str


class ConnectorCounts(_Answer):
    accepted: int
    refused: int


class ConnectorAnswer(_Answer):
    connector: str
    accepted: list[ConnectorAccepted]
    refused: list[ConnectorRefused]
    counts: ConnectorCounts


class ReasonText(_Answer):
    da: str
    en: str


class EventOutcomeAnswer(_Answer):
    event_id: str
    status: OutcomeStatus
    queues: list[str]
    reason: str | None
    reason_text: ReasonText | SkipJsonSchema[None] = Field(
        None, description="why, in Danish and English, for a rejected or quarantined event")
    rule_ids: list[str]
    policy_version: str | None
    agency: str
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None


# -- queues and concerns ----------------------------------------------------------------------
class QueueItem(_Answer):
    queue: str
    title: str
    concerns: int = Field(description="routed concerns in the queue")


class RelatedPseudonymItem(_Answer):
    role: str
    pseudonym: str | SkipJsonSchema[None] = Field(
        None, description="absent when the sender gave no CPR")


class ConcernItem(_Answer):
    """A routed concern as its queue received it (``schemas.concerns.RoutedConcern``,
    serialised without the fields the policy did not disclose)."""

    format: int
    event_id: uuid.UUID
    queue: str
    pseudonym: str | SkipJsonSchema[None] = Field(
        None, description="absent from an area-level concern, which is about no one")
    age: Annotated[int, Field(ge=0)] | SkipJsonSchema[None] = Field(
        None, description="whole years; absent: area-level, or the policy shows the band")
    age_band: Annotated[str, Field(pattern=r"^\d{1,3}-\d{1,3}$")] | SkipJsonSchema[None] = \
        Field(None, description="the policy's age band holding the age, e.g. 12-14")
    year_group: Annotated[int, Field(ge=0, le=10)] | SkipJsonSchema[None] = Field(
        None, description="the year group of the subject's class (0 is børnehaveklasse)")
    category: Category
    area: Area
    severity: Severity
    occurred_at: dt.datetime
    source: ConcernSource
    collaboration: Collaboration
    consent: Consent
    rule_ids: list[str]
    policy_version: str
    school: str | SkipJsonSchema[None] = None
    related_persons: list[RelatedPseudonymItem] | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = Field(None, description="scrubbed free text")
    necessity: str | SkipJsonSchema[None] = Field(None, description="scrubbed free text")
    flags: list[str]
    disclosed: list[str]
    withheld: list[str]
    aggregate: Aggregate | SkipJsonSchema[None] = None


class StatusChange(_Answer):
    status: str
    note: str | None
    principal: str
    at: dt.datetime


class ConcernStatus(_Answer):
    event_id: str
    queue: str
    status: str
    history: list[StatusChange]


class StatusSet(_Answer):
    event_id: str
    queue: str
    status: str
    note: str | None
    principal: str
    at: dt.datetime


# -- re-identification ------------------------------------------------------------------------
class Identity(_Answer):
    pseudonym: str
    cpr: str
    name: str | None


# -- the disclosure log -----------------------------------------------------------------------
class LogItem(BaseModel):
    """A sequenced log entry as a document: its members (``schemas.disclosures.LogEntry``)
    with ``seq``, ``logged_at`` and ``leaf_hash``; an erased entry keeps only its leaf's."""

    model_config = ConfigDict(extra="allow")

    seq: int
    leaf_hash: str
    entry_id: str | SkipJsonSchema[None] = None
    kind: str | SkipJsonSchema[None] = None
    decision: str | SkipJsonSchema[None] = None
    at: str | SkipJsonSchema[None] = None
    logged_at: str | SkipJsonSchema[None] = None
    erased: bool | SkipJsonSchema[None] = None


class CheckpointAnswer(_Answer):
    origin: str
    tree_size: int
    root_hash: str
    issued_at: str
    key_id: str
    signature: str
    note: str


class LatestCheckpoint(CheckpointAnswer):
    public_key: str | None = Field(description="base64 Ed25519 public key that signed it")


class VerifyProblem(_Answer):
    where: str
    what: str
    message: str


class VerifyAnswer(_Answer):
    ok: bool
    status: str = Field(description="intact | tampered")
    entries: int
    checkpoints: int
    tree_size: int
    root_hash: str
    latest_checkpoint: CheckpointAnswer | None
    entries_after_latest_checkpoint: int
    erased_entries: int
    problems: list[VerifyProblem]
    verification: str = Field(
        "full", description="full (every entry) | incremental (?incremental=true: the entries "
                            "appended since the last verified checkpoint)")


class PublicKeys(_Answer):
    keys: dict[str, str]
    fingerprints: dict[str, str]
    current: str


class InclusionProof(_Answer):
    seq: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    checkpoint: CheckpointAnswer | None


class ConsistencyProof(_Answer):
    first: int
    second: int
    proof: list[str]


class EraseAnswer(_Answer):
    erased: list[int]
    already: list[int]
    version_1: list[int]
    missing: list[int]


# -- subject access ---------------------------------------------------------------------------
class SubjectAccessAnswer(_Answer):
    generated_at: str
    count: int
    include_staff: bool
    entries: list[SubjectAccessItem]


class AccessDecisionMade(_Answer):
    seq: int
    decision: str
    entry_id: str


class AccessDecision(_Answer):
    seq: int
    decision: str
    reason: str
    principal: str
    entry_id: str
    decided_at: str


# -- refusals ---------------------------------------------------------------------------------
class RefusalItem(_Answer):
    seq: int
    at: dt.datetime
    principal: str
    token_hash: str | None
    method: str
    route: str
    status: int
    reason: str


class RefusalSummaryItem(_Answer):
    principal: str
    token_hash: str | None
    refusals: int
    reasons: dict[str, int]
    peak_per_minute: int
    peak_minute: dt.datetime
    first_at: dt.datetime
    last_at: dt.datetime


class RefusalSummary(_Answer):
    window_minutes: int
    since: dt.datetime
    items: list[RefusalSummaryItem]
    next_cursor: None


# -- the service ------------------------------------------------------------------------------
class WhoAmI(_Answer):
    name: str
    role: str
    queues: list[str]


class Health(_Answer):
    status: str


class DropFolder(_Answer):
    """A file-drop watcher's last status: counts, codes and times only."""

    connector: str | None = None
    waiting: int | None = None
    rejected: int | None = None
    rejected_total: int | None = None
    last_error: str | None = Field(None, description="an error code, never a file name")
    last_error_at: str | None = None
    last_delivery_at: str | None = None
    checked_at: str | None = None


class Ready(_Answer):
    status: str = Field(description="ready | not_ready (then with status 503)")
    checks: dict[str, str]
    drop_folders: list[DropFolder]
