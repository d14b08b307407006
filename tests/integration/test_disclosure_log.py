"""The disclosure log end to end (issue 4): events through the real worker and sequencer,
the log read, proved and verified through the real API and CLI, with only the public key."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.ledger import merkle
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import FileKeyProvider
from core.store import disclosure_log
from tests.integration.events import IDENTIFIERS, expected_queues, make_event
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration
SEED = 770_440_001


@pytest.fixture(scope="module")
def tokens(hub: HubStack) -> dict[str, str]:
    return {
        "school": hub.principal("skole-log", "agency:school"),
        "police": hub.principal("politi-log", "agency:police"),
        "consultant": hub.principal("konsulent-log", "consultant",
                                    ("omraade-stege", "beredskab", "infohus", "underretning")),
        "officer": hub.principal("sikkerhed-log", "security_officer"),
    }


@pytest.fixture(scope="module")
def routed(hub: HubStack, tokens: dict[str, str]) -> dict[str, Any]:
    """Three events about one young person (two routed, one to two queues) and one rejected
    event; returns their ids, the person's CPR and pseudonym, and when they were sent."""
    sent_at = dt.datetime.now(dt.UTC)
    person = make_event("school", category="group_conflict", area="stege", seed=SEED)
    cpr = person["subject"]["cpr"]
    events = [
        person,
        make_event("police", category="crime", area="stege", severity="acute", seed=SEED,
                   subject=person["subject"]),
        make_event("school", category="crime", area="stege", purpose="investigation",
                   seed=SEED + 1),
    ]
    for event in events:
        agency = event["source"]["agency"]
        with hub.client(tokens[agency]) as c:
            assert c.post(f"/api/v1/ingest/{agency}", json=event).status_code == 202
    ids = [e["event_id"] for e in events]
    hub.wait_outcomes(ids)
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    return {"events": events, "ids": ids, "cpr": cpr, "sent_at": sent_at,
            "pseudonym": Pseudonymiser(ring, "ssp")(cpr)}


def _get(hub: HubStack, token: str, path: str, **params: Any) -> Any:
    with hub.client(token) as c:
        return c.get(path, params=params)


def test_every_disclosure_and_rejection_is_logged_without_identity(
        hub: HubStack, routed: dict[str, Any]) -> None:
    school, police, rejected = routed["events"]
    expected = {(school["event_id"], q) for q in expected_queues("group_conflict", "stege")}
    expected |= {(police["event_id"], q) for q in ("omraade-stege", "underretning")}
    entries = hub.wait_log(lambda e: e.get("event_id") in routed["ids"],
                           count=len(expected) + 1)

    disclosures = [e for e in entries if e["kind"] == "disclosure"]
    assert {(e["event_id"], e["recipient"]) for e in disclosures} == expected
    for e in disclosures:
        assert e["decision"] == "disclosed"
        assert e["recipient_type"] == "queue"
        assert e["pseudonym"] == routed["pseudonym"]
        assert e["legal_basis"] == ("rpl-115-stk1" if e["agency"] == "police"
                                    else "rpl-115-stk2")
        assert e["purpose"] == "crime_prevention"
        assert e["collaboration"] == "SSP"
        assert e["policy_version"].startswith("sha256:")
        assert e["rule_ids"]
        assert "subject.pseudonym" in e["fields"]
        assert "subject.cpr" not in e["fields"]
        assert e["v"] == 2  # format 2: the body is erasable (issue 13 §9)
        assert set(e) >= {"salt", "body_sha256"}  # to recompute body and leaf
        assert isinstance(e["seq"], int)
        assert e["necessity"].startswith("Deling er nødvendig")
    flagged = [e for e in disclosures if e["recipient"] == "underretning"]
    assert flagged[0]["details"]["flags"] == ["underretning_required"]
    [rejection] = [e for e in entries if e["kind"] == "rejection"]
    assert rejection["event_id"] == rejected["event_id"]
    assert rejection["decision"] == "rejected"
    assert rejection["reason_code"] == "purpose_not_permitted"
    assert "pseudonym" not in rejection
    assert "necessity" not in rejection
    text = json.dumps(entries, ensure_ascii=False)
    for event in routed["events"]:
        for secret in (event["subject"]["cpr"], event["subject"]["name"],
                       event["subject"]["address"], event["related_persons"][0]["name"]):
            assert secret not in text


def test_reading_a_queue_is_logged_as_a_consultation(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    body = _get(hub, tokens["consultant"], "/api/v1/queues/underretning/concerns",
                limit=1000).json()
    shown = {i["event_id"] for i in body["items"]}
    assert routed["ids"][1] in shown

    name = _get(hub, tokens["consultant"], "/api/v1/whoami").json()["name"]
    # One entry for the one view, listing every concern shown and every young person in it.
    concerns = [f"{i['event_id']}:underretning" for i in body["items"]]
    entry = hub.wait_log(lambda e: e["principal"] == name and e.get("concerns") == concerns,
                         kind="consultation")[-1]
    assert entry["details"]["shown"] == len(concerns)
    assert entry["details"]["view"] == "queue"
    assert entry["details"]["queue"] == "underretning"
    assert entry["role"] == "consultant"
    subjects = {i["pseudonym"] for i in body["items"] if i.get("pseudonym")}
    assert set(entry.get("subjects_shown") or [entry.get("pseudonym")]) == subjects
    # The security officer finds the view under any one of those young people.
    one = sorted(subjects)[0]
    found = _get(hub, tokens["officer"], "/api/v1/disclosures", pseudonym=one,
                 kind="consultation", limit=1000).json()["items"]
    assert entry["seq"] in {e["seq"] for e in found}


def test_security_officer_filters_and_pages_the_log(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    hub.wait_log(lambda e: e.get("event_id") in routed["ids"], count=4)
    officer = tokens["officer"]

    by_person = _get(hub, officer, "/api/v1/disclosures", pseudonym=routed["pseudonym"],
                     kind="disclosure").json()
    assert {e["event_id"] for e in by_person["items"]} == set(routed["ids"][:2])
    police = _get(hub, officer, "/api/v1/disclosures", agency="police",
                  queue="underretning").json()["items"]
    assert routed["ids"][1] in {e["event_id"] for e in police}
    assert all(e["agency"] == "police" and e["recipient"] == "underretning" for e in police)
    refused = _get(hub, officer, "/api/v1/disclosures", decision="rejected",
                   **{"from": routed["sent_at"].isoformat()}).json()["items"]
    assert routed["ids"][2] in {e.get("event_id") for e in refused}
    assert all(e["decision"] == "rejected" for e in refused)
    future = _get(hub, officer, "/api/v1/disclosures",
                  **{"from": "2099-01-01T00:00:00Z"}).json()
    assert future == {"items": [], "next_cursor": None}

    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _get(hub, officer, "/api/v1/disclosures", **params).json()
        seen += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None or len(seen) > 40:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("path", ["/api/v1/disclosures", "/api/v1/disclosures/verify",
                                  "/api/v1/checkpoints/latest"])
def test_only_security_officers_read_the_log(hub: HubStack, tokens: dict[str, str],
                                             path: str) -> None:
    for who in ("consultant", "school"):
        assert _get(hub, tokens[who], path).status_code == 403
    assert _get(hub, "", path).status_code == 401


def test_bad_filters_name_the_field(hub: HubStack, tokens: dict[str, str]) -> None:
    for params, field in (({"kind": "gossip"}, "kind"), ({"decision": "maybe"}, "decision"),
                          ({"pseudonym": "0102104321"}, "pseudonym"),
                          ({"from": "yesterday"}, "from")):
        response = _get(hub, tokens["officer"], "/api/v1/disclosures", **params)
        assert response.status_code == 422
        assert field in response.text
        assert "0102104321" not in response.text


def _checkpoint_covering(hub: HubStack, token: str, seq: int) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 30
    while True:
        response = _get(hub, token, "/api/v1/checkpoints/latest")
        if response.status_code == 200 and response.json()["tree_size"] > seq:
            return dict(response.json())
        assert time.monotonic() < deadline, "no checkpoint covered the entry"
        time.sleep(0.3)


def test_entry_is_proved_with_only_the_public_key(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    [entry] = hub.wait_log(lambda e: e["kind"] == "rejection"
                           and e.get("event_id") == routed["ids"][2])
    cp = _checkpoint_covering(hub, tokens["officer"], entry["seq"])
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(cp["public_key"]))
    public.verify(base64.b64decode(cp["signature"]), cp["note"].encode())  # raises if bad
    assert cp["note"].splitlines()[2:4] == [str(cp["tree_size"]), cp["root_hash"]]

    proof = _get(hub, tokens["officer"], "/api/v1/proofs/inclusion", seq=entry["seq"],
                 tree_size=cp["tree_size"]).json()
    # The leaf is recomputed from the entry as the API showed it, not taken from the proof:
    # format 2 (issue 13 §9) shows the body's members (with its salt) and the leaf's; the
    # body hashes to the leaf's body_sha256, and the leaf is the JCS of its eight members.
    import hashlib

    import rfc8785

    envelope = ("v", "seq", "logged_at", "entry_id", "kind", "decision", "at", "body_sha256")
    body = {k: v for k, v in entry.items()
            if k not in {"leaf_hash", "v", "seq", "logged_at", "body_sha256"}}
    assert hashlib.sha256(rfc8785.dumps(body)).hexdigest() == entry["body_sha256"]
    leaf = merkle.leaf_hash(rfc8785.dumps({k: entry[k] for k in envelope}))
    assert leaf.hex() == proof["leaf_hash"]
    merkle.verify_inclusion(leaf, entry["seq"], cp["tree_size"],
                            [bytes.fromhex(h) for h in proof["audit_path"]],
                            bytes.fromhex(cp["root_hash"]))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(leaf, entry["seq"] ^ 1, cp["tree_size"],
                                [bytes.fromhex(h) for h in proof["audit_path"]],
                                bytes.fromhex(cp["root_hash"]))


def test_consecutive_checkpoints_are_consistent(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    first = _checkpoint_covering(hub, tokens["officer"], 0)
    with hub.client(tokens["school"]) as c:  # grow the log past the first checkpoint
        c.post("/api/v1/ingest/school", json=make_event("school", purpose="investigation"))
    second = _checkpoint_covering(hub, tokens["officer"], first["tree_size"])
    proof = _get(hub, tokens["officer"], "/api/v1/proofs/consistency",
                 first=first["tree_size"], second=second["tree_size"]).json()

    merkle.verify_consistency(first["tree_size"], second["tree_size"],
                              bytes.fromhex(first["root_hash"]),
                              bytes.fromhex(second["root_hash"]),
                              [bytes.fromhex(h) for h in proof["proof"]])
    assert _get(hub, tokens["officer"], "/api/v1/proofs/consistency",
                first=2, second=10**9).status_code == 404


def _about_event(event_id: str, entry: dict[str, Any]) -> bool:
    return bool(entry.get("event_id") == event_id)


def test_subject_access_finds_the_persons_entries_and_is_logged(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    for event_id in routed["ids"][:2]:  # both routed events' disclosures are in the log
        hub.wait_log(functools.partial(_about_event, event_id), kind="disclosure")
    with hub.client(tokens["officer"]) as c:
        response = c.post("/api/v1/subject-access", json={"cpr": routed["cpr"]})

    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    disclosed = {(e["event_id"], e["recipient"]) for e in entries if e["kind"] == "disclosure"}
    assert {e for e, _ in disclosed} == set(routed["ids"][:2])
    assert all(e["legal_basis"] and e["purpose"] for e in entries)
    assert routed["cpr"] not in response.text
    assert "no-store" in response.headers["cache-control"]
    officer = _get(hub, tokens["officer"], "/api/v1/whoami").json()["name"]
    hub.wait_log(lambda e: e["kind"] == "subject_access" and e["principal"] == officer)

    with hub.client(tokens["officer"]) as c:
        bad = c.post("/api/v1/subject-access", json={"cpr": "3199991234"})
    assert bad.status_code == 422
    assert "cpr" in bad.text
    assert "3199991234" not in bad.text
    with hub.client(tokens["consultant"]) as c:
        assert c.post("/api/v1/subject-access", json={"cpr": routed["cpr"]}).status_code == 403


def _cli(hub: HubStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=hub.env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_live_log_verifies_and_a_tampered_entry_is_named(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    [entry] = hub.wait_log(lambda e: e["kind"] == "rejection"
                           and e.get("event_id") == routed["ids"][2])
    _checkpoint_covering(hub, tokens["officer"], entry["seq"])
    good = _get(hub, tokens["officer"], "/api/v1/disclosures/verify").json()
    assert good["ok"] is True, good["problems"]
    assert good["status"] == "intact"
    assert good["latest_checkpoint"]["tree_size"] > entry["seq"]

    assert hub.store is not None
    with hub.store.engine.begin() as conn:
        original = conn.execute(sa.select(disclosure_log.c.body)
                                .where(disclosure_log.c.seq == entry["seq"])).scalar_one()
        forged = bytes(original).replace(b'"purpose_not_permitted"', b'"no_rule_permits"')
        conn.execute(disclosure_log.update().where(disclosure_log.c.seq == entry["seq"])
                     .values(body=forged))
    try:
        bad = _get(hub, tokens["officer"], "/api/v1/disclosures/verify").json()
        assert bad["ok"] is False
        assert bad["status"] == "tampered"
        assert {"where": f"entry {entry['seq']}", "what": "modified"} in [
            {k: p[k] for k in ("where", "what")} for p in bad["problems"]]
        cli = _cli(hub, "audit", "verify")
        assert cli.returncode == 1
        assert f"entry {entry['seq']}" in cli.stdout + cli.stderr
    finally:
        with hub.store.engine.begin() as conn:
            conn.execute(disclosure_log.update().where(disclosure_log.c.seq == entry["seq"])
                         .values(body=original))
    assert _get(hub, tokens["officer"], "/api/v1/disclosures/verify").json()["ok"] is True


def test_export_verifies_offline_and_holds_no_identity(
        hub: HubStack, routed: dict[str, Any], tmp_path: Path) -> None:
    hub.wait_log(lambda e: e.get("event_id") in routed["ids"], count=4)
    out = tmp_path / "log.json"

    exported = _cli(hub, "audit", "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    checked = _cli(hub, "audit", "verify", "--file", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    text = out.read_text(encoding="utf-8")
    assert not [i for i in IDENTIFIERS if i in text]


# -- the sequencer is idempotent under redelivery ----------------------------------------------
def _rewind_sequencer_and_replay(hub: HubStack, extra_copies: int) -> tuple[int, int]:
    """With the worker dead: move the sequencer's committed offset back to the start of the
    ``disclosures`` topic (what a rebalance after an uncommitted batch does, only bigger) and
    produce ``extra_copies`` copies of already-logged entries. Returns how many messages the
    sequencer will now read again: (messages on the topic, copies added)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from schemas.wire import DISCLOSURES_TOPIC

    group = f"{hub.env['SSP_HUB_WORKER_ID']}-sequencer"

    async def go() -> tuple[int, int]:
        consumer = AIOKafkaConsumer(DISCLOSURES_TOPIC, group_id=group,
                                    bootstrap_servers=hub.settings.bootstrap_servers,
                                    enable_auto_commit=False, auto_offset_reset="earliest",
                                    session_timeout_ms=6000, heartbeat_interval_ms=1000)
        await consumer.start()
        try:
            tp = TopicPartition(DISCLOSURES_TOPIC, 0)
            while not consumer.assignment():  # joins once the killed member has expired
                await consumer.getmany(timeout_ms=500, max_records=1)
            copies: list[tuple[bytes | None, bytes]] = []
            await consumer.seek_to_beginning(tp)
            read = 0
            while True:
                batch = await consumer.getmany(tp, timeout_ms=2000, max_records=1000)
                msgs = batch.get(tp, [])
                if not msgs:
                    break
                read += len(msgs)
                copies += [(m.key, m.value or b"") for m in msgs[:extra_copies - len(copies)]]
            await consumer.commit({tp: 0})
        finally:
            await consumer.stop()
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap_servers,
                                    acks="all")
        await producer.start()
        try:
            for key, value in copies:
                await producer.send_and_wait(DISCLOSURES_TOPIC, value, key=key)
        finally:
            await producer.stop()
        return read, len(copies)
    return asyncio.run(go())


def _skipped(log_file: Path) -> int:
    total = 0
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"log_duplicates_skipped"' in line:
            total += int(json.loads(line[line.index("{"):])["count"])
    return total


def test_sequencer_redelivery_after_a_kill_never_logs_an_entry_twice(
        hub: HubStack, tokens: dict[str, str], routed: dict[str, Any]) -> None:
    """kill -9 the worker, rewind the sequencer to the start of its topic and add copies of
    logged entries: every message comes again, and the log neither grows nor breaks."""
    import time

    from core.ledger.auditlog import AuditLog, public_keys, verify_store

    assert hub.store is not None
    hub.wait_log(lambda e: e.get("event_id") in routed["ids"], count=4)
    audit = AuditLog(hub.store)
    deadline = time.monotonic() + 30
    size = audit.state().size
    while time.monotonic() < deadline:  # settle: nothing in flight any more
        time.sleep(2)
        if audit.state().size == size:
            break
        size = audit.state().size
    for worker in hub.live_workers():
        hub.kill_worker(worker)

    on_topic, copies = _rewind_sequencer_and_replay(hub, extra_copies=25)
    # `ssp-hub users …` writes its administration entries straight into the store (the CLI
    # needs no broker): in the log, never on the topic.
    with hub.store.engine.connect() as conn:
        direct = conn.execute(sa.select(sa.func.count()).select_from(disclosure_log)
                              .where(disclosure_log.c.kind == "administration")).scalar_one()
    assert on_topic >= size - direct
    assert copies == min(25, on_topic)
    replayed = on_topic + copies
    worker = hub.start_worker()
    log_file = hub.logs / f"worker-{len(hub.workers) - 1}.log"
    deadline = time.monotonic() + 120
    while _skipped(log_file) < replayed and time.monotonic() < deadline:
        assert worker.poll() is None, "the worker died"
        time.sleep(0.5)

    assert _skipped(log_file) >= replayed  # the sequencer did read everything again
    assert audit.state().size == size  # … and integrated none of it twice
    verdict = verify_store(hub.store, public_keys(
        FileKeyProvider(hub.settings.resolved_key_file, create=False).load()))
    assert verdict.ok, verdict.summary()
