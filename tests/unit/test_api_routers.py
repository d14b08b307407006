"""The API as routers (issue 14 item 3): each resource is an ``APIRouter`` module whose
routes a test can address, the app serves exactly those routes, and role checks are
dependencies — a caller whose role may not use a route is refused before its input is
examined (nothing of the input is parsed or echoed)."""

from __future__ import annotations

import uuid

from fastapi.routing import APIRoute

from hub.api import (
    ROUTERS,
    disclosures,
    ingest,
    queues,
    refusals,
    reidentify,
    subject_access,
    system,
)
from hub.auth import new_token
from tests.unit import test_web
from tests.unit.test_web import Web

web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused


def _token(web: Web, role: str) -> dict[str, str]:
    token = new_token()
    web.store.add_principal(f"rt-{uuid.uuid4().hex[:8]}", role, [], token, None)
    return {"Authorization": f"Bearer {token}"}


def _paths(router: object) -> set[str]:
    return {r.path for r in getattr(router, "routes", []) if isinstance(r, APIRoute)}


def test_each_resource_is_a_router_module_with_its_routes() -> None:
    assert "/api/v1/ingest/{agency}" in _paths(ingest.router)
    assert "/api/v1/connectors/{connector}" in _paths(ingest.router)
    assert "/api/v1/queues/{queue}/concerns/{event_id}/status" in _paths(queues.router)
    assert _paths(reidentify.router) == {
        "/api/v1/reidentify", "/api/v1/reidentify/requests",
        "/api/v1/reidentify/requests/{request_id}",
        "/api/v1/reidentify/requests/{request_id}/decision"}
    assert "/api/v1/disclosures/erase" in _paths(disclosures.router)
    assert "/api/v1/subject-access/decisions" in _paths(subject_access.router)
    assert _paths(refusals.router) == {"/api/v1/refusals", "/api/v1/refusals/summary"}
    assert {"/healthz", "/readyz", "/metrics", "/api/v1/whoami"} <= _paths(system.router)
    # No route is defined twice, and no router is left out of the app.
    every = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    keys = [(r.path, tuple(sorted(r.methods or ()))) for r in every]
    assert len(keys) == len(set(keys))


def test_the_app_documents_exactly_the_routers_routes(web: Web) -> None:
    spec = web.client().get("/openapi.json").json()
    documented = set(spec["paths"])
    assert documented == {p for router in ROUTERS for p in _paths(router)}


def test_a_role_that_may_not_publish_is_refused_before_its_body_is_read(web: Web) -> None:
    client = web.client()
    resp = client.post("/api/v1/ingest/school", headers=_token(web, "consultant"),
                       content=b"{not json 0102104321")
    assert resp.status_code == 403
    assert resp.json() == {"detail": "this token may not publish for agency school"}
    unknown = client.post("/api/v1/ingest/nowhere", headers=_token(web, "agency:school"),
                          json={"subject": {"cpr": "0102104321"}})
    assert unknown.status_code == 404
    assert "0102104321" not in unknown.text


def test_a_role_that_may_not_read_the_log_is_refused_before_its_query_is_checked(
        web: Web) -> None:
    client = web.client()
    resp = client.get("/api/v1/disclosures?limit=0", headers=_token(web, "consultant"))
    assert resp.status_code == 403
    assert resp.json() == {"detail": "role consultant may not read the disclosure log"}
    officer = client.get("/api/v1/disclosures?limit=0",
                         headers=_token(web, "security_officer"))
    assert officer.status_code == 422
    assert officer.json()["errors"][0]["field"] == "query.limit"
