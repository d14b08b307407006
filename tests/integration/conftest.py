"""Integration fixtures: one broker, one database and one hub per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.embedded import start_embedded_broker
from tests.integration.hubstack import HubStack, start_stack


@pytest.fixture(scope="session")
def broker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("broker")
    if request.config.getoption("--broker") == "kafka":
        from tests.support.external import start_kafka

        kafka = start_kafka("single", workdir)
        try:
            yield kafka.bootstrap
        finally:
            kafka.stop()
    else:
        embedded = start_embedded_broker(workdir / "tansu.log")
        try:
            yield embedded.bootstrap
        finally:
            embedded.stop()


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str | None]:
    if request.config.getoption("--database") == "postgres":
        from tests.support.external import start_postgres

        pg = start_postgres()
        try:
            yield pg.url
        finally:
            pg.stop()
    else:
        yield None


@pytest.fixture(scope="session")
def hub(broker: str, database_url: str | None, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[HubStack]:
    workdir = tmp_path_factory.mktemp("hub")
    gen = start_stack(workdir, broker, database_url)
    stack = next(gen)
    try:
        yield stack
    finally:
        gen.close()
        _keep_logs(stack.logs)


def _keep_logs(logs: Path) -> None:
    """Copy the processes' logs under test-output/ so CI keeps them for a reader."""
    out = Path("test-output") / "logs" / uuid.uuid4().hex[:8]
    out.mkdir(parents=True, exist_ok=True)
    for f in logs.glob("*.log"):
        (out / f.name).write_bytes(f.read_bytes())
