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


class RelatedPseudonym(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: str
    pseudonym: str | None = Field(description="null when the sender gave no CPR")


class Aggregate(BaseModel):
    """How a concern made from signals came about: the policy's signal rule, what it counted
    (``days`` of unexcused absence, or distinct ``young_people`` in an area) and the window."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rule: str
    counted: str = Field(description="days | young_people")
    count: int = Field(ge=1)
    window_from: dt.date
    window_to: dt.date


class RoutedConcern(BaseModel):
    """What a case queue receives: pseudonymised and minimised as the policy says per queue.

    Never a name, CPR or address. Serialise with :func:`concern_json` (fields the policy did
    not disclose are left out of the message, not sent as null)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = CONCERN_FORMAT
    event_id: uuid.UUID
    queue: str
    pseudonym: str | None = Field(
        description="HMAC-SHA256 of the CPR in the ssp domain, e.g. ssp1:…; absent from an "
                    "area-level concern, which is about no one")
    age: int | None = Field(ge=0, description="whole years at occurred_at (absent: area-level, "
                                               "or the policy shows this queue the age band)")
    age_band: str | None = Field(
        None, pattern=r"^\d{1,3}-\d{1,3}$",
        description="the policy's age band holding the age, e.g. 12-14 (inclusive), where the "
                    "policy generalises the age for this queue (treatment pseudonym_age_band)")
    year_group: int | None = Field(
        None, ge=0, le=10,
        description="the year group of the subject's class (8 for 8.b; 0 is børnehaveklasse), "
                    "where the policy generalises the class for this queue (year_group)")
    category: Category
    area: Area
    severity: Severity
    occurred_at: dt.datetime
    source: ConcernSource
    collaboration: Collaboration
    consent: Consent
    rule_ids: list[str]
    policy_version: str
    school: str | None = Field(None, description="only where the policy keeps it for the queue")
    related_persons: list[RelatedPseudonym] | None = Field(
        None, description="role and pseudonym only, where the policy discloses them")
    description: str | None = Field(None, description="scrubbed free text, or withheld (null)")
    necessity: str | None = Field(None, description="scrubbed free text, or withheld (null)")
    flags: list[str] = Field(default_factory=list, description="e.g. underretning_required")
    disclosed: list[str] = Field(default_factory=list,
                                 description="fields of the event disclosed to this queue")
    withheld: list[str] = Field(
        description="fields of the event that were not disclosed (names only)"
    )
    aggregate: Aggregate | None = Field(
        None, description="set when the hub made this concern from signals")
