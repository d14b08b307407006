"""Workers with some of the stages (`ssp-hub worker --stages`), on the real broker: a second
worker that runs only the route stage and the projector shares their consumer groups with
the hub's full worker; killed with ``kill -9`` while events stream, its partitions go back to
the other worker (a rebalance in the middle of batches), and every event still ends routed
once, each concern in its queue once. Retention runs where the election put it, never in a
worker without the stage."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from core.settings import AGENCIES
from tests.integration.events import expected_queues, make_event
from tests.integration.hubstack import HubStack
from tests.integration.test_kill import AREAS, CATEGORIES, _post_all

pytestmark = pytest.mark.integration
N_EVENTS = 400


def _held(log: Path) -> dict[str, int]:
    """The partitions each stage of a worker holds now, by its ``stage_assignment`` lines."""
    held: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if '"stage_assignment"' in line:
            entry = json.loads(line[line.index("{"):])  # faust prefixes its running worker's
            held[entry["stage"]] = entry["partitions"]
    return held


def test_a_partial_worker_shares_the_stages_and_its_death_loses_nothing(hub: HubStack) -> None:
    extra = hub.start_worker("--stages", "route,project")
    log = hub.logs / f"worker-{len(hub.workers) - 1}.log"
    # Shared: the partial worker holds some of the route stage's partitions, not all of them
    # (the hub's full worker holds the rest), and some of the projector's.
    route_partitions = len(AGENCIES) * hub.settings.topic_partitions
    deadline = time.monotonic() + 120
    while not (0 < _held(log).get("route", 0) < route_partitions
               and _held(log).get("projector")):
        assert extra.poll() is None, log.read_text(errors="replace")[-2000:]
        assert time.monotonic() < deadline, "the partial worker never got partitions"
        time.sleep(0.2)
    token = hub.principal("politi-stages", "agency:police")
    events = [make_event("police", category=CATEGORIES[i % len(CATEGORIES)],
                         area=AREAS[i % len(AREAS)], seed=10_000 + i) for i in range(N_EVENTS)]
    progress = [0]
    result: dict[str, list[int]] = {}
    poster = threading.Thread(target=lambda: result.setdefault(
        "statuses", asyncio.run(_post_all(hub.api_url, token, events, progress))))
    poster.start()
    while progress[0] < N_EVENTS // 2 and poster.is_alive():
        time.sleep(0.05)
    hub.kill_worker(extra)
    poster.join(300)
    assert result["statuses"].count(202) == N_EVENTS

    ids = [e["event_id"] for e in events]
    rows = hub.wait_outcomes(ids, timeout=300)
    assert {rows[i]["status"] for i in ids} == {"routed"}
    expected = {(e["event_id"], q) for e in events
                for q in expected_queues(e["category"], e["area"])}
    projected = hub.projected({q for _, q in expected}, set(ids))
    assert set(projected) == expected
    assert max(projected.values()) == 1

    text = log.read_text(errors="replace")
    assert '"stages": "route,project"' in text
    assert "election_won" not in text  # no retention here: not its stage
    assert "sequencer" not in _held(log)
    others = [p for p in hub.logs.glob("worker-*.log") if p != log]
    assert any("election_won" in p.read_text(errors="replace") for p in others)
