"""The HTTP API without a broker (issue 2 items 3, 4, 6; DESIGN.md §6): authentication,
authorisation, validation errors that echo no personal data, the published contract.

The broker address points at a closed port: every path tested here answers before producing,
and the API's lifespan must tolerate the broker being away.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.policy.evaluator import Policy
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from core.store import Store, hash_token
from hub.api import create_api
from hub.auth import new_token
from tests.unit.conftest import without_hub_environment
from tests.unit.factories import SUBJECT_CPR, SUBJECT_NAME, make_event

pytestmark = pytest.mark.timeout(60)

PRINCIPALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "stege-skole": ("agency:school", ()),
    "boern-og-familie": ("agency:social", ()),
    "politiet": ("agency:police", ()),
    "konsulent-stege": ("consultant", ("omraade-stege", "beredskab")),
    "konsulent-infohus": ("consultant", ("infohus",)),
    "sikkerhed": ("security_officer", ()),
    "admin": ("admin", ()),
}


@dataclass
class Hub:
    client: TestClient
    store: Store
    settings: Settings
    tokens: dict[str, str]

    def auth(self, principal: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[principal]}"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One API per module (building it runs the migrations). Tests only read, or write rows
    under fresh ids, so they do not see each other."""
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("hub"),
                            bootstrap_servers="127.0.0.1:1")
        FileKeyProvider(settings.resolved_key_file, create=True).load()
        app = create_api(settings)
        store = Store.open(settings.resolved_database_url)
        tokens: dict[str, str] = {}
        for name, (role, queues) in PRINCIPALS.items():
            tokens[name] = new_token()
            store.add_principal(name, role, queues, tokens[name])
        try:
            with TestClient(app) as client:
                yield Hub(client, store, settings, tokens)
        finally:
            store.close()


def _ingest(hub: Hub, principal: str | None, agency: str, body: Any) -> Any:
    headers = hub.auth(principal) if principal else {}
    return hub.client.post(f"/api/v1/ingest/{agency}", json=body, headers=headers)


# -- authentication ------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/ingest/school"),
    ("GET", "/api/v1/queues"),
    ("GET", "/api/v1/queues/beredskab/concerns"),
    # A fixed unknown id: test ids must be the same in every pytest-xdist worker.
    ("GET", "/api/v1/events/6f1c2d3e-4a5b-4c6d-8e7f-901234567890"),
    ("GET", "/api/v1/subjects/ssp1:abc/concerns"),
])
def test_missing_token_is_401(hub: Hub, method: str, path: str) -> None:
    response = hub.client.request(method, path, json=make_event("school"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("authorization", [
    "Bearer ssp_not-a-token-anyone-was-given",
    "Bearer ",
    "Basic c2t1bGU6cGFzc3dvcmQ=",
    "ssp_no-scheme",
])
def test_unknown_or_malformed_token_is_401(hub: Hub, authorization: str) -> None:
    response = hub.client.post("/api/v1/ingest/school", json=make_event("school"),
                               headers={"Authorization": authorization})

    assert response.status_code == 401


def test_token_hash_is_not_a_token(hub: Hub) -> None:
    stolen_hash = hash_token(hub.tokens["sikkerhed"])

    response = hub.client.get("/api/v1/queues",
                              headers={"Authorization": f"Bearer {stolen_hash}"})

    assert response.status_code == 401


# -- ingest authorisation ------------------------------------------------------------------
@pytest.mark.parametrize(("principal", "agency"), [
    ("stege-skole", "police"),
    ("stege-skole", "social"),
    ("politiet", "school"),
    ("boern-og-familie", "police"),
])
def test_agency_token_cannot_publish_for_another_agency(hub: Hub, principal: str,
                                                        agency: str) -> None:
    assert _ingest(hub, principal, agency, make_event(agency)).status_code == 403


def test_school_token_cannot_publish_as_police(hub: Hub) -> None:
    event = make_event("police")

    response = _ingest(hub, "stege-skole", "police", event)

    assert response.status_code == 403
    assert "police" in response.json()["detail"]
    assert hub.store.event(event["event_id"]) is None


@pytest.mark.parametrize("principal", ["konsulent-stege", "sikkerhed", "admin"])
def test_non_agency_principals_cannot_publish(hub: Hub, principal: str) -> None:
    assert _ingest(hub, principal, "school", make_event("school")).status_code == 403


@pytest.mark.parametrize("agency", ["military", "School", "ingest.school", "schools"])
def test_unknown_agency_is_404(hub: Hub, agency: str) -> None:
    assert _ingest(hub, "stege-skole", agency, make_event("school")).status_code == 404


# -- validation errors: name the field, echo nothing ---------------------------------------
def _assert_echoes_nothing(text: str, *values: str) -> None:
    for value in (SUBJECT_CPR, f"{SUBJECT_CPR[:6]}-{SUBJECT_CPR[6:]}", SUBJECT_NAME, *values):
        assert value not in text, value


def test_invalid_cpr_is_422_naming_the_field_without_echoing_it(hub: Hub) -> None:
    event = make_event("school")
    event["subject"]["cpr"] = "3102104321"  # 31 February

    response = _ingest(hub, "stege-skole", "school", event)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["subject.cpr"]
    _assert_echoes_nothing(response.text, "3102104321", "310210", "4321")
    assert hub.store.event(event["event_id"]) is None


@pytest.mark.parametrize(("path", "value", "field"), [
    (("severity",), "catastrophic", "severity"),
    (("category",), "Mikkel Østergård Sørensen", "category"),
    (("occurred_at",), "2026-03-02T14:05:00", "occurred_at"),
    (("subject", "name"), "Mikkel Østergård Sørensen " * 10, "subject.name"),
    (("related_persons",), [{"role": "guardian", "cpr": "0102104321x",
                             "name": "Hanne"}], "related_persons.0.cpr"),
    (("event_id",), "0102104321", "event_id"),
    (("schema_version",), 2, "schema_version"),
])
def test_invalid_field_is_422_naming_it_without_echoing_personal_data(
        hub: Hub, path: tuple[str, ...], value: Any, field: str) -> None:
    event = make_event("school")
    target: dict[str, Any] = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    response = _ingest(hub, "stege-skole", "school", event)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    _assert_echoes_nothing(response.text, "0102104321x", "Hanne")
    assert "input" not in response.text


@pytest.mark.parametrize(("where", "field"), [
    ((), "nickname"),
    (("subject",), "subject.nickname"),
    (("source",), "source.nickname"),
])
def test_unknown_field_is_422_naming_it(hub: Hub, where: tuple[str, ...], field: str) -> None:
    event = make_event("school")
    target: dict[str, Any] = event
    for part in where:
        target = target[part]
    target["nickname"] = "Mikke-0102104321"

    response = _ingest(hub, "stege-skole", "school", event)

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["field"], e["type"]) for e in errors] == [(field, "extra_forbidden")]
    _assert_echoes_nothing(response.text, "Mikke-0102104321")


def test_source_agency_must_match_the_path(hub: Hub) -> None:
    event = make_event("police")

    response = _ingest(hub, "stege-skole", "school", event)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["source.agency"]


@pytest.mark.parametrize("body", [[1, 2], "0102104321", None, 42])
def test_body_that_is_not_an_object_is_422(hub: Hub, body: Any) -> None:
    response = _ingest(hub, "stege-skole", "school", body)

    assert response.status_code == 422
    assert "0102104321" not in response.text


def test_malformed_json_is_422_without_echo(hub: Hub) -> None:
    response = hub.client.post(
        "/api/v1/ingest/school", content=b'{"subject": {"cpr": "0102104321", "name": "Mik',
        headers={**hub.auth("stege-skole"), "Content-Type": "application/json"})

    assert response.status_code == 422
    assert "0102104321" not in response.text
    assert "Mik" not in response.text


def test_event_refused_with_503_can_be_retried(hub: Hub) -> None:
    event = make_event("school")

    first = _ingest(hub, "stege-skole", "school", event)
    assert first.status_code == 503
    assert first.headers["Retry-After"]

    assert hub.store.event(event["event_id"]) is None
    assert _ingest(hub, "stege-skole", "school", event).status_code == 503


# -- queues --------------------------------------------------------------------------------
def test_security_officer_lists_all_queues(hub: Hub, shipped_policy: Policy) -> None:
    response = hub.client.get("/api/v1/queues", headers=hub.auth("sikkerhed"))

    assert response.status_code == 200
    body = response.json()
    assert [q["queue"] for q in body["items"]] == list(shipped_policy.queues)
    assert all(q["concerns"] == 0 for q in body["items"])
    assert body["next_cursor"] is None


def test_the_queue_list_pages_like_every_list(hub: Hub, shipped_policy: Policy) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(shipped_policy.queues)):
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = hub.client.get("/api/v1/queues", params=params,
                              headers=hub.auth("sikkerhed")).json()
        assert len(body["items"]) <= 3
        seen += [q["queue"] for q in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(shipped_policy.queues)
    bad = hub.client.get("/api/v1/queues", params={"cursor": "nonsense"},
                         headers=hub.auth("sikkerhed"))
    assert bad.status_code == 422


def test_consultant_lists_only_their_queues(hub: Hub) -> None:
    response = hub.client.get("/api/v1/queues", headers=hub.auth("konsulent-stege"))

    assert response.status_code == 200
    assert {q["queue"] for q in response.json()["items"]} == {"omraade-stege", "beredskab"}


@pytest.mark.parametrize("principal", ["stege-skole", "politiet"])
def test_agencies_see_no_queues(hub: Hub, principal: str) -> None:
    assert hub.client.get("/api/v1/queues", headers=hub.auth(principal)).status_code == 403


def test_consultant_reads_their_own_queue(hub: Hub) -> None:
    response = hub.client.get("/api/v1/queues/omraade-stege/concerns",
                              headers=hub.auth("konsulent-stege"))

    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(("principal", "queue"), [
    ("konsulent-stege", "infohus"),
    ("konsulent-infohus", "omraade-stege"),
    ("konsulent-infohus", "beredskab"),
    ("stege-skole", "omraade-stege"),
])
def test_consultant_cannot_read_another_queue(hub: Hub, principal: str, queue: str) -> None:
    response = hub.client.get(f"/api/v1/queues/{queue}/concerns", headers=hub.auth(principal))

    assert response.status_code == 403


def test_reading_an_unknown_queue_is_404(hub: Hub) -> None:
    response = hub.client.get("/api/v1/queues/hemmelig/concerns",
                              headers=hub.auth("konsulent-stege"))

    assert response.status_code == 404


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_list_limit_is_bounded(hub: Hub, limit: int) -> None:
    response = hub.client.get("/api/v1/queues/beredskab/concerns", params={"limit": limit},
                              headers=hub.auth("konsulent-stege"))

    assert response.status_code == 422


def test_foreign_cursor_is_422(hub: Hub) -> None:
    response = hub.client.get("/api/v1/queues/beredskab/concerns", params={"cursor": "bogus"},
                              headers=hub.auth("konsulent-stege"))

    assert response.status_code == 422


def test_unknown_event_is_404(hub: Hub) -> None:
    response = hub.client.get(f"/api/v1/events/{uuid.uuid4()}", headers=hub.auth("sikkerhed"))

    assert response.status_code == 404


def test_consultant_cannot_read_event_outcomes(hub: Hub) -> None:
    response = hub.client.get(f"/api/v1/events/{uuid.uuid4()}",
                              headers=hub.auth("konsulent-stege"))

    assert response.status_code == 403


# -- health and contract -------------------------------------------------------------------
def test_healthz_is_200_without_a_token(hub: Hub) -> None:
    response = hub.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_503_while_the_broker_is_away(hub: Hub) -> None:
    response = hub.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "ok", "broker": "unreachable"}


def test_metrics_are_prometheus_text(hub: Hub) -> None:
    response = hub.client.get("/metrics", headers=hub.auth("admin"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


CONTRACT_PATHS = {
    "/api/v1/ingest/{agency}": "post",
    "/api/v1/events/{event_id}": "get",
    "/api/v1/queues": "get",
    "/api/v1/queues/{queue}/concerns": "get",
    "/api/v1/subjects/{pseudonym}/concerns": "get",
    "/api/v1/reidentify": "post",
    "/api/v1/disclosures": "get",
    "/api/v1/disclosures/verify": "get",
    "/api/v1/checkpoints/latest": "get",
    "/api/v1/proofs/inclusion": "get",
    "/api/v1/proofs/consistency": "get",
    "/api/v1/subject-access": "post",
    "/api/v1/connectors/{connector}": "post",
    "/healthz": "get",
    "/readyz": "get",
    "/metrics": "get",
}


def test_openapi_lists_the_contract_paths(hub: Hub) -> None:
    response = hub.client.get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path, method in CONTRACT_PATHS.items():
        assert method in paths.get(path, {}), f"{method.upper()} {path} missing from OpenAPI"


def test_connector_upload_while_the_broker_is_down_is_503_and_leaves_no_claim(hub: Hub) -> None:
    before = hub.store.outcome_counts()
    data = (Path(__file__).resolve().parents[2] / "connectors" / "samples"
            / "bekymringsnotater.json").read_bytes()

    response = hub.client.post("/api/v1/connectors/school-concern", content=data,
                               headers=hub.auth("stege-skole"))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert hub.store.outcome_counts() == before  # a retry is not answered as a duplicate


# -- tokens at rest ------------------------------------------------------------------------
def test_principals_table_stores_only_token_hashes(hub: Hub) -> None:
    with sqlite3.connect(hub.settings.data_dir / "hub.db") as conn:
        rows = dict(conn.execute("SELECT name, token_hash FROM principals").fetchall())

    assert rows == {name: hash_token(token) for name, token in hub.tokens.items()}
    assert not set(rows.values()) & set(hub.tokens.values())


def test_token_appears_nowhere_in_the_database_files(hub: Hub) -> None:
    files = list(hub.settings.data_dir.glob("hub.db*"))
    assert files
    blob = b"".join(f.read_bytes() for f in files)

    for token in hub.tokens.values():
        assert token.encode() not in blob
        assert token.removeprefix("ssp_").encode() not in blob
    assert hash_token(hub.tokens["admin"]).encode() in blob  # we looked in the right place


def test_token_added_while_the_api_runs_is_honoured(hub: Hub) -> None:
    token = new_token()
    Store.open(hub.settings.resolved_database_url).add_principal(
        "ny-konsulent", "consultant", ["infohus"], token)

    response = hub.client.get("/api/v1/queues", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert [q["queue"] for q in response.json()["items"]] == ["infohus"]
