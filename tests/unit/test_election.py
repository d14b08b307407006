"""One holder at a time for an elected job (core.bus.election), on the in-memory bus: the
member holding the election topic's one partition runs the job every interval, the others
only poll; when the holder goes, the next member takes over. The worker's stage selection
(`ssp-hub worker --stages`) is checked where settings are read."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.bus import InMemoryBus
from core.bus.election import election_consumer, run_while_holding
from core.settings import WORKER_STAGES, Settings

pytestmark = pytest.mark.timeout(30)


async def _until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def _member(settings: Settings, bus: InMemoryBus, runs: dict[str, int], name: str,
            interval_s: float = 0.05) -> asyncio.Task[None]:
    async def work() -> None:
        runs[name] += 1

    return asyncio.create_task(run_while_holding(
        election_consumer(settings, "retention", bus), "retention", work, interval_s,
        poll_ms=5))


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_one_holder_runs_the_job_and_the_next_takes_over_when_it_goes(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    bus = InMemoryBus()
    runs = {"a": 0, "b": 0, "c": 0}
    a = _member(settings, bus, runs, "a")
    await _until(lambda: runs["a"] >= 1)
    b, c = _member(settings, bus, runs, "b"), _member(settings, bus, runs, "c")
    await _until(lambda: runs["a"] >= 4)
    assert runs["b"] == runs["c"] == 0  # only the holder runs it

    await _stop(a)  # the holder goes (a dead one is dropped after the session timeout)
    await _until(lambda: runs["b"] + runs["c"] >= 3)
    assert min(runs["b"], runs["c"]) == 0  # exactly one took over
    await _stop(b)
    await _stop(c)


async def test_the_job_runs_at_once_when_won_and_then_once_per_interval(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    runs = {"a": 0}
    a = _member(settings, InMemoryBus(), runs, "a", interval_s=3600)
    await _until(lambda: runs["a"] == 1)
    await asyncio.sleep(0.1)  # 20 polls
    assert runs["a"] == 1
    await _stop(a)


def test_the_worker_stages_default_to_all_and_keep_the_data_flow_order() -> None:
    assert Settings().stages == WORKER_STAGES
    assert Settings(worker_stages=" project,route ").stages == ("route", "project")


@pytest.mark.parametrize("value", ["", "route,bogus", ","])
def test_unknown_or_no_stages_are_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(ValidationError, match="worker_stages must name one or more of"):
        Settings(worker_stages=value)
