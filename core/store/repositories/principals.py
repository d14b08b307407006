"""Principals, their tokens and passwords; the web UI's login sessions.

A disabled principal (``disabled_at`` set) is as good as unknown to every lookup that lets
someone in: its token, its web login and its sessions; :meth:`token_disabled` tells the API
why, for the refusal record."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import Account, Principal, as_utc, aware, utc_now
from core.store.tables import principals, web_sessions


def hash_token(token: str) -> str:
    """Tokens are ≥256-bit random, so one SHA-256 is enough (no stretching needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PrincipalRepository:
    engine: Engine

    def add_principal(self, name: str, role: str, queues: Sequence[str], token: str,
                      password_hash: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(principals.insert().values(
                name=name, role=role, queues=json.dumps(list(queues)),
                token_hash=hash_token(token), password_hash=password_hash, created_at=utc_now(),
            ))

    def replace_token(self, name: str, token: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(principals.update().where(principals.c.name == name)
                                  .values(token_hash=hash_token(token)))
            return bool(result.rowcount)

    def principal_by_token(self, token: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(principals.c.id, principals.c.name, principals.c.role,
                          principals.c.queues)
                .where(principals.c.token_hash == hash_token(token),
                       principals.c.disabled_at.is_(None))
            ).first()
        if row is None:
            return None
        return Principal(row.id, row.name, row.role, tuple(json.loads(row.queues)))

    def token_disabled(self, token: str) -> bool:
        """Is ``token`` a disabled principal's? (Why it was refused: for the refusal record.)"""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(principals.c.id)
                .where(principals.c.token_hash == hash_token(token),
                       principals.c.disabled_at.is_not(None))).first() is not None

    def list_principals(self) -> list[Account]:
        """Every principal by name, with whether it has a web login and whether it is
        disabled (never a token or a hash)."""
        with self.engine.connect() as conn:
            rows = conn.execute(_ACCOUNT.order_by(principals.c.name)).all()
        return [_account(r) for r in rows]

    def account(self, name: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(_ACCOUNT.where(principals.c.name == name)).first()
        return None if row is None else _account(row)

    def set_disabled(self, name: str, disabled: bool, now: dt.datetime | None = None) -> bool:
        """Disable (ending every web session of it) or enable a principal; False if unknown."""
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(principals.c.id)
                                 .where(principals.c.name == name)).first()
            if found is None:
                return False
            conn.execute(principals.update().where(principals.c.id == found.id).values(
                disabled_at=as_utc(now or utc_now()) if disabled else None))
            if disabled:
                conn.execute(web_sessions.delete()
                             .where(web_sessions.c.principal_id == found.id))
        return True

    def set_queues(self, name: str, queues: Sequence[str]) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(principals.update().where(principals.c.name == name)
                                     .values(queues=json.dumps(list(queues)))).rowcount)

    def change_password(self, name: str, password_hash: str) -> bool:
        """A new web password; every session that the old one opened ends."""
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(principals.c.id)
                                 .where(principals.c.name == name)).first()
            if found is None:
                return False
            conn.execute(principals.update().where(principals.c.id == found.id)
                         .values(password_hash=password_hash))
            conn.execute(web_sessions.delete().where(web_sessions.c.principal_id == found.id))
        return True

    def login_record(self, name: str) -> tuple[Principal, str | None] | None:
        """A principal by name with its argon2 password hash (None: no web login)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(principals.c.id, principals.c.name, principals.c.role,
                          principals.c.queues, principals.c.password_hash)
                .where(principals.c.name == name, principals.c.disabled_at.is_(None))).first()
        if row is None:
            return None
        return (Principal(row.id, row.name, row.role, tuple(json.loads(row.queues))),
                row.password_hash)

    def set_password_hash(self, name: str, password_hash: str) -> bool:
        with self.engine.begin() as conn:
            return bool(conn.execute(principals.update().where(principals.c.name == name)
                                     .values(password_hash=password_hash)).rowcount)

    def create_session(self, token: str, principal_id: int, csrf: str,
                       now: dt.datetime, expires_at: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < as_utc(now)))
            conn.execute(web_sessions.insert().values(
                token_hash=hash_token(token), principal_id=principal_id, csrf=csrf,
                created_at=as_utc(now), last_seen_at=as_utc(now), expires_at=as_utc(expires_at)))

    def session(self, token: str, now: dt.datetime, idle: dt.timedelta
                ) -> tuple[Principal, str] | None:
        """(principal, CSRF token) of a live session, touching it; None if unknown, past its
        absolute expiry or idle longer than ``idle``."""
        th = hash_token(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(web_sessions.c.csrf, web_sessions.c.last_seen_at,
                          web_sessions.c.expires_at, principals.c.id, principals.c.name,
                          principals.c.role, principals.c.queues)
                .join(principals, principals.c.id == web_sessions.c.principal_id)
                .where(web_sessions.c.token_hash == th,
                       principals.c.disabled_at.is_(None))).first()
            if row is None:
                return None
            if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + idle <= now:
                conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == th))
                return None
            conn.execute(web_sessions.update().where(web_sessions.c.token_hash == th)
                         .values(last_seen_at=as_utc(now)))
        return Principal(row.id, row.name, row.role, tuple(json.loads(row.queues))), row.csrf

    def end_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(
                web_sessions.c.token_hash == hash_token(token)))


_ACCOUNT = sa.select(principals.c.name, principals.c.role, principals.c.queues,
                     principals.c.password_hash.is_not(None).label("login"),
                     principals.c.disabled_at)


def _account(row: sa.Row[tuple[str, str, str, bool, dt.datetime | None]]) -> Account:
    return Account(row.name, row.role, tuple(json.loads(row.queues)), bool(row.login),
                   aware(row.disabled_at))
