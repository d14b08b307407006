"""Administration of principals, each change on record: ``ssp-hub users add | disable | enable |
passwd | set-queues`` and the administrator's web page use these.

Every change is first written to the disclosure log as an ``administration`` entry (who acted,
which principal, which change, the role and queues it leaves; never a password or a token),
then made: if the entry cannot be written, nothing changes. Who may see what is itself a
matter for the security officer's log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import StrEnum

from core.ledger.auditlog import AuditLog
from core.ledger.entries import random_entry_id
from core.store import Account, Store
from schemas.disclosures import EntryKind, LogEntry


class Change(StrEnum):
    """The reason code of an administration entry: what was done to the principal."""

    added = "principal_added"
    disabled = "principal_disabled"
    enabled = "principal_enabled"
    password = "password_changed"  # noqa: S105 - a reason code
    queues = "queues_set"


class AdminRefused(ValueError):
    """The change breaks a rule (e.g. a consultant without a queue); nothing was changed."""


def check_queues(role: str, queues: Sequence[str], known: Sequence[str]) -> None:
    """Queues must exist; consultants need at least one, and nobody else may have any."""
    for q in queues:
        if q not in known:
            raise AdminRefused(f"unknown queue {q!r}; the policy has: {', '.join(known)}")
    if role == "consultant" and not queues:
        raise AdminRefused("a consultant needs at least one queue: give --queue QUEUE (en "
                           "SSP-konsulent skal have mindst én kø: --queue KØ)")
    if queues and role != "consultant":
        raise AdminRefused("only consultants are given queues")


def admin_entry(change: Change, name: str, role: str, queues: Sequence[str], by: str,
                by_role: str = "admin", *, login: bool | None = None,
                now: dt.datetime | None = None) -> LogEntry:
    """The log entry for one change to principal ``name`` (its role and queues after it)."""
    details: dict[str, int | str | list[str]] = {"principal_role": role,
                                                 "queues": list(queues)}
    if login is not None:
        details["web_login"] = "yes" if login else "no"
    return LogEntry(entry_id=random_entry_id(), kind=EntryKind.administration,
                    at=now or dt.datetime.now(dt.UTC), recipient=name,
                    recipient_type="principal", reason_code=change.value, principal=by,
                    role=by_role, details=details)


class Administration:
    """The changes, each logged first through ``log`` (which signs checkpoints if it has the
    key ring; without it the next signer covers the entries)."""

    def __init__(self, store: Store, log: AuditLog, by: str, by_role: str = "admin") -> None:
        self.store, self.log, self.by, self.by_role = store, log, by, by_role

    def _record(self, change: Change, account: Account, queues: Sequence[str] | None = None,
                login: bool | None = None) -> None:
        self.log.integrate([admin_entry(
            change, account.name, account.role,
            account.queues if queues is None else queues, self.by, self.by_role,
            login=login)])

    def existing(self, name: str) -> Account:
        found = self.store.account(name)
        if found is None:
            raise AdminRefused(f"no principal named {name!r}")
        return found

    def add(self, name: str, role: str, queues: Sequence[str], token: str,
            password_hash: str | None) -> None:
        if self.store.account(name) is not None:
            raise AdminRefused(f"a principal named {name!r} exists already")
        self._record(Change.added, Account(name, role, tuple(queues), password_hash is not None,
                                           None), login=password_hash is not None)
        self.store.add_principal(name, role, queues, token, password_hash)

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """False if it was so already (nothing logged, nothing changed)."""
        account = self.existing(name)
        if account.disabled == disabled:
            return False
        self._record(Change.disabled if disabled else Change.enabled, account)
        self.store.set_disabled(name, disabled)
        return True

    def set_password(self, name: str, password_hash: str) -> None:
        account = self.existing(name)
        self._record(Change.password, account, login=True)
        self.store.change_password(name, password_hash)

    def set_queues(self, name: str, queues: Sequence[str], known: Sequence[str]) -> None:
        account = self.existing(name)
        check_queues(account.role, queues, known)
        self._record(Change.queues, account, queues=queues)
        self.store.set_queues(name, queues)
