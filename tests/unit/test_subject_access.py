"""Subject access (issue 4 §3): every disclosure about one person, across key rotations, as
a Danish document for the citizen — staff names withheld, the CPR number never shown."""

from __future__ import annotations

import datetime as dt
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.ledger.auditlog import AuditLog
from core.ledger.entries import random_entry_id
from core.policy.evaluator import Policy
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing, rotate_keyring
from core.privacy.vault import Identity, Vault, rekey
from core.settings import Settings
from core.store import Store
from core.store.rows import Principal
from hub.api.context import consultations
from hub.cli import app
from hub.subject_access import (
    DA,
    answer_subject_access,
    legal_basis_da,
    pseudonyms_for_cpr,
    render_document_da,
    subject_access_entry,
)
from schemas.cpr import InvalidCpr
from schemas.disclosures import EntryKind, LogEntry
from streams.pipeline import Pipeline, Routed
from tests.unit.factories import (
    GUARDIAN_CPR,
    GUARDIAN_NAME,
    NECESSITY,
    SUBJECT_CPR,
    SUBJECT_NAME,
    design_example,
    make_cpr,
    record_for,
)

AT = dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)  # 14.05 in Copenhagen
NOW = dt.datetime(2026, 4, 10, 9, 0, tzinfo=dt.UTC)
OTHER_CPR = make_cpr(dt.date(2011, 6, 15), "4", 123)
CONSULTANT = "Kirsten Konsulent"
OFFICER = "Søren Sikkerhed"
MUNICIPALITY = "Vordingborg Kommune"


def _pseudonym(ring: KeyRing, cpr: str, version: int | None = None) -> str:
    return Pseudonymiser(ring, "ssp", version=version)(cpr)


def _disclosure(pseudonym: str, *, queue: str = "beredskab", at: dt.datetime = AT,
                related: list[str] | None = None, **extra: Any) -> LogEntry:
    values: dict[str, Any] = {
        "entry_id": random_entry_id(), "kind": EntryKind.disclosure, "at": at,
        "event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e", "agency": "police",
        "unit": "Vordingborg Politi", "recipient": queue, "recipient_type": "queue",
        "collaboration": "SSP", "legal_basis": "rpl-115-stk1", "purpose": "crime_prevention",
        "necessity": "Fælles indsats kan forebygge kriminalitet.",
        "fields": ["source", "subject.age", "subject.pseudonym"], "rule_ids": ["beredskab"],
        "policy_version": "vordingborg-v1", "pseudonym": pseudonym,
        "related_pseudonyms": related or [],
    }
    values.update(extra)
    return LogEntry(**values)


def _reidentification(pseudonym: str, *, at: dt.datetime = AT) -> LogEntry:
    return LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.reidentification, at=at,
        recipient=CONSULTANT, recipient_type="principal", principal=CONSULTANT,
        role="consultant", pseudonym=pseudonym, reason="Vi skal kontakte forældrene i dag.",
        legal_basis="rpl-115-stk2", purpose="crime_prevention", policy_version="v1",
        fields=["subject.cpr", "subject.name"])


def _log(store: Store, ring: KeyRing, *entries: LogEntry) -> None:
    AuditLog(store, ring).integrate(entries)


# -- pseudonyms ------------------------------------------------------------------------------
def test_pseudonyms_cover_every_key_version_in_the_ring(store: Store, keyring: KeyRing) -> None:
    rotated = rotate_keyring(keyring)

    found = pseudonyms_for_cpr(store, rotated, SUBJECT_CPR)

    assert found == {_pseudonym(rotated, SUBJECT_CPR, 1), _pseudonym(rotated, SUBJECT_CPR, 2)}


def test_pseudonyms_accept_the_dashed_form(store: Store, keyring: KeyRing) -> None:
    assert pseudonyms_for_cpr(store, keyring, "010210-4321") == \
        pseudonyms_for_cpr(store, keyring, SUBJECT_CPR)


def test_pseudonyms_follow_alias_links_beyond_the_ring(store: Store, keyring: KeyRing) -> None:
    # A pseudonym whose key version is no longer in the ring is still reached by its link.
    retired = "ssp0:" + "a" * 32
    current = _pseudonym(keyring, SUBJECT_CPR)
    store.put_vault_entries([], [(retired, current)])

    assert pseudonyms_for_cpr(store, keyring, SUBJECT_CPR) == {current, retired}


@pytest.mark.parametrize("bad", ["3102104321", "12345", "0102104321x", "", "abcdefghij"])
def test_an_invalid_cpr_is_refused_without_echoing_it(store: Store, keyring: KeyRing,
                                                       shipped_policy: Policy, bad: str) -> None:
    with pytest.raises(InvalidCpr) as info:
        pseudonyms_for_cpr(store, keyring, bad)
    with pytest.raises(InvalidCpr) as again:
        answer_subject_access(store, keyring, shipped_policy, bad)

    for exc in (info.value, again.value):
        assert not bad or bad not in str(exc)


# -- finding the entries ---------------------------------------------------------------------
def test_entries_before_and_after_a_key_rotation_are_both_found(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    old = _pseudonym(keyring, SUBJECT_CPR)
    _log(store, keyring, _disclosure(old, at=AT))
    rotated = rotate_keyring(keyring)
    new = _pseudonym(rotated, SUBJECT_CPR)
    _log(store, rotated, _disclosure(new, queue="infohus", at=AT + dt.timedelta(days=3)))
    assert old != new

    answer = answer_subject_access(store, rotated, shipped_policy, SUBJECT_CPR, now=NOW)

    assert [e.recipient for e in answer.entries] == ["beredskab", "infohus"]
    assert answer.count == 2


def test_entries_are_found_through_the_vault_after_rekeying(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    """The rotation as `ssp-hub keys rotate` does it, then the old key version retired."""
    old = _pseudonym(keyring, SUBJECT_CPR)
    Vault(store, keyring).put([Identity(old, SUBJECT_CPR, SUBJECT_NAME)])
    _log(store, keyring, _disclosure(old))
    rotated = rotate_keyring(keyring)
    rekey(store, rotated)
    new_only = KeyRing(hmac={"ssp": {2: rotated.hmac["ssp"][2]}}, aes=rotated.aes,
                       ed25519=rotated.ed25519, current=rotated.current)

    answer = answer_subject_access(store, new_only, shipped_policy, SUBJECT_CPR, now=NOW)

    assert answer.count == 1


def test_entries_about_another_person_are_not_included(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    mine = _pseudonym(keyring, SUBJECT_CPR)
    theirs = _pseudonym(keyring, OTHER_CPR)
    _log(store, keyring, _disclosure(theirs, queue="infohus"), _disclosure(mine),
         _disclosure(theirs, queue="opsoegende"))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)

    assert [e.recipient for e in answer.entries] == ["beredskab"]
    assert theirs not in json.dumps(answer.as_json())


def test_entries_naming_the_person_as_a_related_person_are_found(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    subject = _pseudonym(keyring, OTHER_CPR)
    guardian = _pseudonym(keyring, GUARDIAN_CPR)
    _log(store, keyring, _disclosure(subject, related=[guardian]))

    answer = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR, now=NOW)

    assert [e.about for e in answer.entries] == ["related_person"]
    text = json.dumps(answer.as_json())
    assert subject not in text
    assert guardian not in text


def test_one_consultation_of_a_page_with_two_young_people_is_found_for_each(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    mine = _pseudonym(keyring, SUBJECT_CPR)
    theirs = _pseudonym(keyring, OTHER_CPR)
    shown = [
        {"event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e", "queue": "beredskab",
         "pseudonym": mine, "source": {"agency": "police", "unit": "Vordingborg Politi"},
         "disclosed": ["subject.age"]},
        {"event_id": "0c1d2e3f-5a3e-4c1b-9d2f-3e8a1b2c4d5e", "queue": "beredskab",
         "pseudonym": theirs, "source": {"agency": "school", "unit": "Stege Skole"},
         "disclosed": ["subject.school"]},
    ]
    principal = Principal(id=1, name=CONSULTANT, role="consultant", queues=("beredskab",))
    [entry] = consultations(shipped_policy, principal, shown, "queue")
    assert entry.pseudonym is None
    assert entry.subjects_shown == [mine, theirs]
    assert entry.event_id is None
    assert entry.agency is None
    _log(store, keyring, entry)

    for cpr in (SUBJECT_CPR, OTHER_CPR):
        answer = answer_subject_access(store, keyring, shipped_policy, cpr, now=NOW)
        [item] = answer.entries
        assert (item.kind, item.about, item.recipient_title) == (
            "consultation", "subject", "SSP-konsulent")
        assert item.event_id is None  # the other young person's event is not named
        text = json.dumps(answer.as_json())
        assert mine not in text
        assert theirs not in text


def test_entries_come_oldest_first_over_several_pages(
        store: Store, keyring: KeyRing, shipped_policy: Policy,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.subject_access._PAGE", 2)
    mine = _pseudonym(keyring, SUBJECT_CPR)
    _log(store, keyring, *[_disclosure(mine, at=AT + dt.timedelta(hours=i)) for i in range(5)])

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)

    seqs = [e.seq for e in answer.entries]
    assert seqs == sorted(seqs)
    assert len(seqs) == 5


def test_a_routed_event_is_found_for_the_subject_and_the_guardian(
        store: Store, keyring: KeyRing, pipeline: Pipeline, shipped_policy: Policy) -> None:
    result = pipeline.process(record_for(pipeline.cipher, design_example()), AT)
    assert isinstance(result, Routed)
    _log(store, keyring, *result.entries)

    subject = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    guardian = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR, now=NOW)
    other = answer_subject_access(store, keyring, shipped_policy, OTHER_CPR, now=NOW)

    queues = [c.queue for c in result.concerns]
    assert [e.recipient for e in subject.entries] == queues
    assert all(e.about == "subject" and e.agency == "school" for e in subject.entries)
    assert [e.about for e in guardian.entries] == ["related_person"] * len(queues)
    assert other.count == 0
    item = subject.entries[0].as_json()
    assert item["recipient_title"] == shipped_policy.doc.queues[queues[0]]
    assert item["legal_basis"] == "rpl-115-stk2"
    assert item["purpose"] == "crime_prevention"
    assert item["necessity"]
    assert SUBJECT_NAME.split()[0] not in item["necessity"]


# -- what the answer shows -------------------------------------------------------------------
def test_an_answer_item_has_the_documented_shape(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR)))

    doc = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW).as_json()

    assert set(doc) == {"generated_at", "count", "include_staff", "entries"}
    assert doc["generated_at"] == "2026-04-10T09:00:00.000000Z"
    assert doc["count"] == 1
    assert doc["entries"][0] == {
        "seq": 0, "at": "2026-03-02T13:05:00.000000Z", "kind": "disclosure",
        "decision": "disclosed", "about": "subject", "recipient": "beredskab",
        "recipient_type": "queue", "recipient_title": "SSP-beredskabet", "role": None,
        "principal": None, "agency": "police", "unit": "Vordingborg Politi",
        "collaboration": "SSP", "purpose": "crime_prevention", "legal_basis": "rpl-115-stk1",
        "necessity": "Fælles indsats kan forebygge kriminalitet.",
        "fields": ["source", "subject.age", "subject.pseudonym"], "rule_ids": ["beredskab"],
        "policy_version": "vordingborg-v1", "event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e",
        "reason_code": None, "reason": None, "limited": False, "released": False,
    }


def test_staff_names_and_reasons_are_withheld_by_default(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _log(store, keyring, _reidentification(_pseudonym(keyring, SUBJECT_CPR)))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    item = answer.entries[0]
    assert (item.recipient, item.principal, item.reason) == (None, None, None)
    assert (item.role, item.recipient_title) == ("consultant", "SSP-konsulent")
    for text in (json.dumps(answer.as_json()), html):
        assert CONSULTANT not in text
        assert "forældrene" not in text
    assert "En SSP-konsulent" in html
    assert DA["staff_withheld"] in html


def test_staff_names_and_reasons_are_shown_with_include_staff(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _log(store, keyring, _reidentification(_pseudonym(keyring, SUBJECT_CPR)))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR,
                                   include_staff=True, now=NOW)
    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    item = answer.entries[0]
    assert (item.recipient, item.principal) == (CONSULTANT, CONSULTANT)
    assert item.reason == "Vi skal kontakte forældrene i dag."
    assert CONSULTANT in html
    assert "forældrene" in html
    assert DA["staff_shown"] in html


# -- logging the answer ----------------------------------------------------------------------
def test_the_answer_is_logged_as_a_subject_access_entry(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    rotated = rotate_keyring(keyring)
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR)))
    answer = answer_subject_access(store, rotated, shipped_policy, SUBJECT_CPR, now=NOW)

    entry = subject_access_entry(answer, OFFICER, "security_officer", shipped_policy, NOW)
    _log(store, rotated, entry)

    assert entry.kind == EntryKind.subject_access
    assert entry.recipient_type == "citizen"
    assert entry.pseudonym == _pseudonym(rotated, SUBJECT_CPR)  # the current key's
    assert (entry.principal, entry.role) == (OFFICER, "security_officer")
    assert entry.details == {"entries": 1}
    assert entry.purpose == "subject_access"
    assert entry.legal_basis == "gdpr-art-15"  # the right of access, not §115
    assert entry.policy_version == shipped_policy.version
    # The next answer shows that this one was given.
    later = answer_subject_access(store, rotated, shipped_policy, SUBJECT_CPR, now=NOW)
    assert [e.kind for e in later.entries] == ["disclosure", "subject_access"]
    assert later.entries[1].recipient_title == "Borgeren selv"
    assert later.entries[1].principal is None


# -- the Danish document ---------------------------------------------------------------------
def _document(store: Store, keyring: KeyRing, policy: Policy) -> str:
    mine = _pseudonym(keyring, SUBJECT_CPR)
    _log(store, keyring, _disclosure(mine),
         _disclosure(mine, queue="omraade-stege", agency="school", unit="Stege Skole",
                     legal_basis="rpl-115-stk2",
                     fields=["description", "source", "subject.age", "subject.pseudonym",
                             "subject.school"]),
         _reidentification(mine))
    answer = answer_subject_access(store, keyring, policy, SUBJECT_CPR, now=NOW)
    return render_document_da(answer, municipality_title=MUNICIPALITY)


def test_the_document_is_danish_and_self_contained(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    html = _document(store, keyring, shipped_policy)

    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="da">' in html
    assert "<h1>Indsigt i videregivelser af dine oplysninger i SSP-samarbejdet</h1>" in html
    assert "10. april 2026" in html
    assert MUNICIPALITY in html
    assert "C-579/21" in html
    assert "§ 115" in html
    assert "Datatilsynet" in html
    assert "@media print" in html
    lowered = html.lower()
    for forbidden in ("<script", "javascript:", "http://", "https://", "<link", "src=",
                      "@import", "url("):
        assert forbidden not in lowered
    assert DA["dpo_placeholder"] in html


def test_the_document_has_one_table_row_per_entry_with_danish_labels(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    html = _document(store, keyring, shipped_policy)

    body = html[html.index("<tbody>"):html.index("</tbody>")]
    assert body.count("<tr>") == 3
    assert "".join(f"<th scope=\"col\">{c}</th>" for c in
                   ["Dato", "Hændelse", "Modtager", "Fra", "Formål", "Hjemmel",
                    "Oplysninger"]) in html
    assert "02.03.2026 kl. 14.05" in body  # Copenhagen time
    assert "SSP-beredskabet" in body
    assert "SSP-områdegruppe Stege" in body
    assert "Retsplejelovens § 115, stk. 1" in body
    assert "Retsplejelovens § 115, stk. 2" in body
    assert "Politiet" in body
    assert "Skolen" in body
    assert "Stege Skole" in body
    assert "Kriminalitetsforebyggelse (SSP)" in body
    assert "Videregivelse" in body
    assert "Identitet oplyst" in body
    assert "Kodenummer (pseudonym), alder, skole, afsender, beskrivelse af bekymringen" in body
    assert "CPR-nummer, navn" in body


def test_the_document_shows_no_full_cpr_and_no_name(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    html = _document(store, keyring, shipped_policy)

    assert SUBJECT_CPR not in html
    assert "010210-4321" not in html
    assert "4321" not in html
    assert "010210-XXXX" in html
    assert "1. februar 2010" in html
    assert not re.search(r"(?<!\d)\d{6}-?\d{4}(?!\d)", html)
    for name in (SUBJECT_NAME, *SUBJECT_NAME.split(), GUARDIAN_NAME):
        assert name not in html
    assert _pseudonym(keyring, SUBJECT_CPR) not in html


def test_the_document_says_so_when_there_is_nothing(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)

    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    assert answer.count == 0
    assert "<table>" not in html
    assert DA["empty"] in html


def test_the_document_explains_related_person_and_refused_entries(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    guardian = _pseudonym(keyring, GUARDIAN_CPR)
    refused = LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.reidentification_refused, at=AT,
        recipient=CONSULTANT, recipient_type="principal", principal=CONSULTANT,
        role="consultant", pseudonym=guardian, reason_code="no_visible_concern",
        legal_basis="rpl-115-stk2", purpose="crime_prevention")
    erased = LogEntry(entry_id=random_entry_id(), kind=EntryKind.erasure, at=AT,
                      pseudonym=guardian, legal_basis="rpl-115-stk2")
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR), related=[guardian]),
         refused, erased)

    answer = answer_subject_access(store, keyring, shipped_policy, GUARDIAN_CPR, now=NOW)
    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    # As a related person the guardian sees only that they were mentioned (issue 13 §1).
    assert DA["mentioned"] in html
    assert "Fælles indsats" not in html
    assert "Anmodning om identitet afvist" in html
    assert DA["nothing_disclosed"] in html
    assert DA["reason_codes"]["no_visible_concern"] in html
    assert "Sletning" in html
    assert DA["erased"] in html


def test_markup_in_logged_text_is_escaped(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR),
                                     unit="<img src=x onerror=alert(1)>",
                                     necessity="<script>alert(1)</script>"))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    html = render_document_da(answer, municipality_title="<b>Kommune</b>")

    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>Kommune" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(("code", "text"), [
    ("rpl-115", "Retsplejelovens § 115"),
    ("rpl-115-stk1", "Retsplejelovens § 115, stk. 1"),
    ("rpl-115-stk2", "Retsplejelovens § 115, stk. 2"),
    ("rpl-115-stk3-nr2", "Retsplejelovens § 115, stk. 3, nr. 2"),
    ("other-basis", "other-basis"),
])
def test_legal_bases_have_danish_labels(code: str, text: str) -> None:
    assert legal_basis_da(code) == text


def test_summer_time_is_shown_in_danish_local_time(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    summer = dt.datetime(2026, 7, 1, 10, 30, tzinfo=dt.UTC)
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR), at=summer))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)

    assert "01.07.2026 kl. 12.30" in render_document_da(answer, municipality_title="K")


def test_danish_local_time_without_the_tz_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from zoneinfo import ZoneInfoNotFoundError

    import hub.subject_access as sa

    def missing(key: str) -> Any:
        raise ZoneInfoNotFoundError(key)

    monkeypatch.setattr(sa, "ZoneInfo", missing)
    cases = {
        dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC): 1,  # last Sunday of March, before
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC): 2,
        dt.datetime(2026, 10, 25, 0, 59, tzinfo=dt.UTC): 2,
        dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC): 1,
        dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC): 1,
    }
    for utc, hours in cases.items():
        assert sa._copenhagen(utc).utcoffset() == dt.timedelta(hours=hours)


# -- the command line ------------------------------------------------------------------------
@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


def _seed(data_dir: Path) -> KeyRing:
    ring = FileKeyProvider(data_dir / "keys.json", create=True).load()
    store = Store.open(f"sqlite:///{data_dir / 'hub.db'}")
    try:
        _log(store, ring, _disclosure(_pseudonym(ring, SUBJECT_CPR)),
             _reidentification(_pseudonym(ring, SUBJECT_CPR)),
             _disclosure(_pseudonym(ring, OTHER_CPR), queue="infohus"))
    finally:
        store.close()
    return ring


def _logged(data_dir: Path) -> list[dict[str, Any]]:
    store = Store.open(Settings(data_dir=data_dir).resolved_database_url)
    try:
        return AuditLog(store).page(kind="subject_access", limit=100).items
    finally:
        store.close()


def test_cli_writes_the_danish_document_and_logs_the_answer(data_dir: Path,
                                                            tmp_path: Path) -> None:
    ring = _seed(data_dir)
    out = tmp_path / "svar.html"

    result = CliRunner().invoke(app, ["audit", "subject-access", SUBJECT_CPR, "--out", str(out),
                                      "--data-dir", str(data_dir), "--by", OFFICER])

    assert result.exit_code == 0, result.output
    assert "2 entries" in result.output
    assert str(out) in result.output
    assert SUBJECT_CPR not in result.output
    assert "010210" not in result.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="da">' in html
    assert "010210-XXXX" in html
    assert SUBJECT_CPR not in html
    assert html.count("<tr>") == 3  # header + two entries
    assert CONSULTANT not in html
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [logged] = _logged(data_dir)
    assert logged["pseudonym"] == _pseudonym(ring, SUBJECT_CPR)
    assert (logged["principal"], logged["role"]) == (OFFICER, "security_officer")
    assert logged["recipient_type"] == "citizen"
    assert logged["details"] == {"entries": 2}


def test_cli_reads_the_cpr_from_stdin_with_a_dash(data_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _seed(data_dir)
    monkeypatch.setenv("USER", "officer-from-env")
    out = tmp_path / "svar.html"

    result = CliRunner().invoke(app, ["audit", "subject-access", "-", "--out", str(out),
                                      "--data-dir", str(data_dir), "--include-staff"],
                                input="010210-4321\n")

    assert result.exit_code == 0, result.output
    assert "2 entries" in result.output
    assert "4321" not in result.output
    assert CONSULTANT in out.read_text(encoding="utf-8")
    assert _logged(data_dir)[0]["principal"] == "officer-from-env"


@pytest.mark.parametrize("bad", ["3102104321", "12345"])
def test_cli_refuses_an_invalid_cpr_without_echoing_it(data_dir: Path, tmp_path: Path,
                                                       bad: str) -> None:
    _seed(data_dir)
    out = tmp_path / "svar.html"

    result = CliRunner().invoke(app, ["audit", "subject-access", bad, "--out", str(out),
                                      "--data-dir", str(data_dir)])

    assert result.exit_code == 2
    assert "cpr: not a valid CPR number" in result.output
    assert bad not in result.output
    assert not out.exists()
    assert _logged(data_dir) == []


def test_cli_refuses_an_invalid_cpr_from_stdin_without_echoing_it(data_dir: Path,
                                                                  tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "subject-access", "-", "--out",
                                      str(tmp_path / "x.html"), "--data-dir", str(data_dir)],
                                input="3102109999\n")

    assert result.exit_code == 2
    assert "3102109999" not in result.output


def test_cli_says_what_to_do_when_the_key_file_is_missing(data_dir: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "svar.html"

    result = CliRunner().invoke(app, ["audit", "subject-access", SUBJECT_CPR, "--out", str(out),
                                      "--data-dir", str(data_dir)])

    assert result.exit_code == 2
    assert "keys init" in result.output
    assert SUBJECT_CPR not in result.output
    assert not out.exists()
    assert not (data_dir / "keys.json").exists()


def test_cli_requires_out(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "subject-access", SUBJECT_CPR,
                                      "--data-dir", str(data_dir)])

    assert result.exit_code == 2
    assert "--out" in result.output


def test_the_routed_necessity_text_reaches_the_answer_scrubbed(
        store: Store, keyring: KeyRing, pipeline: Pipeline, shipped_policy: Policy) -> None:
    result = pipeline.process(record_for(pipeline.cipher, design_example()), AT)
    assert isinstance(result, Routed)
    _log(store, keyring, *result.entries)

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    assert NECESSITY not in html  # the raw text named the boy
    assert "Mikkel" not in html
    assert SUBJECT_CPR not in html
    assert DA["necessity"] in html


def test_the_document_names_the_data_protection_officer_from_the_setting(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    _log(store, keyring, _disclosure(_pseudonym(keyring, SUBJECT_CPR)))
    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    contact = "Databeskyttelsesrådgiver Dorte Dahl, dpo@vordingborg.example, <tlf.> 55 36 36 36"

    filled = render_document_da(answer, municipality_title=MUNICIPALITY, dpo_contact=contact)
    empty = render_document_da(answer, municipality_title=MUNICIPALITY)

    assert "Dorte Dahl, dpo@vordingborg.example, &lt;tlf.&gt; 55 36 36 36" in filled
    assert DA["dpo_placeholder"] not in filled
    assert DA["dpo_placeholder"] in empty  # unset: a marked gap, not a silent omission
    assert Settings(dpo_contact=contact).dpo_contact == contact


def test_the_document_groups_a_run_of_identical_consultations_into_one_row(
        store: Store, keyring: KeyRing, shipped_policy: Policy) -> None:
    mine = _pseudonym(keyring, SUBJECT_CPR)
    principal = Principal(id=1, name=CONSULTANT, role="consultant", queues=("beredskab",))
    shown = [{"event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e", "queue": "beredskab",
              "pseudonym": mine, "source": {"agency": "police", "unit": "Vordingborg Politi"},
              "disclosed": ["subject.age"]}]
    views = [consultations(shipped_policy, principal, shown, "queue")[0] for _ in range(12)]
    views = [v.model_copy(update={"at": AT + dt.timedelta(days=i)}) for i, v in enumerate(views)]
    _log(store, keyring, _disclosure(mine), *views, _reidentification(mine))

    answer = answer_subject_access(store, keyring, shipped_policy, SUBJECT_CPR, now=NOW)
    html = render_document_da(answer, municipality_title=MUNICIPALITY)

    assert len(answer.entries) == 14  # the API's answer keeps every entry
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == 3  # disclosure, 12 consultations as one row, re-identification
    assert "(12 opslag)" in body
    assert "02.03.2026 kl. 14.05 – 13.03.2026 kl. 14.05 (12 opslag)" in body
