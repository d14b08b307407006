"""The outcome of one ingested event: exactly one of routed, rejected, quarantined, or (for
signals only) aggregated. ingested = routed + rejected + quarantined + aggregated."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class OutcomeStatus(StrEnum):
    pending = "pending"
    routed = "routed"
    rejected = "rejected"
    quarantined = "quarantined"
    aggregated = "aggregated"  # a signal counted into windowed state (streams/aggregation.py)


class EventOutcome(BaseModel):
    """Published on the ``outcomes`` topic and answered by ``GET /api/v1/events/{id}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    agency: str
    status: OutcomeStatus
    queues: list[str] = Field(default_factory=list)
    reason: str | None = None
    rule_ids: list[str] = Field(default_factory=list)
    policy_version: str | None = None
    ingested_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    # What the policy decided on (core/policy/evaluator.py FACTS and the age in whole years):
    # enumerated codes and one number, never an identifier or free text. Stored per event so
    # that a proposed policy can be replayed against past decisions (``ssp-hub policy diff``).
    decision_inputs: dict[str, str | int] | None = None
