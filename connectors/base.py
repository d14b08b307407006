"""What every native-format adapter shares: the per-record result, the connector base class,
deterministic event ids, the Danish value tables and the no-echo field helpers.

A connector turns the bytes of one native export into one result per source record:
:class:`Mapped` (a validated :class:`~schemas.events.CanonicalEvent`) or :class:`Refused`
(the source line/record, the *source* field name, and a reason that never holds the value).
``parse`` never raises on bad input: a file that cannot be read at all becomes a single
``Refused(line=0, field="<file>", …)``.

Pure code: no I/O beyond the bytes handed in, no broker, no HTTP, no clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from schemas.cpr import InvalidCpr, age_at, normalise_cpr
from schemas.events import Agency, Area, CanonicalEvent, Category, Collaboration, Consent, Severity

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

FILE = "<file>"      # field name of a refusal about the file as a whole (line 0)
RECORD = "<record>"  # field name of a refusal about a record that is not one field's fault

# Reasons. None of them ever contains the value that was refused.
MISSING = "missing"
NOT_TEXT = "not text"
NOT_CPR = "not a valid CPR number (10 digits DDMMYYSSSS with a real birth date)"
CPR_NOT_TEXT = "not text (write the CPR number as a string: a number loses its leading zero)"
NOT_DATE = "not a date (YYYY-MM-DD)"
NOT_TEXT_FILE = "not a text file (it holds NUL bytes)"
NOT_DATETIME = ("not a date-time (YYYY-MM-DDTHH:MM[:SS], optionally with a UTC offset; "
                "without one it is read as Danish local time)")

# Event ids: uuid5 over the connector's name and the record's own stable key, in a namespace.
# The default namespace is public; for a key that holds a CPR number (school-absence: CPR +
# date) anyone could then recompute the ids of a guessed CPR, so the hub passes a namespace
# derived from a secret (keyed_namespace) in production. Both are stable across runs.
DEFAULT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:ssp-hub:connectors:event-id:v1")


def keyed_namespace(secret: bytes) -> uuid.UUID:
    """A namespace derived from a secret (HMAC-SHA256), so that event ids over CPR + date
    cannot be recomputed from a guessed CPR. The same secret always gives the same ids."""
    digest = hmac.new(secret, b"ssp-hub connectors event-id v1", hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16])


@dataclass(frozen=True, slots=True)
class Mapped:
    """A source record mapped to a valid canonical event.

    ``line`` is 1-based: the physical line in a CSV file (the header is line 1) or a JSON Lines
    file, the record's index in a JSON array or among an XML root's child elements."""

    line: int
    event: CanonicalEvent

    def __repr__(self) -> str:  # a logged or printed result must not carry the person
        return f"Mapped(line={self.line}, event_id={self.event.event_id})"


@dataclass(frozen=True, slots=True)
class Refused:
    """A source record (or, with ``line == 0``, the whole file) that could not be mapped.

    ``field`` is the *source* field as the file spells it (``elev_cpr``, ``barn/@cpr``,
    ``person.cpr``, ``forældre[2].rolle``), or ``<file>``/``<record>``/``<row>``/``<line>``.
    ``reason`` says what is wrong without ever echoing the value."""

    line: int
    field: str
    reason: str


Result = Mapped | Refused


class Bad(Exception):
    """One source field is wrong. Raised while mapping a record, caught per record."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


class BadFile(Exception):
    """The file as a whole cannot be read (empty, not UTF-8, not JSON/XML, wrong shape)."""

    def __init__(self, reason: str, line: int = 0, field: str = FILE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.field = field


@dataclass(frozen=True)
class Connector(ABC):
    """One native source format of one agency, mapped to canonical events v1.

    Subclasses set the class constants and implement :meth:`_results`; :meth:`parse` adds the
    guarantee that nothing escapes. ``id_namespace`` makes event ids deterministic: the same
    record parsed twice (a file dropped again, an HTTP retry) gets the same ``event_id``,
    which the hub's de-duplication absorbs.
    """

    name: ClassVar[str]
    agency: ClassVar[Agency]
    media_type: ClassVar[str]
    system: ClassVar[str]
    numbering: ClassVar[Literal["line", "record"]]  # what Refused.line / Mapped.line count

    id_namespace: uuid.UUID = field(default=DEFAULT_NAMESPACE)

    def parse(self, data: bytes) -> list[Result]:
        """One result per source record, in file order. Never raises on bad input."""
        out: list[Result] = []
        try:
            out.extend(self._results(data))
        except BadFile as exc:
            out.append(Refused(exc.line, exc.field, exc.reason))
        except Exception as exc:  # the contract: bad input never raises out of parse
            out.append(Refused(0, FILE, f"could not be read ({type(exc).__name__})"))
        return out

    @abstractmethod
    def _results(self, data: bytes) -> Iterator[Result]:
        """Yield one result per record; raise :class:`BadFile` for the file as a whole."""

    def event_id(self, *key: str) -> uuid.UUID:
        """Deterministic id from the record's own stable key."""
        return uuid.uuid5(self.id_namespace, "\x1f".join((self.name, *key)))

    def envelope(self, *key: str, occurred_at: dt.datetime, unit: str,
                 subject: dict[str, Any]) -> dict[str, Any]:
        """The canonical fields every connector fills the same way: the id from the record's
        key, schema version 1, the source (this connector's agency and system), SSP or SSP+
        from the subject's age, and the one purpose §115 allows."""
        return {
            "event_id": self.event_id(*key),
            "schema_version": 1,
            "occurred_at": occurred_at,
            "source": {"agency": self.agency, "system": self.system, "unit": unit},
            "collaboration": collaboration_for(subject["cpr"], occurred_at.date()),
            "purpose": "crime_prevention",
            "subject": subject,
        }

    def _one(self, line: int, build: Callable[[], CanonicalEvent]) -> Result:
        """Map one record; a field error, a validation error or anything unexpected becomes a
        :class:`Refused` for that record only."""
        try:
            return Mapped(line, build())
        except Bad as exc:
            return Refused(line, exc.field, exc.reason)
        except Exception as exc:
            return Refused(line, RECORD, f"could not be mapped ({type(exc).__name__})")


# --- Danish values -------------------------------------------------------------------------

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def fold(value: str) -> str:
    """Lower case, single spaces, æ/ø/å spelled ae/oe/aa: ``"Æresrelateret  Konflikt"`` and
    ``"aeresrelateret konflikt"`` are the same key."""
    return " ".join(value.lower().split()).translate(_FOLD)


def _table(entries: Mapping[str, Any]) -> dict[str, Any]:
    return {fold(k): v for k, v in entries.items()}


CATEGORIES: dict[str, Category] = _table({
    "kriminalitet": Category.crime,
    "rusmidler": Category.substance_abuse,
    "misbrug": Category.substance_abuse,
    "bekymrende fravær": Category.school_absence,
    "fravær": Category.school_absence,
    "gruppekonflikt": Category.group_conflict,
    "utryghed": Category.insecurity,
    "ekstremisme": Category.extremism,
    "radikalisering": Category.radicalisation,
    "æresrelateret konflikt": Category.honour_related_conflict,
    "negativ social kontrol": Category.negative_social_control,
    "trivsel": Category.wellbeing,
})

SEVERITIES: dict[str, Severity] = _table({
    "lav": Severity.low, "middel": Severity.medium, "høj": Severity.high, "akut": Severity.acute,
})

CONSENTS: dict[str, Consent] = _table({
    "søgt": Consent.sought, "givet": Consent.given, "afvist": Consent.refused,
    "tilsidesat": Consent.overridden, "ikke søgt": Consent.not_sought,
})

AREAS: dict[str, Area] = _table({
    "præstø": Area.praestoe, "stege": Area.stege, "vordingborg": Area.vordingborg,
    "andet": Area.other,
})

# Roles of related persons (canonical: ^[a-z_]+$). Unknown roles are refused, not guessed.
ROLES: dict[str, str] = _table({
    "mor": "mother", "far": "father", "forælder": "parent", "værge": "guardian",
    "plejemor": "foster_mother", "plejefar": "foster_father", "plejeforælder": "foster_parent",
    "stedmor": "stepmother", "stedfar": "stepfather",
    "søskende": "sibling", "bror": "brother", "søster": "sister",
    "bedstemor": "grandmother", "bedstefar": "grandfather",
    "kontaktperson": "contact_person",
})


def expected(names: Iterable[str]) -> str:
    """``unknown value (expected one of: a, b, c)`` — the documented Danish names only."""
    return f"unknown value (expected one of: {', '.join(names)})"


def lookup(table: Mapping[str, Any], value: str, fld: str, names: Iterable[str]) -> Any:
    try:
        return table[fold(value)]
    except KeyError:
        raise Bad(fld, expected(names)) from None


CATEGORY_NAMES = ("gruppekonflikt", "bekymrende fravær", "kriminalitet", "rusmidler", "trivsel",
                  "utryghed", "ekstremisme", "radikalisering", "æresrelateret konflikt",
                  "negativ social kontrol")
SEVERITY_NAMES = ("lav", "middel", "høj", "akut")
CONSENT_NAMES = ("søgt", "givet", "afvist", "tilsidesat", "ikke søgt")
AREA_NAMES = ("præstø", "stege", "vordingborg", "andet")
ROLE_NAMES = ("mor", "far", "forælder", "værge", "plejemor", "plejefar", "plejeforælder",
              "stedmor", "stedfar", "søskende", "bror", "søster", "bedstemor", "bedstefar",
              "kontaktperson")


def category(value: str, fld: str) -> Category:
    result: Category = lookup(CATEGORIES, value, fld, CATEGORY_NAMES)
    return result


def severity(value: str, fld: str) -> Severity:
    result: Severity = lookup(SEVERITIES, value, fld, SEVERITY_NAMES)
    return result


def consent(value: str, fld: str) -> Consent:
    result: Consent = lookup(CONSENTS, value, fld, CONSENT_NAMES)
    return result


def area(value: str, fld: str) -> Area:
    result: Area = lookup(AREAS, value, fld, AREA_NAMES)
    return result


def role(value: str, fld: str) -> str:
    result: str = lookup(ROLES, value, fld, ROLE_NAMES)
    return result


# --- field helpers (never echo) ------------------------------------------------------------

def text(value: object, fld: str, *, required: bool = True) -> str | None:
    """A stripped string; blank counts as absent. Numbers are not text (a CPR loses its 0)."""
    if value is None:
        if required:
            raise Bad(fld, MISSING)
        return None
    if not isinstance(value, str):
        raise Bad(fld, NOT_TEXT)
    value = value.strip()
    if not value:
        if required:
            raise Bad(fld, MISSING)
        return None
    return value


def need(value: object, fld: str) -> str:
    result = text(value, fld, required=True)
    assert result is not None
    return result


def ident(value: object, fld: str) -> str:
    """A record's own id: text or a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return need(value, fld)


def cpr(value: object, fld: str, *, required: bool = True) -> str | None:
    if value is not None and not isinstance(value, str):
        raise Bad(fld, CPR_NOT_TEXT)
    raw = text(value, fld, required=required)
    if raw is None:
        return None
    try:
        return normalise_cpr(raw)
    except InvalidCpr:
        raise Bad(fld, NOT_CPR) from None


def need_cpr(value: object, fld: str) -> str:
    result = cpr(value, fld, required=True)
    assert result is not None
    return result


def date(value: object, fld: str) -> dt.date:
    raw = need(value, fld)
    if len(raw) != 10:
        raise Bad(fld, NOT_DATE)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Bad(fld, NOT_DATE) from None


def with_fixed_offset(local: dt.datetime) -> dt.datetime:
    """The same instant with a fixed UTC offset (what a JSON round trip gives)."""
    offset = local.utcoffset()
    assert offset is not None
    return local.replace(tzinfo=dt.timezone(offset))


def copenhagen(day: dt.date, at: dt.time) -> dt.datetime:
    """``day`` at ``at`` Danish local time, with the offset in force then (+01:00 / +02:00)."""
    return with_fixed_offset(dt.datetime.combine(day, at, tzinfo=COPENHAGEN))


def timestamp(value: object, fld: str) -> dt.datetime:
    """ISO 8601 date and time; without an offset it is Danish local time (Europe/Copenhagen).
    A date alone is refused: a concern happened at a time."""
    raw = need(value, fld)
    if len(raw) < 16 or raw[10] not in "T ":
        raise Bad(fld, NOT_DATETIME)
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Bad(fld, NOT_DATETIME) from None
    if parsed.tzinfo is None:
        return with_fixed_offset(parsed.replace(tzinfo=COPENHAGEN))
    return parsed


def collaboration_for(subject_cpr: str, when: dt.date) -> Collaboration:
    """SSP for children and young people up to 17, SSP+ from 18 (the policy rejects what is
    outside its age bands; the connector does not decide that)."""
    return Collaboration.SSP if age_at(subject_cpr, when) < 18 else Collaboration.SSP_PLUS


def validate(payload: dict[str, Any], where: Mapping[str, str]) -> CanonicalEvent:
    """``CanonicalEvent.model_validate`` with errors translated to source fields.

    ``where`` maps canonical paths (``subject.cpr``, ``related_persons.0.role``) to the source
    field names. Only pydantic's ``loc`` and ``msg`` are read, never ``input`` or ``ctx``."""
    try:
        return CanonicalEvent.model_validate(payload)
    except ValidationError as exc:
        err = exc.errors(include_input=False, include_context=False, include_url=False)[0]
        loc = [str(p) for p in err.get("loc", ())]
        msg = str(err.get("msg", "invalid"))
        if not loc:  # a model-level rule
            if "birth date" in msg and "occurred_at" in where:
                given_by = where.get("subject.cpr", "the CPR number")
                raise Bad(where["occurred_at"],
                          f"lies before the birth date given by {given_by}") from None
            raise Bad(RECORD, msg.removeprefix("Value error, ")) from None
        for end in range(len(loc), 0, -1):
            fld = where.get(".".join(loc[:end]))
            if fld is not None:
                raise Bad(fld, msg.removeprefix("Value error, ")) from None
        raise Bad(RECORD, f"{'.'.join(loc)}: {msg.removeprefix('Value error, ')}") from None


def decode_utf8(data: bytes) -> str:
    """Strict UTF-8 with an optional byte-order mark; an empty file is refused."""
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("not UTF-8 text (export as UTF-8)") from None
    if not decoded.strip():
        raise BadFile("the file is empty")
    if "\x00" in decoded:
        raise BadFile(NOT_TEXT_FILE)
    return decoded
