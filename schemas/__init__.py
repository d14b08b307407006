"""Canonical event, routed concern, event outcome, disclosure-log entry and checkpoint:
pydantic v2 models, versioned.

JSON Schema exports live in ``schemas/json`` (``python -m schemas.export`` rewrites them;
a test fails when they are out of date).
"""

from schemas.concerns import RoutedConcern
from schemas.cpr import InvalidCpr, age_at, birth_date, normalise_cpr
from schemas.disclosures import Checkpoint, EntryKind, LogEntry
from schemas.events import (
    Agency,
    Area,
    CanonicalEvent,
    Category,
    Collaboration,
    Consent,
    Kind,
    PersonalData,
    Purpose,
    RelatedPerson,
    Severity,
    Source,
    Subject,
)
from schemas.outcomes import EventOutcome, OutcomeStatus

__all__ = [
    "Agency",
    "Area",
    "CanonicalEvent",
    "Category",
    "Checkpoint",
    "Collaboration",
    "Consent",
    "EntryKind",
    "EventOutcome",
    "InvalidCpr",
    "Kind",
    "LogEntry",
    "OutcomeStatus",
    "PersonalData",
    "Purpose",
    "RelatedPerson",
    "RoutedConcern",
    "Severity",
    "Source",
    "Subject",
    "age_at",
    "birth_date",
    "normalise_cpr",
]
