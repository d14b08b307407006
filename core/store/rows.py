"""What the repositories hand out (frozen rows, pages, cursors) and their shared helpers."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    role: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    """A principal as its administrator sees it: never a token or a password hash, only
    whether it has a web login and whether (since when) it is disabled."""

    name: str
    role: str
    queues: tuple[str, ...]
    login: bool
    disabled_at: dt.datetime | None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class VaultRow:
    """One sealed vault entry as stored. Holds ciphertext only."""

    pseudonym: str
    key_version: int
    wrapped_dek: bytes | None
    ciphertext: bytes


@dataclass(frozen=True)
class ConcernRow:
    """A concern as retention sees it: where it is, whom it is about, when it was routed.
    ``payload`` only where it names related persons (else None)."""

    seq: int
    event_id: str
    queue: str
    pseudonym: str
    routed_at: dt.datetime
    payload: str | None


@dataclass(frozen=True)
class Retirement:
    """What retention does to one person (see :meth:`Store.retire`)."""

    pseudonyms: frozenset[str]  # all of the person's pseudonyms (their alias group)
    expired: Mapping[str, Sequence[int]]  # queue -> seqs of the concerns to delete
    erase: bool  # destroy the identity too


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s:{seq}".encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, value = text.partition(":")
        if kind != "s":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("cursor is not one this API issued") from exc


def encode_time_cursor(occurred_at: dt.datetime, seq: int) -> str:
    text = f"t:{as_utc(occurred_at).isoformat()}|{seq}"
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def decode_time_cursor(cursor: str) -> tuple[dt.datetime, int]:
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, value = text.partition(":")
        stamp, _, seq = value.partition("|")
        if kind != "t":
            raise ValueError
        return as_utc(dt.datetime.fromisoformat(stamp)), int(seq)
    except (ValueError, UnicodeError) as exc:
        raise ValueError("cursor is not one this API issued") from exc


def as_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC. SQLite stores datetimes without their offset, so every stored time must be
    UTC already, or ordering by time goes wrong across offsets."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def vault_row(row: Any) -> VaultRow:
    return VaultRow(row.pseudonym, int(row.key_version),
                    None if row.wrapped_dek is None else bytes(row.wrapped_dek),
                    bytes(row.ciphertext))


def insert_ignore(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]],
                  keys: list[str]) -> None:
    """INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike."""
    from core.store import bulk
    bulk.insert(conn, table, rows, keys=keys)
