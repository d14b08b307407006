"""Four-eyes re-identification end to end (issue 16): an extremism concern through the real
ingest API, worker and vault into Infohus, where the shipped policy asks for four eyes; two
consultants of Infohus over HTTP; the entries in the disclosure log as the sequencer wrote
them."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.integration

ASKED = "Vi skal tale med familien om bekymringen for radikalisering."
APPROVED = "Godkendt: samtalen med familien er nødvendig for indsatsen."
SEED = 990_416_001  # a person of our own


def _name(hub: HubStack, token: str) -> str:
    with hub.client(token) as c:
        return str(c.get("/api/v1/whoami").json()["name"])


@pytest.fixture(scope="module")
def infohus(hub: HubStack) -> dict[str, Any]:
    police = hub.principal("politi-4e", "agency:police")
    first = hub.principal("konsulent-a", "consultant", ("infohus",))
    second = hub.principal("konsulent-b", "consultant", ("infohus",))
    event = make_event("police", category="extremism", area="vordingborg", seed=SEED)
    with hub.client(police) as c:
        assert c.post("/api/v1/ingest/police", json=event).status_code == 202
    assert hub.wait_outcomes([event["event_id"]])[event["event_id"]]["status"] == "routed"
    with hub.client(first) as c:
        items = c.get("/api/v1/queues/infohus/concerns", params={"limit": 1000}).json()["items"]
    pseudonym = next(i["pseudonym"] for i in items if i["event_id"] == event["event_id"])
    assert hub.store is not None
    deadline = time.monotonic() + 30
    while hub.store.vault_entry(pseudonym) is None:
        assert time.monotonic() < deadline, "the worker wrote no vault entry"
        time.sleep(0.2)
    return {"first": first, "second": second, "pseudonym": pseudonym,
            "cpr": event["subject"]["cpr"], "name": event["subject"]["name"]}


def test_infohus_identity_only_after_a_second_consultants_approval(
        hub: HubStack, infohus: dict[str, Any]) -> None:
    pseudonym, cpr = infohus["pseudonym"], infohus["cpr"]
    body = {"pseudonym": pseudonym, "reason": ASKED}
    with hub.client(infohus["first"]) as first, hub.client(infohus["second"]) as second:
        asked = first.post("/api/v1/reidentify", json=body)
        assert asked.status_code == 202, asked.text
        assert cpr not in asked.text
        request_id = asked.json()["request_id"]
        # Refused (not revealed) until approved, however often asked.
        assert first.post("/api/v1/reidentify", json=body).status_code == 202
        own = first.post(f"/api/v1/reidentify/requests/{request_id}/decision",
                         json={"decision": "approve", "reason": APPROVED})
        assert own.status_code == 403
        assert first.post("/api/v1/reidentify", json=body).status_code == 202

        waiting = second.get("/api/v1/reidentify/requests").json()
        assert request_id in [r["request_id"] for r in waiting["items"]]
        approved = second.post(f"/api/v1/reidentify/requests/{request_id}/decision",
                               json={"decision": "approve", "reason": APPROVED})
        assert approved.status_code == 200, approved.text

        revealed = first.post("/api/v1/reidentify", json=body)
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["cpr"] == cpr

    first_name, second_name = _name(hub, infohus["first"]), _name(hub, infohus["second"])
    granted = hub.wait_log(lambda e: e["principal"] == first_name, kind="reidentification",
                           pseudonyms=[pseudonym])[0]
    assert granted["details"]["approved_by"] == second_name
    assert granted["details"]["approval_reason"] == APPROVED
    assert granted["reason"] == ASKED
    decided = hub.wait_log(lambda e: e["principal"] == second_name,
                           kind="reidentification_approved", pseudonyms=[pseudonym])[0]
    assert decided["recipient"] == first_name
    assert decided["details"]["request_reason"] == ASKED
    requested = hub.wait_log(lambda e: e["principal"] == first_name,
                             kind="reidentification_requested", pseudonyms=[pseudonym])
    assert len(requested) == 1
    refused = hub.wait_log(lambda e: e["reason_code"] == "own_request",
                           kind="reidentification_refused", pseudonyms=[pseudonym])
    assert refused[0]["principal"] == first_name
    text = repr(hub.log_entries(pseudonyms=[pseudonym]))
    assert cpr not in text
    assert infohus["name"] not in text
