"""The Alembic migrations produce exactly the schema that core.store declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store import Store, metadata


def test_migrated_schema_matches_the_store_metadata(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        store.close()
    assert diff == []


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    Store.open(url).close()
    store = Store.open(url)
    try:
        assert store.outcome_counts() == {}
    finally:
        store.close()
