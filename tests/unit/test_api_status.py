"""The case-status API (hub/api_status.py): a note with personal data is refused with a JSON
error naming the field and the kinds found, never the value (issue 12 item 3)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.auth import new_token
from tests.unit import test_web
from tests.unit.test_web import Web

web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused

PATH = "/api/v1/queues/{queue}/concerns/{event_id}/status"


def _client(web: Web, role: str, queues: tuple[str, ...] = ()) -> tuple[TestClient, str]:
    token = new_token()
    web.store.add_principal(f"api-{uuid.uuid4().hex[:8]}", role, list(queues), token, None)
    return web.client(), token


def _concern(web: Web, queue: str = "omraade-stege") -> dict[str, Any]:
    item: dict[str, Any] = web.store.inbox_page(queues=[queue], status=None, limit=1,
                                                cursor=None).items[0]
    return item


def test_a_note_with_a_name_and_a_phone_is_refused_naming_the_kinds_not_the_value(
        web: Web) -> None:
    client, token = _client(web, "consultant", ("omraade-stege",))
    item = _concern(web)
    path = PATH.format(queue="omraade-stege", event_id=item["event_id"])
    before = web.store.status_history(item["event_id"], "omraade-stege")

    resp = client.put(path, headers={"Authorization": f"Bearer {token}"}, json={
        "status": "under_behandling", "note": "Talt med Mikkel Hansen på 22 33 44 55."})

    assert resp.status_code == 422
    [error] = resp.json()["errors"]
    assert (error["field"], error["type"], error["kinds"]) == (
        "note", "personal_data", ["name", "phone"])
    assert "Mikkel" not in resp.text
    assert "22 33" not in resp.text
    assert web.store.status_history(item["event_id"], "omraade-stege") == before


def test_a_clean_note_is_stored_and_read_back(web: Web) -> None:
    client, token = _client(web, "consultant", ("omraade-stege",))
    item = _concern(web)
    path = PATH.format(queue="omraade-stege", event_id=item["event_id"])
    auth = {"Authorization": f"Bearer {token}"}

    put = client.put(path, headers=auth, json={"status": "afsluttet",
                                               "note": "Forløbet er afsluttet efter aftale."})
    got = client.get(path, headers=auth)

    assert put.status_code == 200, put.text
    assert got.json()["status"] == "afsluttet"
    assert got.json()["history"][-1]["note"] == "Forløbet er afsluttet efter aftale."


def test_only_a_consultant_of_the_queue_sets_a_status(web: Web) -> None:
    item = _concern(web)
    path = PATH.format(queue="omraade-stege", event_id=item["event_id"])
    body = {"status": "ny"}
    other, token = _client(web, "consultant", ("infohus",))
    assert other.put(path, headers={"Authorization": f"Bearer {token}"},
                     json=body).status_code == 404
    officer, token = _client(web, "security_officer")
    assert officer.put(path, headers={"Authorization": f"Bearer {token}"},
                       json=body).status_code == 403
    assert web.client().put(path, json=body).status_code == 401


def test_openapi_lists_the_status_api(web: Web) -> None:
    paths = web.client().get("/openapi.json").json()["paths"]
    assert {"get", "put"} <= set(paths[PATH])


@pytest.mark.parametrize("status", ["lukket", ""])
def test_an_unknown_status_is_422(web: Web, status: str) -> None:
    client, token = _client(web, "consultant", ("omraade-stege",))
    path = PATH.format(queue="omraade-stege", event_id=_concern(web)["event_id"])
    assert client.put(path, headers={"Authorization": f"Bearer {token}"},
                      json={"status": status}).status_code == 422
