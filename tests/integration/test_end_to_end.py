"""One event end to end, on a real broker and a real database (issue 2)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from core.bus.envelope import OrderKey, PayloadCipher, seal
from core.privacy.keys import FileKeyProvider
from schemas.wire import (
    DEADLETTER_TOPIC,
    H_AGENCY,
    H_EVENT_ID,
    H_INGESTED_AT,
    H_KEY_ID,
    H_PROJECTED,
    H_REASON,
    OUTCOMES_TOPIC,
    cases_topic,
    ingest_topic,
)
from tests.integration.events import ROUTING, expected_queues, make_event
from tests.integration.hubstack import HubStack, read_all_topics

pytestmark = pytest.mark.integration
ALL_QUEUES = ("beredskab", "infohus", "opsoegende", "omraade-praestoe", "omraade-stege",
              "omraade-vordingborg", "underretning")


@pytest.fixture(scope="module")
def tokens(hub: HubStack) -> dict[str, str]:
    return {
        "school": hub.principal("skole", "agency:school"),
        "social": hub.principal("social", "agency:social"),
        "police": hub.principal("politi", "agency:police"),
        "consultant": hub.principal("konsulent", "consultant", ALL_QUEUES),
        "beredskab": hub.principal("beredskab", "consultant", ("beredskab",)),
        "officer": hub.principal("sikkerhed", "security_officer"),
    }


def _post(hub: HubStack, token: str, agency: str, event: dict[str, Any]) -> Any:
    with hub.client(token) as c:
        return c.post(f"/api/v1/ingest/{agency}", json=event)


def _produce_raw(hub: HubStack, records: list[tuple[str, bytes, bytes, list[Any]]]) -> None:
    async def go() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap_servers,
                                    acks="all")
        await producer.start()
        try:
            for topic, key, value, headers in records:
                await producer.send_and_wait(topic, value, key=key, headers=headers)
        finally:
            await producer.stop()
    asyncio.run(go())


def _encrypted(hub: HubStack, agency: str, event_id: str, payload: bytes
               ) -> tuple[str, bytes, bytes, list[Any]]:
    """``payload`` sealed as the API seals it, bypassing the API's validation."""
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    cpr = str(json.loads(payload).get("subject", {}).get("cpr", ""))
    sealed = seal(PayloadCipher(ring), OrderKey.for_ring(ring), payload, event_id=event_id,
                  agency=agency, cpr=cpr)
    return (sealed.topic, sealed.key, sealed.value,
            sealed.headers(dt.datetime.fromisoformat("2026-03-02T14:05:01+00:00")))


def test_school_concern_comes_out_pseudonymised_in_the_right_queue(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="group_conflict", area="stege", age=14)
    resp = _post(hub, tokens["school"], "school", event)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"event_id": event["event_id"]}
    hub.wait_outcomes([event["event_id"]])

    with hub.client(tokens["school"]) as c:
        outcome = c.get(f"/api/v1/events/{event['event_id']}").json()
    assert outcome["status"] == "routed"
    assert outcome["queues"] == ["beredskab"]

    with hub.client(tokens["beredskab"]) as c:
        items = c.get("/api/v1/queues/beredskab/concerns", params={"limit": 1000}).json()["items"]
    concern = next(i for i in items if i["event_id"] == event["event_id"])
    assert concern["pseudonym"].startswith("ssp1:")
    assert concern["age"] == 14
    assert (concern["category"], concern["area"], concern["severity"]) == (
        "group_conflict", "stege", "medium")
    assert concern["source"] == {"agency": "school", "unit": "Stege Skole"}
    assert concern["consent"] == "given"
    text = json.dumps(concern, ensure_ascii=False)
    for secret in (event["subject"]["cpr"], event["subject"]["name"],
                   event["subject"]["address"], event["description"], event["necessity"],
                   event["related_persons"][0]["name"], "8.x"):
        assert secret not in text


def test_all_three_agencies_reach_their_queues_and_the_joint_view(
        hub: HubStack, tokens: dict[str, str]) -> None:
    school = make_event("school", category="wellbeing", area="praestoe", seed=7)
    police = make_event("police", category="crime", area="praestoe", seed=7)
    social = make_event("social", category="radicalisation", area="vordingborg", seed=7)
    assert school["subject"]["cpr"] == police["subject"]["cpr"] == social["subject"]["cpr"]
    for agency, event in (("school", school), ("police", police), ("social", social)):
        assert _post(hub, tokens[agency], agency, event).status_code == 202
    rows = hub.wait_outcomes([e["event_id"] for e in (school, police, social)])
    assert {r["status"] for r in rows.values()} == {"routed"}

    with hub.client(tokens["consultant"]) as c:
        concerns = c.get("/api/v1/queues/omraade-praestoe/concerns").json()["items"]
        pseudonym = next(i for i in concerns if i["event_id"] == school["event_id"])["pseudonym"]
        joint = c.get(f"/api/v1/subjects/{pseudonym}/concerns").json()["items"]
    assert {i["event_id"] for i in joint} >= {school["event_id"], police["event_id"],
                                              social["event_id"]}
    assert {i["source"]["agency"] for i in joint} >= {"school", "police", "social"}


@pytest.mark.parametrize("category", sorted(ROUTING))
@pytest.mark.parametrize("area", ["praestoe", "stege", "vordingborg", "other"])
def test_routing_table_end_to_end(hub: HubStack, tokens: dict[str, str], category: str,
                                  area: str) -> None:
    event = make_event("social", category=category, area=area)
    assert _post(hub, tokens["social"], "social", event).status_code == 202
    row = hub.wait_outcomes([event["event_id"]])[event["event_id"]]
    assert row["status"] == "routed"
    assert row["queues"] == expected_queues(category, area)


def test_investigation_purpose_is_rejected(hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("police", category="crime", purpose="investigation")
    assert _post(hub, tokens["police"], "police", event).status_code == 202
    hub.wait_outcomes([event["event_id"]])
    with hub.client(tokens["police"]) as c:
        outcome = c.get(f"/api/v1/events/{event['event_id']}").json()
    assert outcome["status"] == "rejected"
    assert outcome["reason"] == "purpose_not_permitted"
    assert outcome["queues"] == []


def test_same_event_id_twice_is_accepted_once(hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="insecurity", area="other")
    first = _post(hub, tokens["school"], "school", event)
    second = _post(hub, tokens["school"], "school", event)
    assert first.status_code == second.status_code == 202
    assert second.json()["event_id"] == event["event_id"]
    hub.wait_outcomes([event["event_id"]])
    records = read_all_topics(hub.settings.bootstrap_servers)
    # Ingest keys are a keyed hash of the subject; the event id is in a header.
    ingested = [r for r in records
                if r[0] == ingest_topic("school") and _event_id(r) == event["event_id"]]
    assert len(ingested) == 1


def test_the_route_stage_marks_the_records_it_stored_itself(
        hub: HubStack, tokens: dict[str, str]) -> None:
    """The route stage writes a routed event's concerns and outcome to the store itself; the
    case and outcome records it sends carry ``ssp-projected: 1`` through the broker, so that
    the projector skips them."""
    event = make_event("school", category="group_conflict", area="stege", age=14)
    assert _post(hub, tokens["school"], "school", event).status_code == 202
    hub.wait_outcomes([event["event_id"]])

    key = event["event_id"].encode()
    sent = [r for r in read_all_topics(hub.settings.bootstrap_servers)
            if r[1] == key and r[0] in (OUTCOMES_TOPIC, cases_topic("beredskab"))]
    assert sorted(r[0] for r in sent) == sorted([OUTCOMES_TOPIC, cases_topic("beredskab")])
    assert [dict(r[3]).get(H_PROJECTED) for r in sent] == [b"1", b"1"]


def _event_id(record: tuple[str, bytes | None, bytes, list[Any]]) -> str | None:
    raw = dict(record[3]).get(H_EVENT_ID)
    return raw.decode() if raw else None


def test_redelivered_ingest_record_is_not_processed_twice(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="crime", area="stege")
    assert _post(hub, tokens["school"], "school", event).status_code == 202
    hub.wait_outcomes([event["event_id"]])
    original = next(r for r in read_all_topics(hub.settings.bootstrap_servers)
                    if r[0] == ingest_topic("school") and _event_id(r) == event["event_id"])
    _produce_raw(hub, [(original[0], original[1] or b"", original[2], original[3])])
    # A marker after the copy: once it has an outcome the copy has been seen too
    # (same topic and key partition order is not guaranteed, so wait on both topics' ends).
    marker = make_event("school", category="crime", area="stege")
    marker["event_id"] = str(uuid.uuid4())
    _produce_raw(hub, [_encrypted(hub, "school", marker["event_id"],
                                  json.dumps(marker).encode())])
    hub.wait_outcomes([marker["event_id"]])
    records = read_all_topics(hub.settings.bootstrap_servers)
    outcomes = [r for r in records if r[0] == OUTCOMES_TOPIC and r[1] == event["event_id"].encode()]
    assert len(outcomes) == 1


def test_undecryptable_and_invalid_events_are_quarantined_still_encrypted(
        hub: HubStack, tokens: dict[str, str]) -> None:
    garbage_id = str(uuid.uuid4())
    garbage = (ingest_topic("police"), garbage_id.encode(), b"\x00not-a-ciphertext" * 8, [
        (H_KEY_ID, b"aes:1"), (H_AGENCY, b"police"), (H_EVENT_ID, garbage_id.encode()),
        (H_INGESTED_AT, b"2026-03-02T14:05:01+00:00")])
    bad = make_event("police", category="crime")
    bad["subject"]["cpr"] = "3213999999"
    invalid = _encrypted(hub, "police", bad["event_id"], json.dumps(bad).encode())
    _produce_raw(hub, [garbage, invalid])
    rows = hub.wait_outcomes([garbage_id, bad["event_id"]])
    assert rows[garbage_id]["status"] == "quarantined"
    assert rows[garbage_id]["reason"] == "undecryptable"
    assert rows[bad["event_id"]]["status"] == "quarantined"
    assert rows[bad["event_id"]]["reason"].startswith("invalid:")
    assert "subject.cpr" in rows[bad["event_id"]]["reason"]
    assert "3213999999" not in rows[bad["event_id"]]["reason"]

    dead = {r[1]: r for r in read_all_topics(hub.settings.bootstrap_servers)
            if r[0] == DEADLETTER_TOPIC}
    assert dead[garbage_id.encode()][2] == garbage[2]
    assert dead[bad["event_id"].encode()][2] == invalid[2]  # the ciphertext, untouched
    assert dict(dead[garbage_id.encode()][3])[H_REASON] == b"undecryptable"


def test_accounting_invariant_over_mixed_events(hub: HubStack, tokens: dict[str, str]) -> None:
    expected: dict[str, str] = {}
    for i in range(12):
        ev = make_event("school", category="wellbeing", area="vordingborg")
        assert _post(hub, tokens["school"], "school", ev).status_code == 202
        expected[ev["event_id"]] = "routed"
        if i % 3 == 0:  # a duplicate post: accepted once, no second outcome
            assert _post(hub, tokens["school"], "school", ev).status_code == 202
    for _ in range(5):
        ev = make_event("police", category="crime", purpose="investigation")
        assert _post(hub, tokens["police"], "police", ev).status_code == 202
        expected[ev["event_id"]] = "rejected"
    raw = []
    for _ in range(4):
        ev = make_event("social", category="crime")
        ev["schema_version"] = 2
        raw.append(_encrypted(hub, "social", ev["event_id"], json.dumps(ev).encode()))
        expected[ev["event_id"]] = "quarantined"
    _produce_raw(hub, raw)
    invalid_http = make_event("school")
    invalid_http["subject"]["cpr"] = "123"
    assert _post(hub, tokens["school"], "school", invalid_http).status_code == 422

    rows = hub.wait_outcomes(list(expected))
    got = {e: rows[e]["status"] for e in expected}
    assert got == expected
    counts = {s: sum(1 for v in got.values() if v == s) for s in ("routed", "rejected",
                                                                   "quarantined")}
    assert sum(counts.values()) == len(expected) == 21
    assert counts == {"routed": 12, "rejected": 5, "quarantined": 4}
    assert hub.store is not None
    assert hub.store.event(invalid_http["event_id"]) is None  # refused at the door


def test_wrong_agency_missing_token_and_foreign_queue_are_refused(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("police")
    assert _post(hub, tokens["school"], "police", event).status_code == 403
    with hub.client() as c:
        assert c.post("/api/v1/ingest/school", json=make_event("school")).status_code == 401
        assert c.get("/api/v1/queues").status_code == 401
    with hub.client("ssp_not-a-real-token") as c:
        assert c.get("/api/v1/queues").status_code == 401
    with hub.client(tokens["beredskab"]) as c:
        assert c.get("/api/v1/queues/infohus/concerns").status_code == 403
        assert [q["queue"] for q in c.get("/api/v1/queues").json()["items"]] == ["beredskab"]
    with hub.client(tokens["consultant"]) as c:
        mine = make_event("school")
        assert c.post("/api/v1/ingest/school", json=mine).status_code == 403
    with hub.client(tokens["social"]) as c:
        school_event = make_event("school")
        _post(hub, tokens["school"], "school", school_event)
        assert c.get(f"/api/v1/events/{school_event['event_id']}").status_code == 404


def test_paging_returns_each_concern_once(hub: HubStack, tokens: dict[str, str]) -> None:
    ids = []
    for i in range(7):
        ev = make_event("school", category="substance_abuse", area="praestoe")
        assert _post(hub, tokens["school"], "school", ev).status_code == 202
        ids.append(ev["event_id"])
        if i in (5, 6):  # the last one is routed strictly after the others
            hub.wait_outcomes(ids)
    seen: list[str] = []
    cursor = None
    with hub.client(tokens["consultant"]) as c:
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = c.get("/api/v1/queues/omraade-praestoe/concerns", params=params).json()
            assert len(page["items"]) <= 3
            seen += [i["event_id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert c.get("/api/v1/queues/omraade-praestoe/concerns",
                     params={"limit": 1001}).status_code == 422
    assert len(seen) == len(set(seen))
    assert set(ids) <= set(seen)
    assert all(seen.index(ids[-1]) < seen.index(e) for e in ids[:-1])  # newest first


def test_health_readiness_and_metrics(hub: HubStack) -> None:
    with hub.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"store": "ok", "broker": "ok"}
        assert c.get("/metrics").status_code == 401  # issue 13 item 10: not for anyone
    with hub.client(hub.principal("scrape", "admin")) as c:
        metrics = c.get("/metrics").text
    assert 'ssp_hub_events_total{outcome="routed"}' in metrics
    assert "ssp_hub_ingest_to_routed_seconds_bucket" in metrics
    assert "ssp_hub_disclosure_log_entries" in metrics


def test_a_claim_left_by_a_crashed_api_does_not_swallow_the_retry(
        hub: HubStack, tokens: dict[str, str]) -> None:
    """An API that died between claiming the event id and the broker's acknowledgement left
    an `accepting` claim and produced nothing; the agency's retry must get the event in."""
    import datetime as dt

    assert hub.store is not None
    stale = make_event("school", category="crime", area="stege")
    fresh = make_event("school", category="crime", area="stege")
    now = dt.datetime.now(dt.UTC)
    assert hub.store.claim_event(stale["event_id"], "school", now - dt.timedelta(minutes=5))
    assert hub.store.claim_event(fresh["event_id"], "school", now)
    assert hub.store.event(stale["event_id"])["status"] == "pending"  # type: ignore[index]

    retried = _post(hub, tokens["school"], "school", stale)
    assert retried.status_code == 202
    assert retried.json() == {"event_id": stale["event_id"]}  # not answered as a duplicate
    assert hub.wait_outcomes([stale["event_id"]])[stale["event_id"]]["status"] == "routed"
    # A claim that may still be in flight elsewhere is a duplicate, as before.
    assert _post(hub, tokens["school"], "school", fresh).json()["duplicate"] is True
    # Another agency cannot take over the claim, and is told so (409), not that it is a
    # duplicate of something it never sent (issue 13 item 6).
    other = dict(stale, source={**stale["source"], "agency": "police"})
    conflict = _post(hub, tokens["police"], "police", other)
    assert conflict.status_code == 409
    assert "duplicate" not in conflict.json()
