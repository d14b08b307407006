"""Unit-test fixtures: no broker, no network; every hub object built fresh from a new key ring."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.policy.evaluator import Policy, load_policy
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import KeyRing, new_keyring
from core.store import Store
from streams.pipeline import Pipeline
from tests.scrubber.shared import shared_scrubber
from tests.unit.factories import SHIPPED_POLICY


@contextmanager
def without_hub_environment() -> Iterator[None]:
    """Settings read SSP_HUB_* variables; a CI run on PostgreSQL must not leak into unit tests."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.upper().startswith("SSP_HUB_"):
                mp.delenv(name)
        yield


@pytest.fixture(autouse=True)
def _no_hub_environment() -> Iterator[None]:
    with without_hub_environment():
        yield


@pytest.fixture(autouse=True, scope="session")
def _cheapest_password_hashing() -> Iterator[None]:
    """Web passwords hashed with argon2's CHEAPEST profile, which argon2-cffi ships for
    tests: at the production cost (RFC 9106 low-memory: 64 MiB, 3 passes, 4 lanes) each
    login costs ~150 ms of CPU, 39 s over the unit tests. The integration suite's API
    processes keep the production cost; test_web pins that the hub's hasher has it."""
    from argon2 import PasswordHasher, profiles

    from hub.web import sessions

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sessions, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session")
def shipped_policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


@pytest.fixture
def keyring() -> KeyRing:
    return new_keyring()


@pytest.fixture
def cipher(keyring: KeyRing) -> PayloadCipher:
    return PayloadCipher(keyring)


@pytest.fixture
def pseudonymiser(keyring: KeyRing) -> Pseudonymiser:
    return Pseudonymiser(keyring, "ssp")


@pytest.fixture
def pipeline(cipher: PayloadCipher, pseudonymiser: Pseudonymiser,
             shipped_policy: Policy) -> Pipeline:
    """The worker's configuration: shipped policy and the real scrubber."""
    return Pipeline(cipher, pseudonymiser, shipped_policy,
                    lambda text, names: shared_scrubber().scrub(text, known_names=names).text)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "hub.db"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of an empty SQLite store at the newest schema, migrated once a session: a
    fresh store is a copy (Alembic from scratch costs ~80 ms, ~500 times a run)."""
    path = tmp_path_factory.mktemp("template") / "hub.db"
    Store.open(f"sqlite:///{path}").close()
    return path.read_bytes()


@pytest.fixture
def store(db_path: Path, migrated_template: bytes) -> Iterator[Store]:
    """A fresh, migrated SQLite store for one test (Store.open still checks it is at head)."""
    db_path.write_bytes(migrated_template)
    s = Store.open(f"sqlite:///{db_path}")
    try:
        yield s
    finally:
        s.close()
