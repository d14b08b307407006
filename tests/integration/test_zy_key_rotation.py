"""Key rotation in the running hub (issues 3 and 4): after `ssp-hub keys rotate` and a
restart, a person's concerns carry a new pseudonym, yet the joint view, the log's pseudonym
filter and subject access find everything from before and after.

Named to run late: it rotates the session hub's keys."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider
from tests.integration.events import make_event
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration
SEED = 660_550_001


def _send(hub: HubStack, token: str, event: dict[str, Any]) -> None:
    with hub.client(token) as c:
        assert c.post("/api/v1/ingest/school", json=event).status_code == 202
    hub.wait_outcomes([event["event_id"]])


def test_subject_access_and_the_log_span_a_key_rotation(hub: HubStack) -> None:
    school = hub.principal("skole-rot", "agency:school")
    officer = hub.principal("sikkerhed-rot", "security_officer")
    consultant = hub.principal("konsulent-rot", "consultant", ("beredskab",))
    before = make_event("school", category="group_conflict", seed=SEED)
    cpr = before["subject"]["cpr"]
    _send(hub, school, before)
    old = Pseudonymiser(FileKeyProvider(hub.settings.resolved_key_file, create=False).load(),
                        "ssp")(cpr)

    rotated = subprocess.run([sys.executable, "-m", "hub.cli", "keys", "rotate"], env=hub.env,
                             cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    for worker in hub.live_workers():
        hub.kill_worker(worker)
    hub.start_worker()
    hub.restart_api()
    after = make_event("school", category="group_conflict", seed=SEED + 1,
                       subject=before["subject"])
    _send(hub, school, after)
    new = Pseudonymiser(FileKeyProvider(hub.settings.resolved_key_file, create=False).load(),
                        "ssp")(cpr)
    assert new != old
    assert new.startswith("ssp2:")
    hub.wait_log(lambda e: e.get("event_id") == after["event_id"])

    with hub.client(consultant) as c:
        joint = c.get(f"/api/v1/subjects/{new}/concerns").json()["items"]
    assert {i["event_id"] for i in joint} == {before["event_id"], after["event_id"]}
    assert {i["pseudonym"] for i in joint} == {old, new}
    with hub.client(officer) as c:
        logged = c.get("/api/v1/disclosures", params={"pseudonym": old,
                                                       "kind": "disclosure"}).json()["items"]
        answer = c.post("/api/v1/subject-access", json={"cpr": cpr})
    assert {e["event_id"] for e in logged} == {before["event_id"], after["event_id"]}
    assert answer.status_code == 200, answer.text
    found = {e["event_id"] for e in answer.json()["entries"] if e["kind"] == "disclosure"}
    assert found == {before["event_id"], after["event_id"]}
    assert cpr not in answer.text
