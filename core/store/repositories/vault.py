"""The re-identification vault's rows (ciphertext only) and pseudonym aliases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store import bulk
from core.store.engine import reading
from core.store.rows import VaultRow, as_utc, insert_ignore, utc_now, vault_row
from core.store.tables import concerns, pseudonym_aliases, vault


class VaultRepository:
    engine: Engine

    def vault_present(self, pseudonyms: Iterable[str]) -> set[str]:
        """Which of ``pseudonyms`` have a vault entry (erased ones included)."""
        names = list(set(pseudonyms))
        found: set[str] = set()
        with reading(self.engine) as conn:
            for i in range(0, len(names), 500):  # (SQLite's limit on bound parameters)
                rows = bulk.select_in(conn, [vault.c.pseudonym], vault.c.pseudonym,
                                      names[i:i + 500])
                found.update(r.pseudonym for r in rows)
        return found

    def put_vault_entries(self, rows: Sequence[VaultRow],
                          aliases: Sequence[tuple[str, str]] = ()) -> None:
        """Insert sealed entries and alias links (each pair stored both ways) in one
        transaction. An existing pseudonym or link is left alone."""
        if not rows and not aliases:
            return
        now = utc_now()
        links = {(a, b) for a, b in aliases if a != b} | {(b, a) for a, b in aliases if a != b}
        with self.engine.begin() as conn, bulk.pipelined(conn):
            insert_ignore(conn, vault, [
                {"pseudonym": r.pseudonym, "key_version": r.key_version,
                 "wrapped_dek": r.wrapped_dek, "ciphertext": r.ciphertext, "created_at": now}
                for r in rows
            ], ["pseudonym"])
            insert_ignore(conn, pseudonym_aliases, [
                {"pseudonym": a, "alias": b, "created_at": now} for a, b in sorted(links)
            ], ["pseudonym", "alias"])

    def vault_entry(self, pseudonym: str) -> VaultRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(vault).where(vault.c.pseudonym == pseudonym)).first()
        return None if row is None else vault_row(row)

    def vault_entries(self, *, after: str | None = None, limit: int = 500) -> list[VaultRow]:
        """Entries in pseudonym order, for walking the whole vault in pages."""
        stmt = sa.select(vault).order_by(vault.c.pseudonym).limit(limit)
        if after is not None:
            stmt = stmt.where(vault.c.pseudonym > after)
        with self.engine.connect() as conn:
            return [vault_row(r) for r in conn.execute(stmt)]

    def erase_vault_entry(self, pseudonym: str) -> bool:
        """Destroy the entry's wrapped data key. True if there was one to destroy."""
        with self.engine.begin() as conn:
            result = conn.execute(
                vault.update()
                .where((vault.c.pseudonym == pseudonym) & vault.c.wrapped_dek.is_not(None))
                .values(wrapped_dek=None, erased_at=utc_now()))
            return bool(result.rowcount)

    def aliases(self, pseudonym: str, *, max_hops: int = 8) -> set[str]:
        """Every pseudonym linked to ``pseudonym`` (transitively), itself included."""
        found = {pseudonym}
        frontier = {pseudonym}
        with self.engine.connect() as conn:
            for _ in range(max_hops):
                rows = conn.execute(sa.select(pseudonym_aliases.c.alias)
                                    .where(pseudonym_aliases.c.pseudonym.in_(list(frontier))))
                frontier = {r.alias for r in rows} - found
                if not frontier:
                    break
                found |= frontier
        return found

    def alias_links(self) -> list[tuple[str, str]]:
        """Every alias link (each stored both ways, so each pair appears twice)."""
        with self.engine.connect() as conn:
            return [(r.pseudonym, r.alias) for r in conn.execute(sa.select(pseudonym_aliases))]

    def pseudonym_known(self, pseudonym: str) -> bool:
        """True if a vault entry, an alias link or a concern (as subject) has ``pseudonym``."""
        with self.engine.connect() as conn:
            for column in (vault.c.pseudonym, pseudonym_aliases.c.pseudonym,
                           concerns.c.pseudonym):
                if conn.execute(sa.select(column).where(column == pseudonym).limit(1)).first():
                    return True
        return False

    def live_vault_entries(self) -> list[tuple[str, dt.datetime]]:
        """(pseudonym, created_at) of every vault entry not yet erased."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(vault.c.pseudonym, vault.c.created_at)
                                .where(vault.c.wrapped_dek.is_not(None)))
            return [(r.pseudonym, as_utc(r.created_at)) for r in rows]
