"""Re-identification's rules, shared by the API (``hub/api/reidentify.py``) and the web UI
(``hub/web/consultant.py``): the reason rule, and four eyes.

Four eyes (policy ``reidentification``): when a young person has a concern in a four-eyes
queue or collaboration that the requesting consultant sees, the identity is not shown at
once. The request is stored and logged (``reidentification_requested``); a *second*
consultant who sees a concern about the person in one of those queues approves or refuses
it with a reason (``reidentification_approved`` / ``reidentification_declined``, with both
names and both reasons); only then does the requester's next request show the identity
(``reidentification``, naming the approver and both reasons). The requester cannot decide
their own request. A request stands until ``expires_after`` from when it was made, approved
or not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from core.ledger.entries import random_entry_id
from core.policy.evaluator import Policy
from core.privacy.freetext import FreeText
from core.privacy.vault import EntryErased, Vault
from core.store import Principal, Store
from hub.auth import readable_queues
from schemas.cpr import contains_cpr_like
from schemas.disclosures import EntryKind, LogEntry

REASON_MIN_CHARS = 20
REASON_MIN_WORDS = 3
REASON_RULE = (f"reason must be at least a sentence: {REASON_MIN_CHARS} characters or more "
               f"and at least {REASON_MIN_WORDS} words, saying why the identity is needed, "
               "with no CPR number in it (names, numbers and addresses are replaced before "
               "the reason is logged, and do not count)")
_PLACEHOLDER = re.compile(r"\[[^\[\]]*\]")
_WORD = re.compile(r"\w*[^\W\d_]\w*")
PENDING, APPROVED, REFUSED, EXPIRED = "pending", "approved", "refused", "expired"
Record = Callable[[Request, list[LogEntry]], Awaitable[None]]


def reason_is_sufficient(reason: str | None) -> bool:
    """At least a sentence: ≥ 20 characters and ≥ 3 words with letters; no CPR number (the
    reason goes into the disclosure log, which holds no plaintext identity)."""
    if reason is None:
        return False
    text = " ".join(reason.split())
    return (len(text) >= REASON_MIN_CHARS and len(_WORD.findall(text)) >= REASON_MIN_WORDS
            and not contains_cpr_like(text))


def reason_accepted(typed: str | None, scrubbed: str | None) -> bool:
    """Judged as typed and as it will be logged: "Mikkel Hansen, 22 33 44 55" says nothing
    once scrubbed, and the log must still say why."""
    return reason_is_sufficient(typed) and \
        reason_is_sufficient(_PLACEHOLDER.sub(" ", scrubbed or ""))


def scrub(freetext: FreeText, reason: str | None, names: list[str] | None = None
          ) -> str | None:
    if reason is None:
        return None
    # freetext also cuts out anything CPR-shaped the detectors left: never logged.
    return freetext.text(" ".join(reason.split())[:2000], known_names=names or [])


async def known_names(vault: Vault, pseudonym: str | None) -> list[str]:
    """The person's name where the pseudonym has one: it guides the scrubber only (a reason
    may well name the young person, and a refused request's reason is logged); nothing about
    it reaches the caller."""
    if pseudonym is None:
        return []
    try:
        known = await asyncio.to_thread(vault.identity, pseudonym)
    except EntryErased:
        known = None
    return [known.name] if known is not None and known.name else []


def log_entry(policy: Policy, principal: Principal, kind: EntryKind, pseudonym: str | None,
              reason: str | None, recipient: str | None = None, **extra: Any) -> LogEntry:
    """A re-identification entry by ``principal``, to ``recipient`` (default: the principal),
    under the hub's legal basis."""
    return LogEntry(
        entry_id=random_entry_id(), kind=kind, at=dt.datetime.now(dt.UTC),
        recipient=recipient or principal.name, recipient_type="principal",
        principal=principal.name,
        role=principal.role, pseudonym=pseudonym, reason=reason,
        legal_basis=policy.legal_basis(), purpose="crime_prevention",
        policy_version=policy.version, **extra)


# -- four eyes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Need:
    """Four eyes apply: the four-eyes queues where the requester sees the person, and how
    long a request stands."""

    queues: tuple[str, ...]
    expires_after: dt.timedelta


def need(policy: Policy, seen: list[dict[str, Any]]) -> Need | None:
    """Whether re-identifying the person behind the concerns ``seen`` (those the requester
    sees) needs four eyes. One four-eyes concern is enough (fail closed)."""
    queues: list[str] = []
    windows: list[dt.timedelta] = []
    for item in seen:
        queue = str(item.get("queue", ""))
        window = policy.doc.reidentification.four_eyes(queue, item.get("collaboration"))
        if window is not None:
            windows.append(window)
            if queue not in queues:
                queues.append(queue)
    return Need(tuple(queues), min(windows)) if windows else None


def seen_concerns(store: Store, policy: Policy, principal: Principal, pseudonym: str
                  ) -> list[dict[str, Any]]:
    """The concerns about the person (all their pseudonyms) in the principal's queues."""
    queues = readable_queues(principal, policy.queues)
    if not queues:
        return []
    return store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(pseudonym),
                                       limit=1000, cursor=None).items


def status_of(row: dict[str, Any], now: dt.datetime) -> str:
    """pending, approved, refused, or expired (pending or approved past ``expires_at``)."""
    if row["status"] in (PENDING, APPROVED) and row["expires_at"] <= now:
        return EXPIRED
    return str(row["status"])


def standing(store: Store, requester: str, pseudonym: str, now: dt.datetime
             ) -> dict[str, Any] | None:
    """The requester's newest request about the person that is pending or approved and has
    not expired (None: a new request is needed)."""
    for row in store.reidentification_requests_about(store.aliases(pseudonym)):
        if row["requester"] == requester and status_of(row, now) in (PENDING, APPROVED):
            return row
    return None


def new_request_id() -> str:
    """26 random lowercase letters (122 bits). No digits: the id is in log entries' details,
    which refuse anything CPR-shaped, and ten digits of a hex id can be one."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(26))


def new_request(store: Store, principal: Principal, pseudonym: str, reason: str,
                needed: Need, now: dt.datetime) -> dict[str, Any]:
    request_id = new_request_id()
    store.add_reidentification_request(
        request_id=request_id, pseudonym=pseudonym, requester=principal.name, reason=reason,
        queues=needed.queues, created_at=now, expires_at=now + needed.expires_after)
    row = store.reidentification_request(request_id)
    assert row is not None
    return row


def may_decide(store: Store, policy: Policy, principal: Principal, row: dict[str, Any]
               ) -> bool:
    """A consultant who reads one of the request's queues and sees a concern about the
    person there (the requester too: :func:`decide` refuses them by name)."""
    queues = [q for q in readable_queues(principal, policy.queues) if q in row["queues"]]
    return bool(queues) and store.subject_visible(
        queues=queues, pseudonyms=store.aliases(row["pseudonym"]))


def decidable(store: Store, policy: Policy, principal: Principal, now: dt.datetime
              ) -> list[dict[str, Any]]:
    """Open requests of others that ``principal`` may approve or refuse, oldest first."""
    if principal.role != "consultant":
        return []
    return [row for row in store.open_reidentification_requests(now)
            if row["requester"] != principal.name
            and may_decide(store, policy, principal, row)]


def document(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """A request as the API shows it (the reasons as the disclosure log holds them)."""
    return {"request_id": row["request_id"], "pseudonym": row["pseudonym"],
            "status": status_of(row, now), "requested_by": row["requester"],
            "reason": row["reason"], "queues": row["queues"], "created_at": row["created_at"],
            "expires_at": row["expires_at"], "decided_by": row["decided_by"],
            "decision_reason": row["decision_reason"], "decided_at": row["decided_at"]}


def request_details(row: dict[str, Any]) -> dict[str, str | list[str]]:
    """What every four-eyes entry says about its request: id, requester, queues."""
    return {"request_id": row["request_id"], "requested_by": row["requester"],
            "queues": list(row["queues"])}


@dataclass(frozen=True)
class Decided:
    """A decision's answer: HTTP status, refusal code (None: done), detail, the request."""

    status: int
    refusal: str | None
    detail: str
    row: dict[str, Any] | None = None
    entries: list[LogEntry] = field(default_factory=list)


DECISION_REFUSALS = {
    "role_not_allowed": (403, "only a consultant may approve or refuse a re-identification"),
    "unknown_request": (404, "no such request that you may decide"),
    "own_request": (403, "a second consultant must decide: not the one who asked"),
    "expired": (409, "the request has expired"),
    "already_decided": (409, "the request has been decided already"),
    "reason_insufficient": (422, REASON_RULE),
}


def _refused(code: str, row: dict[str, Any] | None = None,
             entries: list[LogEntry] | None = None) -> Decided:
    status, detail = DECISION_REFUSALS[code]
    return Decided(status, code, detail, row, entries or [])


async def decide(request: Request, store: Store, policy: Policy, freetext: FreeText,
                 record: Record, principal: Principal, request_id: str, *, approve: bool,
                 raw_reason: str | None) -> Decided:
    """A second consultant approves or refuses a request, with a reason. Written to the store
    and then to the disclosure log (undone if the log cannot take it)."""
    now = dt.datetime.now(dt.UTC)
    if principal.role != "consultant":
        return _refused("role_not_allowed")
    row = await asyncio.to_thread(store.reidentification_request, request_id)
    if row is None or not await asyncio.to_thread(may_decide, store, policy, principal, row):
        return _refused("unknown_request")
    vault: Vault = request.app.state.vault
    reason = scrub(freetext, raw_reason, await known_names(vault, row["pseudonym"]))
    if row["requester"] == principal.name:
        # Trying to approve one's own request is on record, as any refused re-identification.
        entry = log_entry(policy, principal, EntryKind.reidentification_refused,
                          row["pseudonym"], reason, reason_code="own_request",
                          details={**request_details(row), "status": 403})
        await record(request, [entry])
        return _refused("own_request", row, [entry])
    status = status_of(row, now)
    if status != PENDING:
        return _refused("expired" if status == EXPIRED else "already_decided", row)
    if not reason_accepted(raw_reason, reason):
        return _refused("reason_insufficient", row)
    assert reason is not None
    done = await asyncio.to_thread(store.decide_reidentification_request, request_id,
                                   approve=approve, by=principal.name, reason=reason, at=now)
    if not done:  # decided or expired since it was read
        return _refused("already_decided", row)
    kind = EntryKind.reidentification_approved if approve else \
        EntryKind.reidentification_declined
    # To the requester: the approval is what lets the identity reach them.
    entry = log_entry(policy, principal, kind, row["pseudonym"], reason, row["requester"],
                      details={**request_details(row), "request_reason": row["reason"]})
    try:
        await record(request, [entry])
    except Exception:
        await asyncio.to_thread(store.undo_reidentification_decision, request_id)
        raise
    return Decided(200, None, "", await asyncio.to_thread(
        store.reidentification_request, request_id), [entry])
