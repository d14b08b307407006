"""The throughput benchmark's argument parsing and its one-line JSON report (the benchmark
itself is run by hand: it times a broker and workers, which a test on a shared machine must
not)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from bench.throughput import _fleet_summary, _workers, fresh_database, json_line


def _hub(workers: int, rate: float, p99: float | None, ok: bool = True) -> dict[str, Any]:
    paced = [] if p99 is None else [{"latency": {"ingest_to_routed": {"p99_ms": p99}}}]
    return {"workers": workers, "accounting_ok": ok, "paced": paced,
            "backlog": {"events_per_s": rate * 1.2, "end_to_end_events_per_s": rate,
                        "worker_cpu_ms_per_event": 0.7}}


BASELINE = {"events_per_s": 20_000.0,
            "paced": {"latency_produce_to_forwarded": {"p99_ms": 30.0}}}


def test_worker_counts_parse_one_or_a_list() -> None:
    assert _workers("2") == [2]
    assert _workers("1,2") == [1, 2]
    for bad in ("0", "x", "", "1,,17"):
        with pytest.raises(argparse.ArgumentTypeError):
            _workers(bad)


def test_a_fleet_summary_takes_the_end_to_end_rate_and_the_p99_added_over_the_floor() -> None:
    line = _fleet_summary(_hub(2, 5_000.0, 95.5), BASELINE)
    assert line == {"workers": 2, "events_per_s": 5000.0, "ratio": 0.25,
                    "p99_ms_half_load": 95.5, "added_p99_ms_half_load": 65.5,
                    "worker_cpu_ms_per_event": 0.7, "accounting_ok": True}
    assert _fleet_summary(_hub(1, 5_000.0, None), BASELINE)["added_p99_ms_half_load"] is None


def test_the_json_line_is_one_line_with_scaling_of_the_last_fleet_over_the_first() -> None:
    result: dict[str, Any] = {
        "config": {"broker": "kafka", "database": "postgres", "events": 20_000},
        "host": {"cpus": 2}, "baseline": BASELINE,
        "by_workers": [_fleet_summary(_hub(1, 4_000.0, 80.0), BASELINE),
                       _fleet_summary(_hub(2, 7_000.0, 90.0, ok=False), BASELINE)],
    }
    text = json_line(result)
    assert "\n" not in text
    doc = json.loads(text)
    assert doc["baseline_events_per_s"] == 20_000.0
    assert [f["ratio"] for f in doc["hub"]] == [0.2, 0.35]
    assert doc["scaling"] == 1.75
    assert doc["accounting_ok"] is False  # one fleet lost count: the whole run says so
    result["by_workers"] = result["by_workers"][:1]
    assert json.loads(json_line(result))["scaling"] is None


def test_without_a_postgres_server_each_run_keeps_the_default_sqlite_file() -> None:
    assert fresh_database(None, "bench_x") is None
