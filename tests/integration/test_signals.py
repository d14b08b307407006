"""Signals become concerns in the stream (issue 5 §3), end to end on the real broker and store.

Each test uses days of its own (in 2027, after every other test's events) so that the shared
hub's window state for an area is not moved by another test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition

from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider
from core.store import concerns
from schemas.cpr import normalise_cpr
from schemas.wire import SIGNALS_TOPIC
from streams.aggregation import table_key
from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.integration
CET = dt.timezone(dt.timedelta(hours=1))


def _absence(seed: int, day: dt.date, *, excused: bool = False, **kw: Any) -> dict[str, Any]:
    event = make_event("school", kind="school_absence", category="school_absence",
                       area="stege", seed=seed, **kw)
    event["occurred_at"] = dt.datetime.combine(day, dt.time(8), CET).isoformat()
    event["absence"] = {"date": day.isoformat(), "lessons": 6, "excused": excused}
    event["related_persons"] = []
    return event


def _registration(seed: int, day: dt.date, area: str) -> dict[str, Any]:
    event = make_event("police", kind="police_registration", category="insecurity",
                       area=area, seed=seed)
    event["occurred_at"] = dt.datetime.combine(day, dt.time(22), CET).isoformat()
    event["registration"] = {"place": "Havnen"}
    event["related_persons"] = []
    return event


def _send(hub: HubStack, agency: str, events: list[dict[str, Any]]) -> list[str]:
    token = hub.principal(f"signals-{agency}", f"agency:{agency}")
    with hub.client(token) as client:
        for event in events:
            r = client.post(f"/api/v1/ingest/{agency}", json=event)
            assert r.status_code == 202, r.text
    return [e["event_id"] for e in events]


def _pseudonym(hub: HubStack, event: dict[str, Any]) -> str:
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    return Pseudonymiser(ring, "ssp")(normalise_cpr(event["subject"]["cpr"]))


def _concerns(hub: HubStack, where: Any) -> list[dict[str, Any]]:
    assert hub.store is not None
    with hub.store.engine.connect() as conn:
        rows = conn.execute(sa.select(concerns.c.queue, concerns.c.payload).where(where))
        return [{"queue": r.queue, **json.loads(r.payload)} for r in rows]


def _wait_concerns(hub: HubStack, where: Any, count: int, timeout: float = 90
                   ) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = _concerns(hub, where)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def _assert_aggregated(hub: HubStack, ids: list[str]) -> None:
    rows = hub.wait_outcomes(ids)
    assert {r["status"] for r in rows.values()} == {"aggregated"}
    assert all(r["queues"] == [] for r in rows.values())


def _assert_raw_signals_went_nowhere(hub: HubStack, ids: list[str]) -> None:
    assert _concerns(hub, concerns.c.event_id.in_(ids)) == []
    assert [e for e in hub.log_entries() if e.get("event_id") in ids] == []


def test_four_unexcused_days_in_twenty_school_days_make_one_concern_for_the_area_group(
        hub: HubStack) -> None:
    monday = dt.date(2025, 1, 6)  # a Monday in the past (issue 13: no future events)
    days = [monday + dt.timedelta(days=d) for d in (0, 1, 3, 7)]
    first = [_absence(950501, d) for d in days[:3]]
    excused = _absence(950501, monday + dt.timedelta(days=2), excused=True)
    pseudonym = _pseudonym(hub, first[0])
    mine = concerns.c.pseudonym == pseudonym

    ids = _send(hub, "school", [*first, excused])
    _assert_aggregated(hub, ids)
    time.sleep(3)  # let the aggregator catch up: three counted days must make nothing
    assert _concerns(hub, mine) == []

    fourth = _absence(950501, days[3])
    ids += _send(hub, "school", [fourth])
    found = _wait_concerns(hub, mine, 1)
    assert [c["queue"] for c in found] == ["omraade-stege"]
    concern = found[0]
    assert concern["category"] == "school_absence"
    assert concern["aggregate"]["count"] == 4
    assert (concern["aggregate"]["window_from"], concern["aggregate"]["window_to"]) == (
        days[0].isoformat(), days[3].isoformat())
    assert fourth["subject"]["name"] not in json.dumps(concern)
    # The condition persists: a fifth day makes no second concern.
    ids += _send(hub, "school", [_absence(950501, monday + dt.timedelta(days=8))])
    _assert_aggregated(hub, ids)
    time.sleep(3)
    assert len(_concerns(hub, mine)) == 1
    _assert_raw_signals_went_nowhere(hub, ids)
    # The concern was disclosed, and logged, like any other; the identity is in the vault.
    logged = hub.wait_log(lambda e: e.get("event_id") == concern["event_id"])
    assert [(e["kind"], e["recipient"], e["pseudonym"]) for e in logged] == [
        ("disclosure", "omraade-stege", pseudonym)]
    assert hub.store is not None
    assert hub.store.vault_present([pseudonym]) == {pseudonym}


def test_three_young_people_registered_in_one_area_in_seven_days_make_an_area_concern(
        hub: HubStack) -> None:
    # An area's window state is shared by every test that registers young people there (the
    # kill test does, dated 2026-03): a signal two windows older than the area's newest day can
    # no longer make a concern. So: a recent Monday, its week wholly in the past.
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=14 + today.weekday())
    seen = [_registration(950601, monday, "praestoe"),
            _registration(950601, monday + dt.timedelta(days=1), "praestoe"),  # the same person
            _registration(950602, monday + dt.timedelta(days=3), "praestoe")]
    area_level = (concerns.c.pseudonym == "") & concerns.c.payload.contains(
        f'"window_to":"{(monday + dt.timedelta(days=6)).isoformat()}"')

    ids = _send(hub, "police", seen)
    _assert_aggregated(hub, ids)
    time.sleep(3)
    assert _concerns(hub, area_level) == []

    third = _registration(950603, monday + dt.timedelta(days=6), "praestoe")
    ids += _send(hub, "police", [third])
    found = _wait_concerns(hub, area_level, 2)
    assert sorted(c["queue"] for c in found) == ["beredskab", "opsoegende"]
    for concern in found:
        assert concern["category"] == "insecurity"
        assert concern["area"] == "praestoe"
        assert concern["aggregate"]["counted"] == "young_people"
        assert concern["aggregate"]["count"] == 3
        assert "pseudonym" not in concern
        assert "age" not in concern
        text = json.dumps(concern)
        for event in [*seen, third]:
            assert _pseudonym(hub, event) not in text
    _assert_raw_signals_went_nowhere(hub, ids)
    logged = hub.wait_log(lambda e: e.get("event_id") == found[0]["event_id"], count=2)
    assert sorted(e["recipient"] for e in logged) == ["beredskab", "opsoegende"]
    assert all(e.get("pseudonym") is None for e in logged)
    # A consultant in beredskab reads it through the API like any concern.
    token = hub.principal("signal-konsulent", "consultant", ("beredskab",))
    shown = []
    with hub.client(token) as client:
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/queues/beredskab/concerns", params=params)
            assert page.status_code == 200, page.text
            shown += [i for i in page.json()["items"] if i["event_id"] == found[0]["event_id"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
    assert len(shown) == 1
    assert "pseudonym" not in shown[0]
    assert shown[0]["aggregate"]["count"] == 3


async def _changelog_and_offsets(hub: HubStack, key: bytes) -> tuple[dict[str, Any] | None,
                                                                      bool]:
    """The newest changelog value for ``key`` and whether the aggregator has committed every
    signal on the topic."""
    group = hub.env["SSP_HUB_WORKER_ID"]
    bootstrap = hub.settings.bootstrap_servers
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        changelog = f"{group}-signal-windows-changelog"
        # Both topics have the settings' partitions (the table is co-partitioned).
        parts = range(hub.settings.topic_partitions)
        tps = [TopicPartition(changelog, p) for p in parts]
        value = None
        if tps:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            async def behind() -> bool:
                return any([await consumer.position(tp) < ends[tp] for tp in tps])

            while await behind():
                batch = await consumer.getmany(timeout_ms=1000)
                for msgs in batch.values():
                    for m in msgs:
                        if m.key == key:
                            value = json.loads(m.value) if m.value else None
        signal_tps = [TopicPartition(SIGNALS_TOPIC, p) for p in parts]
        signal_ends = await consumer.end_offsets(signal_tps)
    finally:
        await consumer.stop()
    # committed() asks the group's coordinator; this consumer never joins the group.
    peek = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                            enable_auto_commit=False)
    await peek.start()
    try:
        committed = {tp: await peek.committed(tp) for tp in signal_ends}
    finally:
        await peek.stop()
    caught_up = all((committed[tp] or 0) >= end for tp, end in signal_ends.items() if end > 0)
    return value, caught_up


TANSU_END_OFFSET = (
    "tansu answers ListOffsets(latest) with the last record batch's base offset + 1, so a "
    "partition whose last batch holds several records looks shorter than it is; faust's "
    "changelog recovery stops there and the newest window state is not restored. Apache "
    "Kafka (the production engine) restores it: `make test-kafka` runs this test there.")


def test_window_state_survives_a_kill_in_the_middle_of_a_window(
        hub: HubStack, request: pytest.FixtureRequest) -> None:
    """Two days counted, the state in the changelog and every signal's offset committed;
    ``kill -9``; a fresh worker restores the table from the changelog, and two more days make
    the concern (count 4). Without recovery the new worker would count only 2."""
    if request.config.getoption("--broker") != "kafka":
        request.applymarker(pytest.mark.xfail(reason=TANSU_END_OFFSET, strict=False))
    monday = dt.date(2025, 3, 3)  # a Monday in the past
    before = [_absence(950701, monday), _absence(950701, monday + dt.timedelta(days=1))]
    pseudonym = _pseudonym(hub, before[0])
    key = table_key("absence-unexcused-days", pseudonym)
    _assert_aggregated(hub, _send(hub, "school", before))
    deadline = time.monotonic() + 60
    while True:
        state, caught_up = asyncio.run(_changelog_and_offsets(hub, key))
        if (state and len(state["m"]) == 2 and caught_up) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert state is not None
    assert sorted(state["m"]) == [monday.isoformat(), (monday + dt.timedelta(days=1)).isoformat()]
    assert caught_up, "the aggregator never committed the signals it counted"

    for worker in hub.live_workers():
        hub.kill_worker(worker)
    hub.start_worker()
    after = [_absence(950701, monday + dt.timedelta(days=d)) for d in (3, 4)]
    ids = _send(hub, "school", after)
    _assert_aggregated(hub, ids)

    found = _wait_concerns(hub, concerns.c.pseudonym == pseudonym, 1, timeout=120)
    assert [(c["queue"], c["aggregate"]["count"]) for c in found] == [("omraade-stege", 4)]
    time.sleep(2)
    assert len(_concerns(hub, concerns.c.pseudonym == pseudonym)) == 1
