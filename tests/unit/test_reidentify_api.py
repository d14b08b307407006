"""Re-identification and the joint view over HTTP, without a broker (issue 3 §3).

Concerns and vault entries are written straight into the store, as the projector and the
worker would; the API under test is the real one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.ledger.auditlog import AuditLog
from core.ledger.disclosures import StoreSink
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing, rotate_keyring
from core.privacy.vault import Identity, Vault, rekey
from core.settings import Settings
from core.store import Store
from hub.api import REASON_RULE, create_api, reason_is_sufficient
from hub.auth import new_token
from schemas.disclosures import parse_time
from tests.unit.conftest import without_hub_environment
from tests.unit.factories import SUBJECT_CPR, SUBJECT_NAME, make_cpr

pytestmark = pytest.mark.timeout(60)

REASON = "Skal kontakte forældrene om en fælles indsats efter tre bekymringer."
PRINCIPALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "konsulent-stege": ("consultant", ("omraade-stege", "beredskab")),
    "konsulent-infohus": ("consultant", ("infohus",)),
    "stege-skole": ("agency:school", ()),
    "sikkerhed": ("security_officer", ()),
    "admin": ("admin", ()),
}
T0 = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@dataclass
class Hub:
    client: TestClient
    store: Store
    ring: KeyRing
    tokens: dict[str, str]

    def post(self, principal: str, body: dict[str, Any]) -> Any:
        return self.client.post("/api/v1/reidentify", json=body,
                                headers={"Authorization": f"Bearer {self.tokens[principal]}"})

    def get(self, principal: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params,
                               headers={"Authorization": f"Bearer {self.tokens[principal]}"})

    def person(self, serial: int, queue: str = "omraade-stege", *, vault: bool = True,
               occurred_at: dt.datetime = T0) -> tuple[str, str, str]:
        """A fresh person with one concern in ``queue``: (pseudonym, cpr, name)."""
        cpr = make_cpr(dt.date(2011, 6, 1 + serial % 28), "4", serial)
        name = f"Person Nummer{serial}"
        pseudonym = Pseudonymiser(self.ring, "ssp")(cpr)
        if vault:
            Vault(self.store, self.ring).put([Identity(pseudonym, cpr, name)])
        self.concern(pseudonym, queue, occurred_at)
        return pseudonym, cpr, name

    def concern(self, pseudonym: str, queue: str, occurred_at: dt.datetime,
                agency: str = "school") -> str:
        event_id = str(uuid.uuid4())
        self.store.project_concerns([{
            "event_id": event_id, "queue": queue, "pseudonym": pseudonym,
            "occurred_at": occurred_at,
            "payload": json.dumps({"event_id": event_id, "queue": queue,
                                   "pseudonym": pseudonym, "source": {"agency": agency},
                                   "occurred_at": occurred_at.isoformat()}),
        }])
        return event_id


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path_factory.mktemp("hub"),
                            bootstrap_servers="127.0.0.1:1")
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        # No broker here: log entries go straight into the log, as the sequencer would put them.
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        tokens = {}
        for name, (role, queues) in PRINCIPALS.items():
            tokens[name] = new_token()
            store.add_principal(name, role, queues, tokens[name])
        try:
            with TestClient(app) as client:
                yield Hub(client, store, ring, tokens)
        finally:
            store.close()


def _log(hub: Hub, pseudonym: str | None = None) -> list[dict[str, Any]]:
    """Re-identification entries in the disclosure log, oldest first."""
    page = AuditLog(hub.store).page(pseudonyms=None if pseudonym is None else [pseudonym],
                                    limit=1000, newest_first=False)
    return [e for e in page.items if e["kind"].startswith("reidentification")]


def _last_disclosure(hub: Hub, pseudonym: str | None = None) -> dict[str, Any]:
    rows = _log(hub, pseudonym)
    assert rows
    return rows[-1]


# -- the reason rule -------------------------------------------------------------------------
@pytest.mark.parametrize(("reason", "ok"), [
    (REASON, True),
    ("Samtale med familien om indsats", True),
    (None, False),
    ("", False),
    ("   ", False),
    ("fordi", False),
    ("nødvendigt nødvendigt", False),               # two words, long enough
    ("a b c d", False),                             # four words, too short
    ("1234 5678 9012 3456 7890 1234", False),       # no words
    ("Skal ringe til 010210-4321 om det her", False),  # holds a CPR number
    ("Skal ringe til 0102104321 om det her", False),
])
def test_reason_must_be_at_least_a_sentence(reason: str | None, ok: bool) -> None:
    assert reason_is_sufficient(reason) is ok


# -- re-identification -----------------------------------------------------------------------
def test_a_reason_that_names_the_person_or_a_cpr_is_logged_scrubbed(hub: Hub) -> None:
    pseudonym, cpr, name = hub.person(131)
    reason = f"Skal ringe til {name} og forældrene på 22 33 44 55 om indsatsen."
    with_cpr = f"Skal ringe til moren, hun har CPR {cpr[:6]}-{cpr[6:]}, om indsatsen."

    granted = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": reason})
    granted_entry = _last_disclosure(hub, pseudonym)
    refused = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": with_cpr})
    refused_entry = _last_disclosure(hub, pseudonym)

    assert (granted.status_code, refused.status_code) == (200, 422)
    assert granted_entry["reason"].startswith("Skal ringe til [person")
    assert refused_entry["reason_code"] == "reason_insufficient"
    for secret in (*name.split(), "22 33 44 55", cpr[:6], cpr[6:]):
        assert secret not in granted_entry["reason"]
        assert secret not in refused_entry["reason"]


def test_a_refused_request_logs_its_reason_scrubbed_of_the_persons_name(hub: Hub) -> None:
    # Regression (issue 12): a refused request's reason was scrubbed without the person's
    # name, so a name no list knows was logged as typed.
    pseudonym, cpr, _ = hub.person(132, "omraade-stege", vault=False)
    name = "Tenzin Dolkar Wangmo"  # a name no list of the scrubber knows
    Vault(hub.store, hub.ring).put([Identity(pseudonym, cpr, name)])
    reason = f"Vil gerne vide om det er {name} fra 8. klasse, skolen har ringet."

    refused = hub.post("konsulent-infohus", {"pseudonym": pseudonym, "reason": reason})

    assert refused.status_code == 403
    assert name not in refused.text
    entry = _last_disclosure(hub, pseudonym)
    assert entry["reason_code"] == "no_visible_concern"
    assert entry["reason"] == ("Vil gerne vide om det er [person 1] fra 8. klasse, "
                               "skolen har ringet.")


def test_a_reason_that_is_only_names_and_numbers_is_insufficient_once_scrubbed(
        hub: Hub) -> None:
    pseudonym, cpr, _ = hub.person(133, "omraade-stege", vault=False)
    name = "Ngozi Adaeze Okonkwo"
    Vault(hub.store, hub.ring).put([Identity(pseudonym, cpr, name)])
    reason = f"{name}, {name} og 22 33 44 55"  # long enough as typed; nothing left once logged

    refused = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": reason})

    assert refused.status_code == 422
    assert refused.json()["detail"] == REASON_RULE
    entry = _last_disclosure(hub, pseudonym)
    assert entry["reason_code"] == "reason_insufficient"
    for part in (*name.split(), "22 33 44 55"):
        assert part not in entry["reason"]


def test_consultant_who_sees_a_concern_gets_the_identity_and_it_is_logged(hub: Hub) -> None:
    pseudonym, cpr, name = hub.person(101)

    response = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": REASON})

    assert response.status_code == 200, response.text
    assert response.json() == {"pseudonym": pseudonym, "cpr": cpr, "name": name}
    assert "no-store" in response.headers["cache-control"]
    entry = _last_disclosure(hub, pseudonym)
    assert entry["kind"] == "reidentification"
    assert entry["principal"] == entry["recipient"] == "konsulent-stege"
    assert entry["reason"] == REASON
    assert abs(parse_time(entry["at"]) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert cpr not in json.dumps(entry, default=str)
    assert name not in json.dumps(entry, default=str)


def test_consultant_of_another_queue_is_refused_and_it_is_logged(hub: Hub) -> None:
    pseudonym, cpr, _ = hub.person(102, "omraade-stege")

    response = hub.post("konsulent-infohus", {"pseudonym": pseudonym, "reason": REASON})

    assert response.status_code == 403
    assert cpr not in response.text
    assert "no-store" in response.headers["cache-control"]
    entry = _last_disclosure(hub, pseudonym)
    assert (entry["kind"], entry["principal"]) == ("reidentification_refused",
                                                   "konsulent-infohus")
    assert entry["reason_code"] == "no_visible_concern"


@pytest.mark.parametrize("principal", ["stege-skole", "sikkerhed", "admin"])
def test_everyone_but_consultants_is_refused_and_it_is_logged(hub: Hub, principal: str) -> None:
    pseudonym, _, _ = hub.person(103)

    response = hub.post(principal, {"pseudonym": pseudonym, "reason": REASON})

    assert response.status_code == 403
    entry = _last_disclosure(hub, pseudonym)
    assert (entry["kind"], entry["principal"]) == ("reidentification_refused", principal)
    assert entry["reason_code"] == "role_not_allowed"


@pytest.mark.parametrize("reason", [None, "", "kort", "to ord her", "nødvendigt nødvendigt"])
def test_missing_or_short_reason_is_422_naming_the_rule(hub: Hub, reason: str | None) -> None:
    pseudonym, cpr, _ = hub.person(104)
    body: dict[str, Any] = {"pseudonym": pseudonym}
    if reason is not None:
        body["reason"] = reason

    response = hub.post("konsulent-stege", body)

    assert response.status_code == 422
    assert response.json()["detail"] == REASON_RULE
    assert "20 characters" in REASON_RULE
    assert "3 words" in REASON_RULE
    assert cpr not in response.text
    entry = _last_disclosure(hub, pseudonym)
    assert entry["kind"] == "reidentification_refused"
    assert entry["reason_code"] == "reason_insufficient"


def test_pseudonym_nobody_sees_is_403_not_a_hint_that_it_exists(hub: Hub) -> None:
    response = hub.post("konsulent-stege", {"pseudonym": "ssp1:" + "e" * 32, "reason": REASON})

    assert response.status_code == 403


def test_visible_pseudonym_without_a_vault_entry_is_404_and_logged(hub: Hub) -> None:
    pseudonym, _, _ = hub.person(105, vault=False)

    response = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": REASON})

    assert response.status_code == 404
    assert _last_disclosure(hub, pseudonym)["reason_code"] == "unknown_pseudonym"


def test_erased_person_is_404(hub: Hub) -> None:
    pseudonym, _, _ = hub.person(106)
    Vault(hub.store, hub.ring).erase(pseudonym)

    response = hub.post("konsulent-stege", {"pseudonym": pseudonym, "reason": REASON})

    assert response.status_code == 404
    assert _last_disclosure(hub, pseudonym)["reason_code"] == "erased"


def test_a_cpr_sent_as_the_pseudonym_is_refused_and_never_stored(hub: Hub) -> None:
    before = len(_log(hub))

    response = hub.post("konsulent-stege", {"pseudonym": SUBJECT_CPR, "reason": REASON})

    assert response.status_code == 422
    assert SUBJECT_CPR not in response.text
    rows = _log(hub)
    assert len(rows) == before + 1
    assert "pseudonym" not in rows[-1]
    assert SUBJECT_CPR not in json.dumps(rows[-1], default=str)


def test_reidentify_without_a_token_is_401(hub: Hub) -> None:
    response = hub.client.post("/api/v1/reidentify",
                               json={"pseudonym": "ssp1:" + "a" * 64, "reason": REASON})

    assert response.status_code == 401


def test_consultant_may_reidentify_through_an_alias_after_rotation(hub: Hub) -> None:
    cpr = make_cpr(dt.date(2012, 9, 9), "4", 107)
    old = Pseudonymiser(hub.ring, "ssp")(cpr)
    Vault(hub.store, hub.ring).put([Identity(old, cpr, SUBJECT_NAME)])
    hub.concern(old, "beredskab", T0)
    rotated = rotate_keyring(hub.ring)
    rekey(hub.store, rotated)  # the API still runs on the old ring, as until its restart
    new = Pseudonymiser(rotated, "ssp")(cpr)

    response = hub.post("konsulent-stege", {"pseudonym": new, "reason": REASON})

    assert response.status_code == 200, response.text
    assert response.json() == {"pseudonym": new, "cpr": cpr, "name": SUBJECT_NAME}


# -- the joint view --------------------------------------------------------------------------
def test_joint_view_is_in_time_order_across_agencies_and_aliases(hub: Hub) -> None:
    cpr = make_cpr(dt.date(2011, 11, 11), "4", 108)
    old = Pseudonymiser(hub.ring, "ssp")(cpr)
    Vault(hub.store, hub.ring).put([Identity(old, cpr, None)])
    rotated = rotate_keyring(hub.ring)
    rekey(hub.store, rotated)
    new = Pseudonymiser(rotated, "ssp")(cpr)
    later = hub.concern(new, "omraade-stege", T0 + dt.timedelta(days=2), "police")
    first = hub.concern(old, "beredskab", T0 - dt.timedelta(days=5), "social")
    middle = hub.concern(old, "omraade-stege", T0, "school")
    hidden = hub.concern(new, "infohus", T0 - dt.timedelta(days=1), "social")

    for asked in (old, new):
        response = hub.get("konsulent-stege", f"/api/v1/subjects/{asked}/concerns")
        assert response.status_code == 200
        body = response.json()
        assert [i["event_id"] for i in body["items"]] == [first, middle, later]
        assert body["next_cursor"] is None
        assert [i["source"]["agency"] for i in body["items"]] == ["social", "school", "police"]
    infohus = hub.get("konsulent-infohus", f"/api/v1/subjects/{old}/concerns").json()
    assert [i["event_id"] for i in infohus["items"]] == [hidden]

    page1 = hub.get("konsulent-stege", f"/api/v1/subjects/{new}/concerns", limit=2).json()
    page2 = hub.get("konsulent-stege", f"/api/v1/subjects/{new}/concerns", limit=2,
                    cursor=page1["next_cursor"]).json()
    assert [i["event_id"] for i in page1["items"] + page2["items"]] == [first, middle, later]
    assert page2["next_cursor"] is None


def test_joint_view_refuses_a_foreign_cursor(hub: Hub) -> None:
    response = hub.get("konsulent-stege", "/api/v1/subjects/ssp1:abc/concerns",
                       cursor="not-a-cursor")

    assert response.status_code == 422


def test_openapi_lists_reidentify(hub: Hub) -> None:
    paths = hub.client.get("/openapi.json").json()["paths"]

    assert "post" in paths["/api/v1/reidentify"]
