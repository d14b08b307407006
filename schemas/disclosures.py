"""Disclosure-log entries and signed checkpoints: the log's data format, version 1.

An entry says that something was disclosed (or refused, consulted, answered, erased), to
whom, when, under which legal basis and policy version, and why. It holds **no plaintext
identity**: pseudonyms, field *names*, rule ids, recipients, reason codes, and scrubbed text.

Two stages:

* :class:`LogEntry` is what a producer (the worker, the API, the retention job) writes to the
  ``disclosures`` topic. Its ``entry_id`` makes integration idempotent: a redelivered entry
  is integrated once.
* The sequencer gives it a sequence number ``seq`` (its leaf index) and a ``logged_at`` time.
  The **leaf** of the Merkle tree is :func:`leaf_bytes`: the RFC 8785 (JCS) canonical JSON
  of the entry's fields plus ``seq``, ``logged_at`` and the format version ``v`` — UTF-8, keys
  sorted, no whitespace, absent fields omitted (never ``null``). The leaf hash is
  ``SHA-256(0x00 || leaf_bytes)`` (RFC 6962 §2.1, see :mod:`core.ledger.merkle`).

A checkpoint commits to the tree: :func:`checkpoint_note` is the exact text that the hub's
Ed25519 key signs (format in docs/disclosure-log.md)::

    ssp-hub disclosure log v1
    <origin>
    <tree size>
    <root hash, lowercase hex>
    <issued at, RFC 3339 UTC>
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from enum import StrEnum
from typing import Annotated, Any

import orjson
import rfc8785
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from schemas.cpr import contains_cpr_like

LOG_FORMAT_VERSION = 2  # what the sequencer writes; version 1 leaves still verify
ERASABLE_FORMAT_VERSION = 2
CHECKPOINT_HEADER = "ssp-hub disclosure log v1"


class EntryKind(StrEnum):
    disclosure = "disclosure"  # an event routed to one recipient queue
    rejection = "rejection"  # an event the policy refused (reason code, no content)
    reidentification = "reidentification"  # pseudonym → identity, to a principal, with reason
    reidentification_refused = "reidentification_refused"
    # Four eyes (policy `reidentification`): a request waiting for a second consultant, and
    # that consultant's approval or refusal, with both names and both reasons.
    reidentification_requested = "reidentification_requested"
    reidentification_approved = "reidentification_approved"
    reidentification_declined = "reidentification_declined"
    consultation = "consultation"  # a principal read a concern (queue list or joint view)
    subject_access = "subject_access"  # a citizen's access request was answered
    erasure = "erasure"  # retention deleted concerns and/or destroyed an identity
    # The security officer's subject-access decisions on one log entry, with a reason:
    access_withheld = "access_withheld"  # withheld from the citizen (GDPR 15(4), DBL § 22)
    access_released = "access_released"  # full content released to a related person
    access_default = "access_default"  # an earlier decision undone: the default view again
    # An administrator changed a principal (added, disabled, enabled, new password, queues):
    # who was changed and how, never a password or a token.
    administration = "administration"


class Decision(StrEnum):
    disclosed = "disclosed"
    rejected = "rejected"
    erased = "erased"
    changed = "changed"  # who may see what changed (administration)


DECISION_OF: dict[EntryKind, Decision] = {
    EntryKind.disclosure: Decision.disclosed,
    EntryKind.rejection: Decision.rejected,
    EntryKind.reidentification: Decision.disclosed,
    EntryKind.reidentification_refused: Decision.rejected,
    # Nothing is disclosed by a request or a refusal; an approval discloses it to the requester.
    EntryKind.reidentification_requested: Decision.rejected,
    EntryKind.reidentification_approved: Decision.disclosed,
    EntryKind.reidentification_declined: Decision.rejected,
    EntryKind.consultation: Decision.disclosed,
    EntryKind.subject_access: Decision.disclosed,
    EntryKind.erasure: Decision.erased,
    EntryKind.access_withheld: Decision.rejected,
    EntryKind.access_released: Decision.disclosed,
    EntryKind.access_default: Decision.disclosed,
    EntryKind.administration: Decision.changed,
}

# JSON numbers an RFC 8785 canonicaliser accepts exactly (IEEE 754 safe integers).
SafeInt = Annotated[int, Field(ge=-(2**53 - 1), le=2**53 - 1)]
_ID = re.compile(r"^[0-9a-f]{32,64}$")


STORED = {"stored": True}
"""Validation context for reading an entry back from the log (see :func:`parse_leaf`)."""


def _writing(info: ValidationInfo) -> bool:
    return not (isinstance(info.context, dict) and info.context.get("stored"))


class LogEntry(BaseModel):
    """One disclosure-log entry as produced, before sequencing."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    entry_id: str = Field(description="lowercase hex; deterministic where the act can be "
                                      "replayed (a routed event), random otherwise")
    kind: EntryKind
    at: dt.datetime = Field(description="when the act happened (UTC)")
    event_id: str | None = None
    agency: str | None = Field(None, description="source agency of the event")
    unit: str | None = Field(None, description="source unit, e.g. a school")
    recipient: str | None = Field(None, description="a queue, or a principal's name")
    recipient_type: str | None = Field(None, pattern=r"^(queue|principal|citizen)$")
    collaboration: str | None = None
    legal_basis: str | None = Field(None, description="e.g. rpl-115-stk2")
    purpose: str | None = None
    necessity: str | None = Field(None, description="the sender's necessity text, scrubbed")
    fields: list[str] = Field(default_factory=list, description="names of disclosed fields")
    rule_ids: list[str] = Field(default_factory=list)
    policy_version: str | None = None
    pseudonym: str | None = Field(None, description="the subject's pseudonym")
    related_pseudonyms: list[str] = Field(
        default_factory=list, description="pseudonyms of related persons that were disclosed")
    concerns: list[str] = Field(
        default_factory=list, description="a consultation: every concern shown in the one "
                                          "view, as '<event_id>:<queue>'")
    subjects_shown: list[str] = Field(
        default_factory=list, description="a consultation: the pseudonyms of the young people "
                                          "the concerns shown are about")
    reason_code: str | None = Field(None, description="why refused or erased, as a code")
    principal: str | None = Field(None, description="the staff member who acted")
    role: str | None = None
    reason: str | None = Field(None, description="a principal's stated reason, scrubbed")
    details: dict[str, SafeInt | str | list[str]] = Field(default_factory=dict)

    @field_validator("entry_id")
    @classmethod
    def _hex_id(cls, value: str) -> str:
        if not _ID.fullmatch(value):
            raise ValueError("entry_id must be 32-64 lowercase hex characters")
        return value

    @field_validator("at")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("times must carry an offset")
        return value.astimezone(dt.UTC)

    @field_validator("necessity", "reason", "unit")
    @classmethod
    def _no_cpr(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Defence in depth: producers scrub; a CPR-shaped number (in any separator style,
        # zero-width ones included) must never reach the log, which is kept for good.
        # (Reading a stored entry back, ``audit verify`` reports one instead of refusing it.)
        if _writing(info) and value is not None and contains_cpr_like(value):
            raise ValueError("free text in a log entry must not hold a CPR number")
        return value

    @field_validator("details")
    @classmethod
    def _no_cpr_in_details(cls, value: dict[str, Any], info: ValidationInfo
                           ) -> dict[str, Any]:
        if not _writing(info):
            return value
        texts = [v for v in value.values() if isinstance(v, str)]
        texts += [t for v in value.values() if isinstance(v, list) for t in v]
        if any(contains_cpr_like(t) for t in texts):
            raise ValueError("a log entry's details must not hold a CPR number")
        return value

    @property
    def decision(self) -> Decision:
        return DECISION_OF[self.kind]

    def subjects(self) -> list[str]:
        """Every pseudonym this entry is about (subject first)."""
        out = [self.pseudonym] if self.pseudonym else []
        for p in (*self.related_pseudonyms, *self.subjects_shown):
            if p not in out:
                out.append(p)
        return out


def format_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with microseconds and a ``Z``: one spelling per instant."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def entry_document(entry: LogEntry, seq: int, logged_at: dt.datetime) -> dict[str, Any]:
    """The sequenced entry as a JSON object (what the leaf serialises)."""
    doc: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
    doc = {k: v for k, v in doc.items() if v not in ([], {})}
    doc["at"] = format_time(entry.at)
    doc["decision"] = entry.decision.value
    doc["seq"] = seq
    doc["logged_at"] = format_time(logged_at)
    doc["v"] = 1
    return doc


_JCS_INT = 2**53 - 1  # the integers JCS (and the library) accepts


def _plain(value: Any) -> bool:
    """JSON of objects with ASCII keys, arrays, strings, safe integers, booleans and null:
    the values for which :func:`_plain_jcs` gives exactly the JCS bytes. Exact types: a
    subclass takes the library."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-_JCS_INT <= value <= _JCS_INT)
    if kind is dict:
        return all(type(k) is str and k.isascii() and (type(v) is str or _plain(v))
                   for k, v in value.items())
    if kind is list:
        return all(type(v) is str or _plain(v) for v in value)
    return False


def _plain_jcs(doc: Any) -> bytes:
    """The JCS bytes of a plain document (ASCII keys, no floats, safe integers), by orjson with
    sorted keys: for such a document JCS and orjson agree byte for byte (JCS differs from plain
    JSON only in number formatting and in sorting non-ASCII keys by UTF-16 units), at a tenth of
    ``json.dumps``'s cost and a sixtieth of the pure-Python library's. Property tests pin the
    equality against the library. ``orjson.JSONEncodeError`` for a lone surrogate."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def canonical(doc: Any) -> bytes:
    """RFC 8785 JSON Canonicalization Scheme of a JSON value (the ``rfc8785`` library, not a
    hand-rolled serialiser: JCS pins number and string escaping, which sort_keys alone
    does not). Verification checks every stored entry's form with it, and an audit export's
    whole document twice, so a document without floats, non-ASCII keys or lone surrogates
    takes :func:`_plain_jcs`, which gives the same bytes far faster."""
    return _jcs(doc, _plain(doc))


def _jcs(doc: Any, plain: bool) -> bytes:
    """:func:`_plain_jcs` for a document known to be ``plain``, else the library; a lone
    surrogate goes to the library too, which refuses it and says why."""
    if plain:
        try:
            return _plain_jcs(doc)
        except orjson.JSONEncodeError:
            pass
    return rfc8785.dumps(doc)


def leaf_bytes(entry: LogEntry, seq: int, logged_at: dt.datetime) -> bytes:
    """The leaf: RFC 8785 bytes of the sequenced entry (version 1; :func:`canonical`, whose
    fast path an entry's document takes: no floats, ASCII keys)."""
    return canonical(entry_document(entry, seq, logged_at))


def parse_leaf(data: bytes) -> tuple[LogEntry, int, dt.datetime]:
    """Version 1 leaf bytes → (entry, seq, logged_at). Raises ValueError if the bytes are
    not a canonical version-1 entry (a verifier reports that as "modified")."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise ValueError("not a version 1 log entry")
    if canonical(doc) != data:
        raise ValueError("entry bytes are not canonical")
    seq, logged_at, decision = doc.pop("seq"), doc.pop("logged_at"), doc.pop("decision")
    doc.pop("v")
    entry = LogEntry.model_validate(doc, context=STORED)
    if not isinstance(seq, int) or seq < 0 or decision != entry.decision.value:
        raise ValueError("entry sequence number or decision is inconsistent")
    return entry, seq, parse_time(logged_at)


# Fields that hold ids and times, not text: hex ids and UUIDs can contain ten decimal digits.
_ID_FIELDS = frozenset({"entry_id", "event_id", "pseudonym", "related_pseudonyms", "at",
                        "concerns", "subjects_shown",
                        "logged_at", "seq", "v", "body_sha256", "salt", "leaf_hash",
                        "policy_version"})
# A hash or id wherever it stands (``sha256:…``, hex, a UUID): digits in it are not a CPR.
_HASHLIKE = re.compile(r"^(?:[a-z0-9]+:)?[0-9a-fA-F-]{20,}$")


def cpr_like_fields(doc: Any) -> list[str]:
    """The names of an entry document's fields whose text holds a CPR-shaped number (any
    separator style). For ``audit verify``: it names the field, never the number."""
    found: list[str] = []

    def texts(value: Any) -> list[str]:
        if isinstance(value, str):
            return [] if _HASHLIKE.fullmatch(value) else [value]
        if isinstance(value, list):
            return [t for v in value for t in texts(v)]
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in [str(k), *texts(v)]]
        return []

    if not isinstance(doc, dict):
        return found
    for name, value in doc.items():
        if name in _ID_FIELDS:
            continue
        if any(contains_cpr_like(t) for t in texts(value)):
            found.append(str(name))
    return sorted(found)


# -- format version 2: an erasable body -----------------------------------------------------------
#
# The leaf commits to the entry's body by its SHA-256 instead of holding it, so the body can be
# erased (GDPR art. 17, or a CPR number that slipped through) while the leaf, and with it every
# root, checkpoint and proof, stays verifiable. The body carries a random salt: a guessed body
# (e.g. a pseudonym) cannot be confirmed against the hash of an erased one.
#
#   leaf = JCS {"v": 2, "seq", "logged_at", "entry_id", "kind", "decision", "at", "body_sha256"}
#   body = JCS {every member of the version 1 entry but seq/logged_at/v, plus "salt": 32 hex}

ENVELOPE_KEYS = frozenset({"v", "seq", "logged_at", "entry_id", "kind", "decision", "at",
                           "body_sha256"})


def body_document(entry: LogEntry, salt: str) -> dict[str, Any]:
    doc: dict[str, Any] = entry.model_dump(mode="json", exclude_none=True)
    doc = {k: v for k, v in doc.items() if v not in ([], {})}
    doc["at"] = format_time(entry.at)
    doc["decision"] = entry.decision.value
    doc["salt"] = salt
    return doc


def sequence_entry(entry: LogEntry, seq: int, logged_at: dt.datetime, salt: str
                   ) -> tuple[bytes, bytes]:
    """A version 2 entry: (leaf bytes, body bytes), both RFC 8785 canonical JSON."""
    # Every member of the body but ``details`` is a typed field (strings, lists of strings,
    # RFC 3339 times), plain by construction, and so is every member of the envelope: only
    # ``details`` needs :func:`_plain`'s walk, which cost more than the serialising.
    body = _jcs(body_document(entry, salt), _plain(entry.details))
    envelope = {"v": 2, "seq": seq, "logged_at": format_time(logged_at),
                "entry_id": entry.entry_id, "kind": entry.kind.value,
                "decision": entry.decision.value, "at": format_time(entry.at),
                "body_sha256": hashlib.sha256(body).hexdigest()}
    return _jcs(envelope, -_JCS_INT <= seq <= _JCS_INT), body


class StoredEntry(BaseModel):
    """A sequenced entry of either format as read back: ``entry`` is None once erased."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    version: int
    seq: int
    logged_at: dt.datetime
    entry_id: str
    kind: str
    decision: str
    entry: LogEntry | None
    document: dict[str, Any]  # the body's members and the leaf's (erased: the leaf's)

    @property
    def erased(self) -> bool:
        return self.entry is None


def read_entry(leaf: bytes, body: bytes | None, *, strict: bool = True) -> StoredEntry:
    """Leaf bytes (and for version 2 the body, or None if erased) → :class:`StoredEntry`.
    Raises ValueError naming what is wrong (never a value): not canonical, a body that does
    not match the hash the leaf commits to, or members that disagree. ``strict=False`` (for
    display only, never for verification) skips the canonical-form checks, which cost an
    RFC 8785 serialisation each."""
    doc = json.loads(leaf)
    if not isinstance(doc, dict):
        raise ValueError("not a log entry")
    if doc.get("v") == 1:
        if body is not None:
            raise ValueError("a version 1 entry has no separate body")
        entry, seq, logged_at = parse_leaf(leaf)
        shown = json.loads(leaf)
        return StoredEntry(version=1, seq=seq, logged_at=logged_at, entry_id=entry.entry_id,
                           kind=entry.kind.value, decision=entry.decision.value, entry=entry,
                           document=shown)
    if doc.get("v") != ERASABLE_FORMAT_VERSION:
        raise ValueError("unknown log entry format version")
    if set(doc) != ENVELOPE_KEYS or (strict and canonical(doc) != leaf):
        raise ValueError("the entry's leaf is not a canonical version 2 envelope")
    seq = doc["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError("entry sequence number is inconsistent")
    kind = EntryKind(doc["kind"])
    if doc["decision"] != DECISION_OF[kind].value:
        raise ValueError("entry decision is inconsistent")
    if not isinstance(doc["entry_id"], str) or not _ID.fullmatch(doc["entry_id"]):
        raise ValueError("entry_id is malformed")
    logged_at = parse_time(doc["logged_at"])
    if format_time(logged_at) != doc["logged_at"] or \
            format_time(parse_time(doc["at"])) != doc["at"]:
        raise ValueError("entry times are not in their one spelling")
    shown = dict(doc)
    if body is None:
        return StoredEntry(version=2, seq=seq, logged_at=logged_at, entry_id=doc["entry_id"],
                           kind=kind.value, decision=doc["decision"], entry=None,
                           document={**shown, "erased": True})
    if hashlib.sha256(body).hexdigest() != doc["body_sha256"]:
        raise ValueError("the entry's body does not match the hash its leaf commits to")
    body_doc = json.loads(body)
    if not isinstance(body_doc, dict) or (strict and canonical(body_doc) != body):
        raise ValueError("the entry's body is not canonical")
    salt = body_doc.get("salt")
    if not isinstance(salt, str) or not re.fullmatch(r"[0-9a-f]{32}", salt):
        raise ValueError("the entry's body has no salt")
    for member in ("entry_id", "kind", "decision", "at"):
        if body_doc.get(member) != doc[member]:
            raise ValueError(f"the body's {member} differs from the leaf's")
    # Shown with its salt and the leaf's body_sha256, so that a reader can recompute both
    # the body and the leaf from what the API shows (the salt goes when the body is erased).
    shown = {**body_doc, **shown}
    entry = LogEntry.model_validate(
        {k: v for k, v in body_doc.items() if k not in ("decision", "salt")}, context=STORED)
    return StoredEntry(version=2, seq=seq, logged_at=logged_at, entry_id=entry.entry_id,
                       kind=kind.value, decision=doc["decision"], entry=entry, document=shown)


def checkpoint_note(origin: str, tree_size: int, root_hash: bytes, issued_at: dt.datetime
                    ) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    if "\n" in origin:
        raise ValueError("origin must be one line")
    return (f"{CHECKPOINT_HEADER}\n{origin}\n{tree_size}\n{root_hash.hex()}\n"
            f"{format_time(issued_at)}\n").encode()


class Checkpoint(BaseModel):
    """A signed statement: the log had ``tree_size`` entries with root ``root_hash``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str
    tree_size: int = Field(ge=0)
    root_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    issued_at: dt.datetime
    key_id: str = Field(description="ed25519 key version that signed, e.g. ed25519:1")
    signature: str = Field(description="base64 Ed25519 signature over the checkpoint note")

    def note(self) -> bytes:
        return checkpoint_note(self.origin, self.tree_size, bytes.fromhex(self.root_hash),
                               self.issued_at)
