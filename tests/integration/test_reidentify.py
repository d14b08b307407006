"""Re-identification and the joint view end to end (issue 3 §3): events from three agencies
through the real worker, vault entries written by it, the real API answering."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.integration

REASON = "Vi skal kontakte familien om en fælles indsats efter flere bekymringer."
SEED = 990_331_001  # one person of our own: other modules seed make_event with small numbers
T0 = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.fixture(scope="module")
def tokens(hub: HubStack) -> dict[str, str]:
    return {
        "school": hub.principal("skole", "agency:school"),
        "social": hub.principal("social", "agency:social"),
        "police": hub.principal("politi", "agency:police"),
        "stege": hub.principal("konsulent-stege", "consultant",
                               ("omraade-stege", "beredskab")),
        "infohus": hub.principal("konsulent-infohus", "consultant", ("infohus",)),
    }


@pytest.fixture(scope="module")
def subject(hub: HubStack, tokens: dict[str, str]) -> dict[str, Any]:
    """One young person reported by all three agencies, sent out of time order."""
    events = {
        "school": make_event("school", category="group_conflict", area="stege", seed=SEED,
                             occurred_at=(T0 + dt.timedelta(days=2)).isoformat()),
        "police": make_event("police", category="crime", area="stege", seed=SEED,
                             occurred_at=T0.isoformat()),
        "social": make_event("social", category="wellbeing", area="stege", seed=SEED,
                             occurred_at=(T0 - dt.timedelta(days=3, hours=2)).isoformat()),
    }
    cprs = {e["subject"]["cpr"] for e in events.values()}
    assert len(cprs) == 1
    for agency, event in events.items():
        with hub.client(tokens[agency]) as c:
            assert c.post(f"/api/v1/ingest/{agency}", json=event).status_code == 202
    rows = hub.wait_outcomes([e["event_id"] for e in events.values()])
    assert {r["status"] for r in rows.values()} == {"routed"}
    with hub.client(tokens["stege"]) as c:
        items = c.get("/api/v1/queues/omraade-stege/concerns",
                      params={"limit": 1000}).json()["items"]
    pseudonym = next(i for i in items
                     if i["event_id"] == events["police"]["event_id"])["pseudonym"]
    _wait_vault(hub, pseudonym)
    # make_event gives each event its own name for the same CPR; the vault keeps the first.
    names = {e["subject"]["name"] for e in events.values()}
    return {"events": events, "pseudonym": pseudonym, "cpr": cprs.pop(), "names": names}


def _wait_vault(hub: HubStack, pseudonym: str, timeout: float = 30) -> None:
    """The worker writes the vault while the broker acknowledges the batch's outputs."""
    assert hub.store is not None
    deadline = time.monotonic() + timeout
    while hub.store.vault_entry(pseudonym) is None:
        assert time.monotonic() < deadline, "the worker wrote no vault entry"
        time.sleep(0.2)


def _name(hub: HubStack, token: str) -> str:
    with hub.client(token) as c:
        return str(c.get("/api/v1/whoami").json()["name"])


def _reidentify(hub: HubStack, token: str, body: dict[str, Any]) -> Any:
    with hub.client(token) as c:
        return c.post("/api/v1/reidentify", json=body)


def _last_disclosure(hub: HubStack, principal: str, count: int = 1) -> dict[str, Any]:
    """The newest re-identification entry by ``principal``, waiting for the sequencer to
    integrate at least ``count`` of them."""
    rows = hub.wait_log(lambda e: e.get("principal") == principal
                        and e["kind"].startswith("reidentification"), count=count)
    return rows[-1]


def test_joint_view_lists_the_three_agencies_concerns_in_time_order(
        hub: HubStack, tokens: dict[str, str], subject: dict[str, Any]) -> None:
    with hub.client(tokens["stege"]) as c:
        body = c.get(f"/api/v1/subjects/{subject['pseudonym']}/concerns").json()

    assert set(body) == {"items", "next_cursor"}
    mine = {e["event_id"] for e in subject["events"].values()}
    ours = [i for i in body["items"] if i["event_id"] in mine]
    assert [i["source"]["agency"] for i in ours] == ["social", "police", "school"]
    stamps = [dt.datetime.fromisoformat(i["occurred_at"]) for i in body["items"]]
    assert stamps == sorted(stamps)


def test_consultant_with_the_queue_reidentifies_with_a_reason(
        hub: HubStack, tokens: dict[str, str], subject: dict[str, Any]) -> None:
    response = _reidentify(hub, tokens["stege"],
                           {"pseudonym": subject["pseudonym"], "reason": REASON})

    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"pseudonym", "cpr", "name"}
    assert (answer["pseudonym"], answer["cpr"]) == (subject["pseudonym"], subject["cpr"])
    assert answer["name"] in subject["names"]
    assert "no-store" in response.headers["cache-control"]
    who = _name(hub, tokens["stege"])
    entry = _last_disclosure(hub, who)
    assert entry["kind"] == "reidentification"
    assert (entry["pseudonym"], entry["reason"]) == (subject["pseudonym"], REASON)
    assert entry["at"] is not None


@pytest.mark.parametrize("reason", [None, "", "for kort", "alt for kort"])
def test_without_a_reason_or_too_short_is_422(hub: HubStack, tokens: dict[str, str],
                                              subject: dict[str, Any],
                                              reason: str | None) -> None:
    body: dict[str, Any] = {"pseudonym": subject["pseudonym"]}
    if reason is not None:
        body["reason"] = reason
    # A consultant of their own, so that the entry found is this request's.
    token = hub.principal("konsulent-stege", "consultant", ("omraade-stege", "beredskab"))

    response = _reidentify(hub, token, body)

    assert response.status_code == 422
    assert "20 characters" in response.json()["detail"]
    assert subject["cpr"] not in response.text
    entry = _last_disclosure(hub, _name(hub, token))
    assert (entry["kind"], entry["reason_code"]) == ("reidentification_refused",
                                                     "reason_insufficient")


@pytest.mark.parametrize("who", ["infohus", "school", "police"])
def test_consultant_of_another_queue_and_agencies_are_403(
        hub: HubStack, tokens: dict[str, str], subject: dict[str, Any], who: str) -> None:
    response = _reidentify(hub, tokens[who],
                           {"pseudonym": subject["pseudonym"], "reason": REASON})

    assert response.status_code == 403
    assert subject["cpr"] not in response.text
    assert not any(name in response.text for name in subject["names"])
    entry = _last_disclosure(hub, _name(hub, tokens[who]))
    assert entry["kind"] == "reidentification_refused"
    assert entry["pseudonym"] == subject["pseudonym"]


def test_vault_and_disclosures_hold_no_plaintext_identity(
        hub: HubStack, subject: dict[str, Any]) -> None:
    assert hub.store is not None
    entry = hub.store.vault_entry(subject["pseudonym"])
    assert entry is not None
    assert subject["cpr"].encode() not in entry.ciphertext
    text = repr(hub.log_entries(pseudonyms=[subject["pseudonym"]]))
    assert subject["cpr"] not in text
    for name in subject["names"]:
        assert name.encode() not in entry.ciphertext
        assert name not in text
