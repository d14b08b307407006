"""The canonical event, schema version 1 (DESIGN.md §6).

Fields that hold personal data carry a :class:`PersonalData` mark in their annotation, so that
minimisation, log redaction and the no-plaintext tests read the mark (:mod:`schemas.personal`)
instead of keeping lists of their own.
Unknown fields are rejected (``extra="forbid"``), never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.cpr import birth_date, normalise_cpr


@dataclass(frozen=True)
class PersonalData:
    """Marks a field as personal data. ``kind`` says what it is: ``cpr``, ``name``,
    ``address`` (direct identifiers), ``quasi`` (a quasi-identifier such as the school) or
    ``text`` (free text that may name people). :mod:`schemas.personal` reads the marks for
    minimisation, log redaction and the no-plaintext checks."""

    kind: str

    @property
    def identifying(self) -> bool:
        """A direct identifier: never disclosed, never on the broker or in a log in
        plaintext. Every kind but ``quasi`` and ``text`` is one."""
        return self.kind not in ("quasi", "text")


class Agency(StrEnum):
    school = "school"
    social = "social"
    police = "police"


class Kind(StrEnum):
    concern = "concern"
    school_absence = "school_absence"
    police_registration = "police_registration"


class Collaboration(StrEnum):
    SSP = "SSP"
    SSP_PLUS = "SSP+"
    PSP = "PSP"
    KSP = "KSP"


class Purpose(StrEnum):
    crime_prevention = "crime_prevention"
    investigation = "investigation"


class Category(StrEnum):
    crime = "crime"
    substance_abuse = "substance_abuse"
    school_absence = "school_absence"
    group_conflict = "group_conflict"
    insecurity = "insecurity"
    extremism = "extremism"
    radicalisation = "radicalisation"
    honour_related_conflict = "honour_related_conflict"
    negative_social_control = "negative_social_control"
    wellbeing = "wellbeing"


class Area(StrEnum):
    praestoe = "praestoe"
    stege = "stege"
    vordingborg = "vordingborg"
    other = "other"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    acute = "acute"


class Consent(StrEnum):
    sought = "sought"
    given = "given"
    refused = "refused"
    overridden = "overridden"
    not_sought = "not_sought"


# An event from the future sticks to the top of every inbox and blanks the governance report:
# ``occurred_at`` may lie at most this far ahead of the validating clock. The API and the
# worker pass the configured skew (``SSP_HUB_MAX_FUTURE_SKEW``) as validation context
# ``{"max_future_skew": timedelta}``; without one, this default applies.
DEFAULT_MAX_FUTURE_SKEW = dt.timedelta(minutes=5)
FUTURE_SKEW_KEY = "max_future_skew"
FUTURE_NOW_KEY = "now"


def future_skew_context(skew: dt.timedelta, now: dt.datetime | None = None
                        ) -> dict[str, dt.timedelta | dt.datetime]:
    """The validation context (``model_validate(…, context=…)``) that sets the allowed skew
    and, for the worker, the clock to compare with: the API's acceptance time, so that the
    worker never refuses what the API accepted under the same skew."""
    return {FUTURE_SKEW_KEY: skew} | ({} if now is None else {FUTURE_NOW_KEY: now})


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
UNKNOWN_FIELD = "<unknown field>"


def error_loc(err: Mapping[str, Any]) -> list[str]:
    """A pydantic error's location, safe to show: an unknown key (``extra_forbidden``) is
    named only when it looks like a field name; anything else a sender used as a key (a CPR
    number, a sentence) becomes ``<unknown field>`` — a key is caller-chosen text."""
    loc = [str(p) for p in err.get("loc", ())]
    if loc and err.get("type") == "extra_forbidden" and not _FIELD_NAME.fullmatch(loc[-1]):
        loc[-1] = UNKNOWN_FIELD
    return loc


Cpr = Annotated[str, AfterValidator(normalise_cpr), PersonalData("cpr")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    # hide_input_in_errors: str(ValidationError) must never carry a CPR or a name.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              hide_input_in_errors=True)


class Source(_Strict):
    agency: Agency
    system: ShortText
    unit: ShortText


class Subject(_Strict):
    cpr: Cpr
    name: Annotated[str | None, PersonalData("name"), Field(max_length=200)] = None
    address: Annotated[str | None, PersonalData("address"), Field(max_length=300)] = None
    school: Annotated[str | None, PersonalData("quasi"), Field(max_length=200)] = None
    class_: Annotated[
        str | None, PersonalData("quasi"), Field(alias="class", max_length=50)
    ] = None

    # `class` is a Python keyword, so the attribute is `class_`; only `class` is accepted
    # as input (no populate_by_name: the contract knows one spelling).
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              hide_input_in_errors=True)


class RelatedPerson(_Strict):
    role: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z_]+$")]
    cpr: Annotated[str | None, AfterValidator(lambda v: v if v is None else normalise_cpr(v)),
                   PersonalData("cpr")] = None
    name: Annotated[str | None, PersonalData("name"), Field(max_length=200)] = None


class Absence(_Strict):
    """A ``school_absence`` signal's registration: one pupil, one school day."""

    date: dt.date
    lessons: Annotated[int, Field(ge=0, le=12, description="lessons missed that day")] = 0
    excused: bool = Field(description="lovligt fravær (illness, permission) or not")


class Registration(_Strict):
    """A ``police_registration`` signal: a named young person registered in a place."""

    place: Annotated[str, Field(min_length=1, max_length=200,
                                description="where, e.g. 'Stege Havn' (a place, no address)")]


class CanonicalEvent(_Strict):
    """An event as an agency system publishes it (schema version 1).

    ``absence`` and ``registration`` are optional, additive detail for the two signal kinds
    (issue 5): each is allowed only with its own kind. Version 1 events without them stay
    valid.
    """

    event_id: uuid.UUID
    schema_version: Literal[1]
    kind: Kind
    occurred_at: dt.datetime
    source: Source
    collaboration: Collaboration
    purpose: Purpose
    subject: Subject
    related_persons: list[RelatedPerson] = Field(default_factory=list, max_length=20)
    category: Category
    area: Area
    severity: Severity
    description: Annotated[str, PersonalData("text"), Field(max_length=10_000)] = ""
    consent: Consent
    necessity: Annotated[str, PersonalData("text"), Field(max_length=5_000)] = ""
    absence: Absence | None = None
    registration: Registration | None = None

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: dt.datetime, info: ValidationInfo) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a UTC offset, e.g. 2026-03-02T14:05:00+01:00")
        context = info.context if isinstance(info.context, dict) else {}
        skew = context.get(FUTURE_SKEW_KEY, DEFAULT_MAX_FUTURE_SKEW)
        now = context.get(FUTURE_NOW_KEY) or dt.datetime.now(dt.UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        if value - now > skew:
            # The reason names the bound, never the value.
            raise ValueError(f"lies in the future (more than {int(skew.total_seconds())} s "
                             "ahead of the hub's clock)")
        return value

    @model_validator(mode="after")
    def _signal_detail_matches_kind(self) -> CanonicalEvent:
        if self.absence is not None and self.kind is not Kind.school_absence:
            raise ValueError("absence is only allowed with kind school_absence")
        if self.registration is not None and self.kind is not Kind.police_registration:
            raise ValueError("registration is only allowed with kind police_registration")
        return self

    @model_validator(mode="after")
    def _after_birth(self) -> CanonicalEvent:
        if self.occurred_at.date() < birth_date(self.subject.cpr):
            raise ValueError("occurred_at lies before the subject's birth date (from subject.cpr)")
        return self
