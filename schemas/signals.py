"""A pseudonymised signal on the internal ``signals`` topic, between the route stage and the
aggregator (streams/aggregation.py).

It carries what the windowed state and the concern a crossed threshold makes need, and nothing
else: the young person's pseudonym, age, school (a quasi-identifier the policy may disclose),
the day, whether it counts, and the source. The identity itself travels only sealed
(AES-GCM under the ingest key, bound to the event id), so that the vault receives it when — and
only when — a concern about the young person leaves the hub.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import Agency, Area, Collaboration, Consent, Kind

SIGNAL_FORMAT = 1


class SignalRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = SIGNAL_FORMAT
    event_id: str = Field(description="the ingested signal's event id")
    rule: str = Field(description="the policy's signal rule that aggregates it")
    kind: Kind
    day: dt.date = Field(description="the day it is counted on (Europe/Copenhagen)")
    counts: bool = Field(description="false for excused absence: seen, but not counted")
    pseudonym: str
    age: int = Field(ge=0)
    area: Area
    agency: Agency
    unit: str
    school: str | None = None
    collaboration: Collaboration
    consent: Consent
    occurred_at: dt.datetime
    key_id: str = Field(description="the ingest key that sealed the identity")
    sealed_identity: str = Field(description="base64 AES-GCM of {cpr, name}")
