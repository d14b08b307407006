"""Issue 3 end to end: the §115 policy v1 decides, field by field, what leaves the hub."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.integration
QUEUES = ("beredskab", "infohus", "opsoegende", "omraade-praestoe", "omraade-stege",
          "omraade-vordingborg", "underretning")


@pytest.fixture(scope="module")
def tokens(hub: HubStack) -> dict[str, str]:
    return {
        "school": hub.principal("skole-v1", "agency:school"),
        "police": hub.principal("politi-v1", "agency:police"),
        "social": hub.principal("social-v1", "agency:social"),
        "consultant": hub.principal("konsulent-v1", "consultant", QUEUES),
    }


def _send(hub: HubStack, tokens: dict[str, str], agency: str, event: dict[str, Any]
          ) -> dict[str, Any]:
    with hub.client(tokens[agency]) as c:
        assert c.post(f"/api/v1/ingest/{agency}", json=event).status_code == 202
    row: dict[str, Any] = hub.wait_outcomes([event["event_id"]])[event["event_id"]]
    return row


def _concern(hub: HubStack, tokens: dict[str, str], queue: str, event_id: str
             ) -> dict[str, Any]:
    with hub.client(tokens["consultant"]) as c:
        items = c.get(f"/api/v1/queues/{queue}/concerns", params={"limit": 1000}).json()["items"]
    found: dict[str, Any] = next(i for i in items if i["event_id"] == event_id)
    return found


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"collaboration": "PSP"}, "collaboration_not_configured"),
    ({"necessity": "   "}, "necessity_not_stated"),
    ({"consent": "refused", "severity": "medium"}, "consent_refused"),
    ({"purpose": "investigation"}, "purpose_not_permitted"),
])
def test_policy_v1_rejections(hub: HubStack, tokens: dict[str, str], overrides: dict[str, str],
                              reason: str) -> None:
    event = make_event("police", category="crime")
    event.update(overrides)
    row = _send(hub, tokens, "police", event)
    assert (row["status"], row["reason"]) == ("rejected", reason)
    assert row["queues"] == []


def test_adult_in_ssp_is_outside_the_target_group(hub: HubStack, tokens: dict[str, str]) -> None:
    row = _send(hub, tokens, "social", make_event("social", category="crime", age=19))
    assert (row["status"], row["reason"]) == ("rejected", "outside_target_group")
    row = _send(hub, tokens, "social", make_event("social", category="crime", age=19,
                                                  collaboration="SSP+", area="stege"))
    assert (row["status"], row["queues"]) == ("routed", ["omraade-stege"])


def test_refused_consent_with_high_severity_is_routed_and_the_refusal_shown(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="wellbeing", area="praestoe", consent="refused",
                       severity="high")
    assert _send(hub, tokens, "school", event)["status"] == "routed"
    assert _concern(hub, tokens, "omraade-praestoe", event["event_id"])["consent"] == "refused"


def test_insecurity_reaches_beredskab_and_the_street_team(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("police", category="insecurity", area="vordingborg")
    assert _send(hub, tokens, "police", event)["queues"] == ["beredskab", "opsoegende"]
    for queue in ("beredskab", "opsoegende"):
        assert _concern(hub, tokens, queue, event["event_id"])["queue"] == queue


def test_acute_concern_about_a_child_also_goes_to_underretning_flagged(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="extremism", severity="acute", age=15)
    row = _send(hub, tokens, "school", event)
    assert row["queues"] == ["infohus", "underretning"]
    concern = _concern(hub, tokens, "underretning", event["event_id"])
    assert concern["flags"] == ["underretning_required"]


def test_fields_are_treated_per_queue_and_free_text_is_scrubbed(
        hub: HubStack, tokens: dict[str, str]) -> None:
    event = make_event("school", category="insecurity", area="stege")
    name = event["subject"]["name"]
    first = name.split()[0]
    event["description"] = (f"{first} og hans ven truede en elev. {name}s mor kan nås på "
                            f"20 30 40 50 eller mor@example.dk. CPR {event['subject']['cpr']}.")
    _send(hub, tokens, "school", event)
    beredskab = _concern(hub, tokens, "beredskab", event["event_id"])
    opsoegende = _concern(hub, tokens, "opsoegende", event["event_id"])
    assert beredskab["school"] == "Stege Skole"
    assert "school" not in opsoegende
    for concern in (beredskab, opsoegende):
        text = json.dumps(concern, ensure_ascii=False)
        for secret in (first, event["subject"]["cpr"], "20 30 40 50", "mor@example.dk",
                       event["subject"]["address"], event["related_persons"][0]["name"], "8.x"):
            assert secret not in text
        assert "truede en elev" in concern["description"]
        assert "[TELEFON]" in concern["description"]
        assert "[EMAIL]" in concern["description"]
        assert concern["related_persons"][0]["role"] == "guardian"
        assert concern["related_persons"][0]["pseudonym"].startswith("ssp")
        assert "subject.class" in concern["withheld"]
