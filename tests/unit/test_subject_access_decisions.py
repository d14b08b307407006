"""Subject access that cannot harm the child (issue 13 §1).

A person who is only a *related person* in an entry (a parent, e.g. the father in an
honour-related case) sees by default only that they were mentioned, when and by which agency
kind. The security officer can release an entry in full, or withhold any entry, with a reason;
both decisions are log entries of their own (no pseudonym) and every copy honours them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.ledger.auditlog import AuditLog, public_keys, verify_store
from core.ledger.disclosures import StoreSink
from core.ledger.entries import random_entry_id
from core.policy.evaluator import Policy
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing
from core.settings import Settings
from core.store import Store
from hub.api import create_api
from hub.auth import new_token
from hub.cli import app as cli_app
from hub.subject_access import (
    DA,
    DecisionError,
    access_decision_entry,
    answer_subject_access,
    check_decision,
    render_document_da,
    store_decision,
)
from schemas.disclosures import EntryKind, LogEntry
from tests.unit.conftest import without_hub_environment
from tests.unit.factories import GUARDIAN_CPR, SUBJECT_CPR

AT = dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)
NECESSITY = "Familien udøver negativ social kontrol; pigen er bange for sin far."
UNIT = "Stege Skole, 7.b"
REASON = "Faderen kan være en trussel mod barnet; oplysningerne kan skade hende."
RELEASE_REASON = "Forælderen er ikke part i konflikten og har brug for at vide det."


def _pseudonym(ring: KeyRing, cpr: str) -> str:
    return Pseudonymiser(ring, "ssp")(cpr)


def _honour_case(ring: KeyRing) -> LogEntry:
    """A concern about the child, disclosed to Infohus, naming the father as related person."""
    return LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.disclosure, at=AT,
        event_id="7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e", agency="school", unit=UNIT,
        recipient="infohus", recipient_type="queue", collaboration="SSP",
        legal_basis="rpl-115-stk1", purpose="crime_prevention", necessity=NECESSITY,
        fields=["source", "subject.age", "related_persons", "necessity"],
        rule_ids=["honour-infohus"], policy_version="v1",
        pseudonym=_pseudonym(ring, SUBJECT_CPR),
        related_pseudonyms=[_pseudonym(ring, GUARDIAN_CPR)])


def _seed(store: Store, ring: KeyRing) -> int:
    (seq,) = AuditLog(store, ring).integrate([_honour_case(ring)])
    return seq


def _decide(store: Store, ring: KeyRing, policy: Policy, seq: int, decision: str,
            reason: str) -> LogEntry:
    check_decision(store, seq, decision, reason)
    entry = access_decision_entry(seq, decision, reason, "Søren Sikkerhed", "security_officer",
                                  policy)
    AuditLog(store, ring).integrate([entry])
    store_decision(store, entry)
    return entry


# -- the related person's default view --------------------------------------------------------
def test_a_related_person_sees_only_that_they_were_mentioned_when_and_by_which_agency(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _seed(store, keyring)

    father = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR)

    (item,) = father.entries
    shown = {k: v for k, v in item.as_json().items() if v not in (None, [], False)
             or k == "seq"}
    assert shown == {"seq": 0, "at": "2026-03-02T13:05:00.000000Z", "kind": "disclosure",
                     "decision": "disclosed", "about": "related_person", "agency": "school",
                     "limited": True}
    document = render_document_da(father, municipality_title="Vordingborg Kommune")
    text = json.dumps(father.as_json(), ensure_ascii=False) + document
    for secret in ("negativ social kontrol", "Stege Skole", "infohus", "Infohus", "7b0e2f0c",
                   "honour-infohus", shipped_policy.doc.queues["infohus"]):
        assert secret not in text, secret
    assert DA["mentioned"] in document
    assert "Skolen" in document  # the agency kind


def test_the_child_still_sees_the_full_entry(store: Store, keyring: KeyRing,
                                              shipped_policy: Policy) -> None:
    _seed(store, keyring)

    (item,) = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR).entries

    assert item.about == "subject"
    assert not item.limited
    assert item.necessity == NECESSITY
    assert item.recipient == "infohus"


# -- the officer's decisions -------------------------------------------------------------------
def test_the_officer_can_release_an_entry_to_a_related_person(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)

    _decide(store, keyring, shipped_policy, seq, "release", RELEASE_REASON)

    (item,) = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR).entries
    assert item.released
    assert not item.limited
    assert item.necessity == NECESSITY
    assert item.recipient == "infohus"


def test_a_withheld_entry_is_in_no_copy_for_the_subject_or_the_related_person(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)

    _decide(store, keyring, shipped_policy, seq, "withhold", REASON)

    for cpr in (SUBJECT_CPR, GUARDIAN_CPR):
        answer = answer_subject_access(store, keyring, shipped_policy, cpr)
        assert answer.count == 0
        assert answer.as_json()["entries"] == []
        document = render_document_da(answer, municipality_title="Vordingborg Kommune")
        assert DA["empty"] in document
        # The officer's screen (not the citizen's copy) says what was withheld and why.
        assert [(w.seq, w.reason) for w in answer.withheld] == [(seq, REASON)]
        assert "withheld" not in answer.as_json()


def test_a_later_decision_replaces_an_earlier_one(store: Store, keyring: KeyRing,
                                                  shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)
    _decide(store, keyring, shipped_policy, seq, "withhold", REASON)

    _decide(store, keyring, shipped_policy, seq, "release", RELEASE_REASON)

    (item,) = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR).entries
    assert item.released


def test_default_undoes_a_decision(store: Store, keyring: KeyRing,
                                  shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)
    _decide(store, keyring, shipped_policy, seq, "withhold", REASON)

    _decide(store, keyring, shipped_policy, seq, "default",
            "Tilbageholdelsen var en fejl; udgangspunktet gælder igen.")

    (item,) = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR).entries
    assert item.limited  # the related person's default view, not the full entry
    assert answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR).count == 1
    assert store.access_decisions() == {}
    kinds = [i["kind"] for i in AuditLog(store).page(limit=10).items]
    assert "access_default" in kinds


def test_each_decision_is_its_own_log_entry_without_identity(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)

    _decide(store, keyring, shipped_policy, seq, "withhold", REASON)
    _decide(store, keyring, shipped_policy, seq, "release", RELEASE_REASON)

    items = AuditLog(store).page(limit=10, newest_first=False).items
    decisions = [i for i in items if i["kind"].startswith("access_")]
    assert [d["kind"] for d in decisions] == ["access_withheld", "access_released"]
    assert [d["decision"] for d in decisions] == ["rejected", "disclosed"]
    for d in decisions:
        assert d["details"] == {"log_entry": seq}
        assert d["reason"] in (REASON, RELEASE_REASON)
        assert "pseudonym" not in d
        assert "related_pseudonyms" not in d
    assert verify_store(store, public_keys(keyring)).ok


@pytest.mark.parametrize(("seq", "decision", "reason", "field"), [
    (0, "hide", REASON, "decision"),
    (0, "withhold", "for kort", "reason"),
    (0, "withhold", "Barnets far har CPR 17.05.80-4123 og er en trussel.", "reason"),
    (0, "withhold", "Barnets far har CPR 170580\u200b4123 og er en trussel.", "reason"),
    (99, "withhold", REASON, "seq"),
])
def test_a_bad_decision_is_refused_naming_the_field(
        store: Store, keyring: KeyRing, seq: int, decision: str, reason: str,
        field: str) -> None:
    _seed(store, keyring)

    with pytest.raises(DecisionError) as info:
        check_decision(store, seq, decision, reason)

    assert info.value.field == field
    assert "4123" not in str(info.value)


def test_an_entry_about_nobody_cannot_be_decided(store: Store, keyring: KeyRing,
                                                 shipped_policy: Policy) -> None:
    seq = _seed(store, keyring)
    decision = _decide(store, keyring, shipped_policy, seq, "withhold", REASON)
    (decision_seq,) = [i["seq"] for i in AuditLog(store).page(limit=10).items
                       if i["entry_id"] == decision.entry_id]

    with pytest.raises(DecisionError):
        check_decision(store, decision_seq, "withhold", REASON)


def test_the_cli_document_honours_the_decisions(tmp_path: Path,
                                                shipped_policy: Policy) -> None:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path / "data", bootstrap_servers="127.0.0.1:1")
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        try:
            seq = _seed(store, ring)
            _decide(store, ring, shipped_policy, seq, "withhold", REASON)
        finally:
            store.close()
        out = tmp_path / "svar.html"
        result = CliRunner().invoke(cli_app, ["audit", "subject-access", SUBJECT_CPR, "--out",
                                              str(out), "--data-dir", str(settings.data_dir)])

    assert result.exit_code == 0, result.output
    assert "0 entries" in result.output
    html = out.read_text("utf-8")
    assert NECESSITY not in html
    assert DA["empty"] in html


# -- over HTTP ---------------------------------------------------------------------------------
@dataclass
class Api:
    client: TestClient
    store: Store
    ring: KeyRing
    tokens: dict[str, str]

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with without_hub_environment():
        settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
        ring = FileKeyProvider(settings.resolved_key_file, create=True).load()
        store = Store.open(settings.resolved_database_url)
        app = create_api(settings, sink=StoreSink(AuditLog(store)))
        tokens = {"sikkerhed": new_token(), "konsulent": new_token()}
        store.add_principal("sikkerhed", "security_officer", (), tokens["sikkerhed"])
        store.add_principal("konsulent", "consultant", ("infohus",), tokens["konsulent"])
        try:
            with TestClient(app) as client:
                yield Api(client, store, ring, tokens)
        finally:
            store.close()


def _access(api: Api, cpr: str) -> list[dict[str, Any]]:
    resp = api.client.post("/api/v1/subject-access", json={"cpr": cpr},
                           headers=api.auth("sikkerhed"))
    assert resp.status_code == 200
    # (Earlier answers are entries about the person too; the concern is what matters here.)
    return [e for e in resp.json()["entries"] if e["kind"] == "disclosure"]


def test_api_related_person_default_then_release_then_withhold(api: Api) -> None:
    seq = _seed(api.store, api.ring)
    (limited,) = _access(api, GUARDIAN_CPR)
    assert limited["limited"] is True
    assert limited["necessity"] is None
    assert limited["recipient"] is None
    assert limited["unit"] is None

    released = api.client.post("/api/v1/subject-access/decisions", headers=api.auth("sikkerhed"),
                               json={"seq": seq, "decision": "release",
                                     "reason": RELEASE_REASON})
    assert released.status_code == 201
    assert _access(api, GUARDIAN_CPR)[0]["necessity"] == NECESSITY

    withheld = api.client.post("/api/v1/subject-access/decisions", headers=api.auth("sikkerhed"),
                               json={"seq": seq, "decision": "withhold", "reason": REASON})
    assert withheld.status_code == 201
    assert _access(api, GUARDIAN_CPR) == []
    assert _access(api, SUBJECT_CPR) == []

    listed = api.client.get("/api/v1/subject-access/decisions", headers=api.auth("sikkerhed"))
    assert [(d["seq"], d["decision"], d["reason"]) for d in listed.json()["items"]] == \
        [(seq, "withhold", REASON)]
    kinds = [i["kind"] for i in AuditLog(api.store).page(limit=50, newest_first=False).items]
    assert kinds.count("access_released") == 1
    assert kinds.count("access_withheld") == 1


def test_api_decisions_are_for_security_officers_only(api: Api) -> None:
    seq = _seed(api.store, api.ring)

    resp = api.client.post("/api/v1/subject-access/decisions", headers=api.auth("konsulent"),
                           json={"seq": seq, "decision": "withhold", "reason": REASON})

    assert resp.status_code == 403
    assert api.client.post("/api/v1/subject-access/decisions",
                           json={"seq": seq, "decision": "withhold", "reason": REASON}
                           ).status_code == 401
    assert api.store.access_decisions() == {}


def test_api_bad_reason_is_422_naming_the_field_not_the_value(api: Api) -> None:
    seq = _seed(api.store, api.ring)

    resp = api.client.post("/api/v1/subject-access/decisions", headers=api.auth("sikkerhed"),
                           json={"seq": seq, "decision": "withhold",
                                 "reason": "Faderen 17 05 80 41 23 er en trussel mod barnet."})

    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "reason"
    assert "41 23" not in resp.text
    assert api.store.access_decisions() == {}
