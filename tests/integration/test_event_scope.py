"""Event ids scoped per agency and time bounded, end to end on the broker (issue 13 items 6
and 7): an id another agency used is 409 — the first agency's event is decided as usual, the
second agency's event is accepted under a new id and decided too (nothing dropped), and
neither agency learns anything about the other's; an event from the future is refused.
"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.events import make_event
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.timeout(240)


def test_an_id_another_agency_used_is_409_and_both_events_are_decided(hub: HubStack) -> None:
    school = hub.client(hub.principal("scope-skole", "agency:school"))
    social = hub.client(hub.principal("scope-social", "agency:social"))
    first = make_event("school")
    taken = first["event_id"]
    assert school.post("/api/v1/ingest/school", json=first).status_code == 202

    clash = make_event("social", event_id=taken)
    refused = social.post("/api/v1/ingest/social", json=clash)
    assert refused.status_code == 409
    unknown = social.post("/api/v1/ingest/social",
                          json=make_event("social", event_id=taken.replace(taken[:8], "0" * 8)))
    assert unknown.status_code == 202  # an id nobody used is simply accepted

    renamed = dict(clash, event_id=str(uuid.uuid4()))
    assert social.post("/api/v1/ingest/social", json=renamed).status_code == 202

    rows = hub.wait_outcomes([taken, renamed["event_id"]])
    assert rows[taken]["agency"] == "school"
    assert rows[renamed["event_id"]]["agency"] == "social"
    assert school.get(f"/api/v1/events/{taken}").status_code == 200
    theirs = social.get(f"/api/v1/events/{taken}")
    never = social.get(f"/api/v1/events/{uuid.uuid4()}")
    assert theirs.status_code == never.status_code == 404
    assert theirs.json() == never.json()
    # The school's duplicate is still a duplicate, not a conflict.
    again = school.post("/api/v1/ingest/school", json=first)
    assert again.status_code == 202
    assert again.json() == {"event_id": taken, "duplicate": True}
    school.close()
    social.close()


@pytest.mark.parametrize("when", ["2035-06-01T12:00:00+02:00", "9999-12-31T23:59:59+00:00"])
def test_an_event_from_the_future_is_refused_at_ingest(hub: HubStack, when: str) -> None:
    with hub.client(hub.principal("future-skole", "agency:school")) as c:
        event = make_event("school", occurred_at=when)
        response = c.post("/api/v1/ingest/school", json=event)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["occurred_at"]
        assert when[:4] not in response.text
        assert c.get(f"/api/v1/events/{event['event_id']}").status_code == 404
