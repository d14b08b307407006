"""Real external services for integration tests: Apache Kafka and PostgreSQL.

Thin wrappers around ``scripts/kafka-local`` and ``scripts/pg-local``, which run
real Apache Kafka (jars from Maven Central, run with ``java``) and PostgreSQL
(Debian's packages) on 127.0.0.1, without Docker. Every server started here runs
detached from the test process; call ``stop()`` (or use the handle as a context
manager) so that nothing is left running.

Example (pytest)::

    @pytest.fixture(scope="session")
    def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaHandle]:
        with start_kafka("single", tmp_path_factory.mktemp("kafka")) as handle:
            yield handle
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from aiokafka.admin import AIOKafkaAdminClient

__all__ = [
    "KAFKA_LOCAL",
    "PG_LOCAL",
    "SCRIPTS_DIR",
    "ExternalServiceError",
    "KafkaHandle",
    "KafkaMode",
    "PostgresHandle",
    "fetch_kafka",
    "start_kafka",
    "start_postgres",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS_DIR = REPO_ROOT / "scripts"
KAFKA_LOCAL = SCRIPTS_DIR / "kafka-local"
PG_LOCAL = SCRIPTS_DIR / "pg-local"

KafkaMode = Literal["single", "cluster"]

# Generous: a cold `fetch` downloads ~45 MB from Maven Central, and a 3-node
# cluster on 2 cores takes ~10 s to start.
FETCH_TIMEOUT = 600.0
START_TIMEOUT = 300.0
STOP_TIMEOUT = 120.0
IN_SYNC_TIMEOUT = 60.0


class ExternalServiceError(RuntimeError):
    """A helper script failed; the message carries its stderr."""


def _run(args: list[str | Path], timeout: float) -> str:
    """Run a helper script and return its stdout; raise with its stderr on failure."""
    cmd = [str(a) for a in args]
    try:
        proc = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        # typeshed says bytes, but with text=True it is str (or None).
        raw: object = exc.stderr
        stderr = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
        msg = f"{' '.join(cmd)} timed out after {timeout:.0f}s\n{stderr}"
        raise ExternalServiceError(msg) from exc
    if proc.returncode != 0:
        msg = f"{' '.join(cmd)} failed with exit code {proc.returncode}\n{proc.stderr}"
        raise ExternalServiceError(msg)
    return proc.stdout


def _last_line(output: str, what: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        msg = f"no {what} printed"
        raise ExternalServiceError(msg)
    return lines[-1]


@dataclass
class KafkaHandle:
    """Kafka started by ``scripts/kafka-local`` in ``workdir``."""

    bootstrap: str
    workdir: Path
    mode: KafkaMode

    @property
    def nodes(self) -> int:
        return 3 if self.mode == "cluster" else 1

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL after a timeout). Idempotent."""
        _run([KAFKA_LOCAL, "stop", self.workdir], STOP_TIMEOUT)

    def kill_node(self, n: int) -> None:
        """``kill -9`` node ``n`` (1-based)."""
        _run([KAFKA_LOCAL, "kill-node", self.workdir, str(n)], STOP_TIMEOUT)

    def start_node(self, n: int) -> None:
        """Start node ``n`` again (same ports and data) and wait until it serves.

        The node serves clients at once, but its replicas rejoin the ISR only after
        catching up: await :meth:`wait_in_sync` before failing another node.
        """
        _run([KAFKA_LOCAL, "start-node", self.workdir, str(n)], START_TIMEOUT)

    async def wait_in_sync(self) -> None:
        """Wait until every partition of every topic has a leader and a full ISR.

        With min.insync.replicas=2 of 3, killing a node while another one is still
        catching up leaves partitions with one in-sync replica: acks=all produces
        then fail with NotEnoughReplicas until the lagging node catches up.
        Gives up after ``IN_SYNC_TIMEOUT`` seconds (wrap in ``asyncio.timeout`` for less).
        """
        lagging: list[str] = []
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            async with asyncio.timeout(IN_SYNC_TIMEOUT):
                while True:
                    lagging = [
                        f"{topic['topic']}-{part['partition']}"
                        for topic in await admin.describe_topics()
                        for part in topic["partitions"]
                        if part["leader"] < 0 or set(part["isr"]) != set(part["replicas"])
                    ]
                    if not lagging:
                        return
                    await asyncio.sleep(0.2)
        except TimeoutError as exc:
            msg = f"partitions not in sync after {IN_SYNC_TIMEOUT:.0f}s: {sorted(lagging)[:20]}"
            raise ExternalServiceError(msg) from exc
        finally:
            await admin.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class PostgresHandle:
    """PostgreSQL started by ``scripts/pg-local`` in ``workdir``."""

    url: str
    """SQLAlchemy URL: ``postgresql+psycopg://USER:PASS@127.0.0.1:PORT/ssp_hub_test``."""
    workdir: Path
    remove_on_stop: bool = False

    @property
    def dsn(self) -> str:
        """The same URL without the SQLAlchemy driver suffix, for ``psycopg.connect``."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def restart(self) -> None:
        """Stop the server (fast shutdown: open connections are cut) and start it again on
        the same port and data, as an operator's restart or a failover would."""
        _run([PG_LOCAL, "stop", self.workdir], STOP_TIMEOUT)
        _run([PG_LOCAL, "start", self.workdir], START_TIMEOUT)

    def stop(self) -> None:
        """Stop the server (fast shutdown). Idempotent."""
        _run([PG_LOCAL, "stop", self.workdir], STOP_TIMEOUT)
        if self.remove_on_stop:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def fetch_kafka() -> Path:
    """Download the Kafka jars if needed (fast when cached); return the libs dir."""
    return Path(_last_line(_run([KAFKA_LOCAL, "fetch"], FETCH_TIMEOUT), "libs dir"))


def start_kafka(mode: KafkaMode, workdir: Path) -> KafkaHandle:
    """Format and start Kafka in ``workdir`` (1 node, or a 3-node cluster).

    ``workdir`` must not already hold a Kafka setup. Returns once every node
    accepts client connections. On failure nothing is left running.
    """
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    fetch_kafka()
    try:
        out = _run([KAFKA_LOCAL, "start", mode, workdir], START_TIMEOUT)
    except ExternalServiceError:
        # A timed-out start may have left nodes behind.
        _run([KAFKA_LOCAL, "stop", workdir], STOP_TIMEOUT)
        raise
    return KafkaHandle(bootstrap=_last_line(out, "bootstrap servers"), workdir=workdir, mode=mode)


def start_postgres(workdir: Path | None = None) -> PostgresHandle:
    """Start PostgreSQL in ``workdir`` (initdb on first use; installs it if missing).

    The database ``ssp_hub_test`` and its owner role exist when this returns.
    Without ``workdir`` a fresh directory directly under the system temp dir is used and
    removed on stop: the server runs as the ``postgres`` user, which must be able to enter
    every parent, and pytest resets its own base temp dir to 0700 whenever another pytest
    session starts on the machine (seen as "could not open lock file: Permission denied").
    """
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="ssp-hub-pg-"))
        workdir.chmod(0o711)
        owned = True
    else:
        workdir = Path(workdir).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        owned = False
    try:
        out = _run([PG_LOCAL, "start", workdir], START_TIMEOUT)
    except ExternalServiceError:
        _run([PG_LOCAL, "stop", workdir], STOP_TIMEOUT)
        raise
    return PostgresHandle(url=_last_line(out, "database URL"), workdir=workdir,
                          remove_on_stop=owned)
