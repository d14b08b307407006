"""The throughput benchmark's argument parsing and its one-line JSON report (the benchmark
itself is run by hand: it times a broker and workers, which a test on a shared machine must
not)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.throughput import (
    SUBJECTS_PER_TEMPLATE,
    CpuSample,
    EventFactory,
    Readable,
    _another_serial,
    _fleet_summary,
    _workers,
    cpu_by_program,
    fleet_stages,
    fresh_database,
    json_line,
    machine_bound,
    machine_cpu_seconds,
    wait_for_outcomes,
)
from core.bus.envelope import OrderKey, PayloadCipher
from core.policy.evaluator import load_policy
from core.privacy.keys import FileKeyProvider
from core.settings import WORKER_STAGES, Settings
from core.store import Store, concerns
from schemas.cpr import birth_date


def _hub(workers: int, rate: float, p99: float | None, ok: bool = True) -> dict[str, Any]:
    paced = [] if p99 is None else [{"machine_cpu_util": 1.1,
                                     "latency": {"ingest_to_routed": {"p99_ms": p99},
                                                 "ingest_to_readable": {"p99_ms": p99 + 44.5}}}]
    return {"workers": workers, "accounting_ok": ok, "paced": paced,
            "backlog": {"events_per_s": rate * 1.2, "end_to_end_events_per_s": rate,
                        "worker_cpu_ms_per_event": 0.7, "machine_cpu_util": 1.3,
                        "machine_cpu_ms_per_event": 2.1,
                        "cpu_ms_per_event_by_program": {"python": 1.5, "java": 0.3}}}


BASELINE = {"events_per_s": 20_000.0,
            "paced": {"latency_produce_to_forwarded": {"p99_ms": 30.0}}}


def test_worker_counts_parse_one_or_a_list() -> None:
    assert _workers("2") == [2]
    assert _workers("1,2") == [1, 2]
    for bad in ("0", "x", "", "1,,17"):
        with pytest.raises(argparse.ArgumentTypeError):
            _workers(bad)


def test_a_fleet_summary_takes_the_end_to_end_rate_and_the_p99_added_over_the_floor() -> None:
    line = _fleet_summary(_hub(2, 5_000.0, 95.5), BASELINE, cpus=2)
    assert line == {"workers": 2, "events_per_s": 5000.0, "ratio": 0.25,
                    "p99_ms_half_load": 95.5, "machine_cpu_util_half_load": 1.1,
                    "added_p99_ms_half_load": 65.5,
                    "readable_p99_ms_half_load": 140.0, "added_readable_p99_ms_half_load": 110.0,
                    "worker_cpu_ms_per_event": 0.7, "machine_cpu_util": 1.3,
                    "machine_cpu_ms_per_event": 2.1,
                    "cpu_ms_per_event_by_program": {"python": 1.5, "java": 0.3},
                    "machine_bound": {"events_per_s": 952.4, "ratio": 0.048,
                                      "ratio_if_python_were_free": 0.167,
                                      "not_python_ms_per_event": 0.6},
                    "accounting_ok": True}
    assert _fleet_summary(_hub(1, 5_000.0, None), BASELINE)["added_p99_ms_half_load"] is None


def test_the_machine_bound_is_every_core_busy_at_the_measured_cost_per_event() -> None:
    # 0.5 ms of the whole machine's CPU per event on 2 cores: 4,000 events/s at most, a fifth
    # of a 20,000/s baseline; 0.1 ms of it not Python: 20,000/s, ratio 1.0, were Python free.
    back = {"machine_cpu_ms_per_event": 0.5,
            "cpu_ms_per_event_by_program": {"python": 0.4, "java": 0.06, "postgres": 0.04}}
    assert machine_bound(back, 20_000.0, 2) == {
        "events_per_s": 4000.0, "ratio": 0.2, "ratio_if_python_were_free": 1.0,
        "not_python_ms_per_event": 0.1}
    assert machine_bound(back, 20_000.0, 4)["events_per_s"] == 8000.0  # type: ignore[index]
    assert machine_bound({}, 20_000.0, 2) is None  # no machine-wide sample (not Linux)
    only_python = {"machine_cpu_ms_per_event": 0.5, "cpu_ms_per_event_by_program": {"python": 0.5}}
    assert machine_bound(only_python, 20_000.0, 2)["ratio_if_python_were_free"] is None  # type: ignore[index]


def test_the_json_line_is_one_line_with_scaling_of_the_last_fleet_over_the_first() -> None:
    result: dict[str, Any] = {
        "config": {"broker": "kafka", "database": "postgres", "events": 20_000,
                   "layout": "split"},
        "host": {"cpus": 2}, "baseline": BASELINE,
        "by_workers": [_fleet_summary(_hub(1, 4_000.0, 80.0), BASELINE, cpus=2),
                       _fleet_summary(_hub(2, 7_000.0, 90.0, ok=False), BASELINE, cpus=2)],
    }
    text = json_line(result)
    assert "\n" not in text
    doc = json.loads(text)
    assert doc["baseline_events_per_s"] == 20_000.0
    assert doc["layout"] == "split"
    assert [f["ratio"] for f in doc["hub"]] == [0.2, 0.35]
    assert doc["scaling"] == 1.75
    # the first fleet used 2.1 ms of the machine per event: 2 cores allow 952/s, 0.24 of 4,000
    assert doc["scaling_bound"] == 0.24
    # two workers at 1.7 × 0.25 × 20,000/s = 8,500/s on 2 cores: 0.235 ms of CPU per event
    assert doc["target_budget_ms_per_event"] == 0.235
    assert doc["accounting_ok"] is False  # one fleet lost count: the whole run says so
    result["by_workers"] = result["by_workers"][:1]
    assert json.loads(json_line(result))["scaling"] is None


def test_without_a_postgres_server_each_run_keeps_the_default_sqlite_file() -> None:
    assert fresh_database(None, "bench_x") is None


def test_a_split_fleet_runs_the_route_stage_in_each_worker_and_every_other_stage_once() -> None:
    assert fleet_stages(2, "full") == [("worker-1", None), ("worker-2", None)]
    split = fleet_stages(2, "split")
    assert [stages for _, stages in split[:2]] == ["route", "route"]
    assert len({name for name, _ in split}) == 3
    rest = (split[2][1] or "").split(",")
    assert sorted(["route", *rest]) == sorted(WORKER_STAGES)  # every stage, each once
    with pytest.raises(ValueError, match="layout"):
        fleet_stages(1, "both")


def test_the_machine_and_this_process_show_the_cpu_they_spend() -> None:
    machine, mine = machine_cpu_seconds(), cpu_by_program()
    assert machine is not None
    assert machine > 0
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # busy: this process's CPU must show
        pass
    later = cpu_by_program()
    name = Path("/proc/self/stat").read_text().split("(", 1)[1].rsplit(")", 1)[0]
    assert later[name] - mine.get(name, 0.0) >= 0.15
    assert (machine_cpu_seconds() or 0.0) - machine >= 0.15


class _Me:
    """A "fleet" of this very process, so its CPU shows as the workers'."""

    def cpu_seconds(self) -> float:
        return time.process_time()


def test_a_paced_phase_reports_the_machine_cpu_spent_while_it_was_sent() -> None:
    start = CpuSample.now(_Me())  # type: ignore[arg-type]
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    machine = CpuSample.now(_Me()).per_event_since(start, 100)  # type: ignore[arg-type]
    assert machine["machine_cpu_ms_per_event"] >= 1.5  # 0.2 s of this process over 100 events
    assert machine["machine_cpu_util"] >= 0.5  # a core busy most of the time
    parts = machine["cpu_ms_per_event_by_part"]
    assert parts["workers"] >= 1.5  # the "workers" here are this process
    assert parts["bench"] >= 1.5
    assert "python" not in parts  # the workers and the bench are the Python processes
    no_proc = CpuSample(start.at, None, None, 0.0, {})
    assert no_proc.per_event_since(start, 100) == {}  # no machine-wide sample (not Linux)


async def test_an_event_counts_as_readable_when_a_query_finds_its_concern(tmp_path: Path
                                                                         ) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'readable.db'}")
    readable = Readable(store, poll_s=0.005)
    sent = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=200)
    routed, rejected = (SimpleNamespace(event_id=f"e-{kind}", expected=kind)
                        for kind in ("routed", "rejected"))
    readable.sent(routed, sent)  # type: ignore[arg-type]
    readable.sent(rejected, sent)  # type: ignore[arg-type]
    assert list(readable.waiting) == ["e-routed"]  # a refusal never gets a concern
    done = asyncio.Event()
    watching = asyncio.create_task(readable.watch(done))
    await asyncio.sleep(0.03)
    assert readable.seconds == []  # not in the store: not readable
    with store.engine.begin() as conn:
        conn.execute(concerns.insert().values(
            event_id="e-routed", queue="infohus", pseudonym="p", payload="{}",
            occurred_at=sent, routed_at=sent))
    await asyncio.sleep(0.05)
    done.set()
    await watching
    store.close()
    [seconds] = readable.seconds
    assert 0.2 + 0.03 <= seconds < 5  # from the send stamp to a query that saw it
    assert readable.waiting == {}


class _Counts:
    """A store whose decided count follows a script, one value per poll."""

    def __init__(self, *decided: int) -> None:
        self.decided = list(decided)

    def outcome_counts(self) -> dict[str, int]:
        value = self.decided.pop(0) if len(self.decided) > 1 else self.decided[0]
        return {"routed": value, "pending": 7}


class _Alive:
    def check_alive(self) -> None:
        pass


async def test_waiting_for_outcomes_names_the_first_poll_that_saw_the_count_move() -> None:
    t0 = time.monotonic()
    first, count, end = await wait_for_outcomes(
        _Counts(10, 10, 14, 20), _Alive(), 20, limit_s=5, interval=0.001)  # type: ignore[arg-type]
    assert count == 14
    assert t0 < first <= end


async def test_a_target_reached_before_the_first_poll_is_reached_then() -> None:
    # A paced phase whose hub kept up: every event decided before the wait began.
    first, count, end = await wait_for_outcomes(
        _Counts(20), _Alive(), 20, limit_s=5, interval=0.001)  # type: ignore[arg-type]
    assert count == 20
    assert first == end


def test_the_bench_events_are_about_many_young_people_born_when_the_sample_ones_were(
        tmp_path: Path) -> None:
    """The sample data names 16 young people, and the ingest topics are keyed by person: the
    bench spreads its events over 1,000 per sample event, with the birth date (so the age and
    the policy's decision) of the sample one, and the partitions carry even loads."""
    cprs = {_another_serial({"cpr": "1403114127"}, i)["cpr"]
            for i in range(SUBJECTS_PER_TEMPLATE)}
    assert len(cprs) == SUBJECTS_PER_TEMPLATE
    assert {birth_date(c) for c in cprs} == {birth_date("1403114127")}

    settings = Settings(data_dir=tmp_path)
    ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
    factory = EventFactory(PayloadCipher(ring), OrderKey.for_ring(ring),
                           load_policy(settings.resolved_policy_file), reject_every=20)
    events = factory.batch(2000)
    assert len({m.sealed.key for m in events}) > 1900
    assert [m.expected for m in events].count("rejected") == 100
