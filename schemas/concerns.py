"""A concern as it leaves the hub into a case queue: pseudonymised and minimised."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import Agency, Area, Category, Collaboration, Consent, Severity

CONCERN_FORMAT = 1


class ConcernSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    agency: Agency
    unit: str


class RoutedConcern(BaseModel):
    """What a case queue receives. No name, CPR, address, related person or free text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = CONCERN_FORMAT
    event_id: uuid.UUID
    queue: str
    pseudonym: str = Field(description="HMAC-SHA256 of the CPR in the ssp domain, e.g. ssp1:…")
    age: int = Field(ge=0, description="whole years at occurred_at")
    category: Category
    area: Area
    severity: Severity
    occurred_at: dt.datetime
    source: ConcernSource
    collaboration: Collaboration
    consent: Consent
    rule_ids: list[str]
    policy_version: str
    withheld: list[str] = Field(
        description="fields of the event that were not disclosed (names only)"
    )
