"""The file-drop connector (issue 5 §2): ``ssp-hub connector watch`` against the real hub, for
every native format, across a kill -9 mid-file, and while the hub or its broker is down."""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import Mapped, Refused, keyed_namespace
from connectors.registry import CONNECTORS, connector
from core.privacy.keys import FileKeyProvider
from core.store import concerns, events
from hub.embedded import free_port, wait_for_port
from hub.sample_data import NATIVE_SAMPLES, native_sample
from schemas.cpr import cpr_like_numbers
from schemas.wire import H_EVENT_ID, ingest_topic
from tests.integration.events import IDENTIFIERS, fresh_sample, identifiers_in
from tests.integration.hubstack import REPO, HubStack, read_all_topics

pytestmark = pytest.mark.integration
FINAL = {"routed", "rejected", "aggregated"}  # signals: rejected until aggregation, then aggregated


def _watch(hub: HubStack, token: str, name: str, directory: Path, api: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "connector", "watch", "--connector", name,
         str(directory), "--once", "--settle", "0", "--api", api or hub.api_url],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)


def _keyed(hub: HubStack, name: str, data: bytes) -> list[Mapped | Refused]:
    """The hub's own mapping of ``data``: event ids under the hub's secret namespace."""
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    ns = keyed_namespace(ring.connector_id_secret())
    return connector(name, id_namespace=ns).parse(data)


def _ids(results: list[Mapped | Refused]) -> list[str]:
    return [str(r.event.event_id) for r in results if isinstance(r, Mapped)]


def _token(hub: HubStack, name: str) -> str:
    agency = CONNECTORS[name].agency.value
    return hub.principal(f"{agency}-drop", f"agency:{agency}")


def _drop(directory: Path, name: str, data: bytes) -> Path:
    """Drop a file as an agency system should: written under a ``.part`` name, then renamed."""
    part = directory / f"{name}.part"
    part.write_bytes(data)
    os.replace(part, directory / name)
    return directory / name


def _many_concern_notes(count: int, tag: str) -> bytes:
    """A large bekymringsnotater export: the sample's valid notes over and over, each with a
    note id of its own, and one bad note (a category the school system does not have) in every
    hundred, so that the crash test also checks the ``.rejected`` report."""
    sample = native_sample("school-concern").read_bytes()
    notes = json.loads(sample)
    good = [notes[r.line - 1] for r in connector("school-concern").parse(sample)
            if isinstance(r, Mapped)]
    out = []
    for i in range(count):
        note = dict(good[i % len(good)], notat_id=f"{tag}-{i:05d}")
        if i % 100 == 99:
            note["kategori"] = "andet"
        out.append(note)
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


def _report_rows(path: Path) -> list[str]:
    rows = path.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "line\tfield\treason"
    return rows[1:]


def _expected_rows(results: list[Mapped | Refused]) -> list[str]:
    return [f"{r.line}\t{r.field}\t{r.reason}" for r in results if isinstance(r, Refused)]


@pytest.mark.parametrize("name", sorted(NATIVE_SAMPLES))
def test_a_dropped_export_is_sent_once_moved_to_done_with_a_rejected_report(
        hub: HubStack, tmp_path: Path, name: str) -> None:
    token = _token(hub, name)
    sample = native_sample(name)
    data = sample.read_bytes()
    results = _keyed(hub, name, data)
    IDENTIFIERS.update(v for r in results if isinstance(r, Mapped)  # test_zz_no_plaintext
                       for v in (r.event.subject.cpr, r.event.subject.name,
                                 r.event.subject.address) if v)
    mapped = [r for r in results if isinstance(r, Mapped)]
    refused = [r for r in results if isinstance(r, Refused)]
    assert mapped
    assert refused  # every sample has both (connectors/README.md, "Samples")
    shutil.copy(sample, tmp_path / sample.name)

    run = _watch(hub, token, name, tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert (f"sent 1 file(s): {len(mapped)} records accepted, {len(refused)} refused"
            in run.stdout), run.stdout
    assert not (tmp_path / sample.name).exists()
    assert (tmp_path / "done" / sample.name).read_bytes() == data
    report_path = tmp_path / "done" / f"{sample.name}.rejected"
    rows = _report_rows(report_path)
    assert rows == _expected_rows(results)  # line, source field and reason, in file order
    report = report_path.read_bytes()
    for identifier in identifiers_in(results):  # no CPR, name or address: not in the report,
        assert identifier.encode("utf-8") not in report  # not on the console
        assert identifier not in run.stdout + run.stderr
    assert not cpr_like_numbers(data.decode("utf-8", "replace")) & cpr_like_numbers(
        report.decode("utf-8", "replace"))  # refused ones too

    rows_by_id = hub.wait_outcomes(_ids(results))  # every mapped record has an outcome
    assert {row["status"] for row in rows_by_id.values()} <= FINAL
    if name != "school-absence":  # every sample but the absence signals holds concerns
        assert "routed" in {row["status"] for row in rows_by_id.values()}

    shutil.copy(sample, tmp_path / f"again-{sample.name}")  # the same export dropped again
    again = _watch(hub, token, name, tmp_path)
    assert again.returncode == 0
    assert "sent 0 file(s)" in again.stdout
    assert "1 already done" in again.stdout
    assert (tmp_path / "done" / f"again-{sample.name}").exists()
    assert not (tmp_path / "done" / f"again-{sample.name}.rejected").exists()


def _stored(hub: HubStack, ids: list[str]) -> int:
    """How many of ``ids`` the hub has claimed so far (whatever their status)."""
    assert hub.store is not None
    with hub.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)
                                .where(events.c.event_id.in_(ids))).scalar_one())


def test_a_watcher_killed_mid_file_loses_no_record_and_counts_none_twice(
        hub: HubStack, tmp_path: Path) -> None:
    """kill -9 of the watcher while the hub is taking the file in: the file stays, the next
    run sends it again, and every record enters the hub exactly once."""
    token = _token(hub, "school-concern")
    data = _many_concern_notes(1500, f"CRASH-{uuid.uuid4().hex[:8]}")
    results = _keyed(hub, "school-concern", data)
    ids = _ids(results)
    assert len(ids) == 1485
    drop = tmp_path / "drop"
    drop.mkdir()
    _drop(drop, "bekymringsnotater-stor.json", data)

    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    with (tmp_path / "watch.log").open("ab") as log:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "connector", "watch", "--connector",
             "school-concern", str(drop), "--settle", "0", "--api", hub.api_url],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while (claimed := _stored(hub, ids)) == 0 and time.monotonic() < deadline:
            assert watcher.poll() is None, (tmp_path / "watch.log").read_text()
            time.sleep(0.02)
    finally:
        os.killpg(watcher.pid, signal.SIGKILL)  # no shutdown, no state saved, no move
        watcher.wait(10)
    print(f"killed with {claimed} of {len(ids)} claimed")
    assert 0 < claimed < len(ids), f"not killed mid-file: {claimed} of {len(ids)} claimed"
    assert (drop / "bekymringsnotater-stor.json").exists()
    assert not (drop / "done").exists()

    rerun = _watch(hub, token, "school-concern", drop)

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"sent 1 file(s): {len(ids)} records accepted, 15 refused" in rerun.stdout
    assert (drop / "done" / "bekymringsnotater-stor.json").read_bytes() == data
    assert _report_rows(drop / "done" / "bekymringsnotater-stor.json.rejected") \
        == _expected_rows(results)
    rows = hub.wait_outcomes(ids, timeout=300)
    assert {r["status"] for r in rows.values()} <= FINAL
    routed = {i for i in ids if rows[i]["status"] == "routed"}
    assert routed

    # Once into the hub: each record on the ingest topic once, although it was sent twice.
    assert hub.store is not None
    on_topic = collections.Counter(
        ident for topic, _, _, headers in read_all_topics(hub.settings.bootstrap_servers)
        if topic == ingest_topic("school")
        and (ident := (dict(headers).get(H_EVENT_ID) or b"").decode()) in set(ids))
    assert set(on_topic) == set(ids)
    assert max(on_topic.values()) == 1
    # Once out of it: one concern per routed record and queue, one disclosure per recipient.
    with hub.store.engine.connect() as conn:
        stored = collections.Counter(
            (r.event_id, r.queue) for r in conn.execute(
                sa.select(concerns.c.event_id, concerns.c.queue)
                .where(concerns.c.event_id.in_(ids))))
    assert {e for e, _ in stored} == routed
    assert {(i, q) for i in routed for q in rows[i]["queues"]} == set(stored)
    disclosed = collections.Counter(
        (e["event_id"], e["recipient"]) for e in hub.wait_log(
            lambda e: e.get("event_id") in routed, count=len(stored), timeout=120,
            agency="school", kind="disclosure"))
    assert set(disclosed) == set(stored)  # the recipient of a routed concern is its queue
    assert max(disclosed.values()) == 1


def test_a_crash_after_the_hub_answered_but_before_the_move_counts_every_record_once(
        hub: HubStack, tmp_path: Path) -> None:
    """The other crash window: the hub has answered for the whole file, the watcher died
    before it could remember and move it. The next run sends it again: all duplicates."""
    token = _token(hub, "police-doegnrapport")
    data = fresh_sample("police-doegnrapport", f"ANSWERED-{uuid.uuid4().hex[:8]}")
    ids = _ids(_keyed(hub, "police-doegnrapport", data))
    _drop(tmp_path, "doegnrapport.jsonl", data)
    with hub.client(token) as c:  # the watcher's send; then it "died" before the move
        first = c.post("/api/v1/connectors/police-doegnrapport", content=data)
    assert first.status_code == 200
    assert [a["event_id"] for a in first.json()["accepted"]] == ids
    assert not any(a.get("duplicate") for a in first.json()["accepted"])
    hub.wait_outcomes(ids)

    run = _watch(hub, token, "police-doegnrapport", tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert f"sent 1 file(s): {len(ids)} records accepted, 4 refused" in run.stdout
    assert (tmp_path / "done" / "doegnrapport.jsonl").exists()
    rows = hub.wait_outcomes(ids)
    assert hub.store is not None
    with hub.store.engine.connect() as conn:
        got = collections.Counter(
            (r.event_id, r.queue) for r in conn.execute(
                sa.select(concerns.c.event_id, concerns.c.queue)
                .where(concerns.c.event_id.in_(ids))))
    routed = {i for i in ids if rows[i]["status"] == "routed"}
    assert routed
    assert {e for e, _ in got} == routed
    assert max(got.values()) == 1


def _assert_nothing_lost(hub: HubStack, token: str, directory: Path, data: bytes,
                         ids: list[str]) -> None:
    """The watcher, once the hub is back: the file goes through and every record counts."""
    up = _watch(hub, token, "police-doegnrapport", directory)
    assert up.returncode == 0, up.stdout + up.stderr
    assert f"sent 1 file(s): {len(ids)} records accepted, 4 refused" in up.stdout
    assert (directory / "done" / "doegnrapport.jsonl").read_bytes() == data
    assert len(_report_rows(directory / "done" / "doegnrapport.jsonl.rejected")) == 4
    rows = hub.wait_outcomes(ids)
    assert {r["status"] for r in rows.values()} <= FINAL


def test_while_the_hub_is_unreachable_the_file_stays(hub: HubStack, tmp_path: Path) -> None:
    token = _token(hub, "police-doegnrapport")
    data = fresh_sample("police-doegnrapport", f"UNREACHABLE-{uuid.uuid4().hex[:8]}")
    ids = _ids(_keyed(hub, "police-doegnrapport", data))
    _drop(tmp_path, "doegnrapport.jsonl", data)

    down = _watch(hub, token, "police-doegnrapport", tmp_path,
                  api=f"http://127.0.0.1:{free_port()}")

    assert down.returncode == 3
    assert "1 waiting" in down.stdout
    assert "cannot reach the hub at http://127.0.0.1:" in down.stdout  # names the address
    assert (tmp_path / "doegnrapport.jsonl").read_bytes() == data
    assert not (tmp_path / "done").exists()
    assert _stored(hub, ids) == 0
    _assert_nothing_lost(hub, token, tmp_path, data, ids)


def test_while_the_broker_is_down_the_hub_answers_503_and_the_file_stays(
        hub: HubStack, tmp_path: Path) -> None:
    """An API whose broker is gone (here: a second API process on the same store, pointed at
    a port where no broker listens) takes nothing in; the watcher keeps the file and loses
    nothing once it reaches an API with a broker."""
    token = _token(hub, "police-doegnrapport")
    data = fresh_sample("police-doegnrapport", f"BROKERDOWN-{uuid.uuid4().hex[:8]}")
    ids = _ids(_keyed(hub, "police-doegnrapport", data))
    drop = tmp_path / "drop"
    drop.mkdir()
    _drop(drop, "doegnrapport.jsonl", data)
    port = free_port()
    env = {**hub.env, "SSP_HUB_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    with (tmp_path / "api-no-broker.log").open("ab") as log:
        api = subprocess.Popen([sys.executable, "-m", "hub.cli", "api", "--port", str(port)],
                               env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_for_port("127.0.0.1", port, 60)
        down = _watch(hub, token, "police-doegnrapport", drop,
                      api=f"http://127.0.0.1:{port}")
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(20)

    assert down.returncode == 3, down.stdout + down.stderr + \
        (tmp_path / "api-no-broker.log").read_text()
    assert "1 waiting" in down.stdout
    assert (drop / "doegnrapport.jsonl").read_bytes() == data
    assert not (drop / "done").exists()
    assert _stored(hub, ids) == 0  # no claim left behind that a retry would take as a duplicate
    _assert_nothing_lost(hub, token, drop, data, ids)


def _rejected_reason(report: Path) -> str:
    [row] = _report_rows(report)
    line, fld, reason = row.split("\t")
    assert (line, fld) == ("0", "<file>")
    return reason.split(":", 1)[0]


def test_symlinks_hard_links_and_poison_pills_are_rejected_and_the_good_file_goes_through(
        hub: HubStack, tmp_path: Path) -> None:
    """Issue 13 §2, §3: a symlink to an export outside the folder (its records must not reach
    the hub), a symlink to /etc/passwd, a hard link, a file named ``done``, garbage and a
    too-large file, with a planted symlink where the state used to be: each bad file goes to
    rejected/ with a reason code, the good one is delivered, nothing outside is written, and
    /readyz shows the folder's status."""
    token = _token(hub, "police-doegnrapport")
    tag = uuid.uuid4().hex[:8]
    good = fresh_sample("police-doegnrapport", f"GOOD-{tag}")
    stolen = fresh_sample("police-doegnrapport", f"OUTSIDE-{tag}")
    good_ids = _ids(_keyed(hub, "police-doegnrapport", good))
    stolen_ids = _ids(_keyed(hub, "police-doegnrapport", stolen))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "export.jsonl").write_bytes(stolen)
    (outside / "victim").write_bytes(b"untouched\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a-outside.jsonl").symlink_to(outside / "export.jsonl")
    (drop / "b-passwd").symlink_to("/etc/passwd")
    os.link(outside / "export.jsonl", drop / "c-hardlink.jsonl")
    (drop / "done").write_bytes(b"where the folder belongs")
    (drop / "e-garbage.jsonl").write_bytes(b"\x00\xff not a doegnrapport \x80")
    with (drop / "f-huge.jsonl").open("wb") as fh:  # over the 20 MiB limit; sparse
        fh.truncate(21 * 1024 * 1024)
    (drop / ".ssp-hub-watch.json").symlink_to(outside / "victim")  # the old state location
    _drop(drop, "g-good.jsonl", good)

    run = _watch(hub, token, "police-doegnrapport", drop)

    assert run.returncode == 0, run.stdout + run.stderr
    assert f"sent 2 file(s): {len(good_ids)} records accepted, 4 refused" in run.stdout
    assert "6 rejected" in run.stdout
    assert (drop / "done" / "g-good.jsonl").read_bytes() == good
    assert stat.S_IMODE((drop / "done" / "g-good.jsonl").stat().st_mode) == 0o600
    rows = hub.wait_outcomes(good_ids)
    assert {r["status"] for r in rows.values()} <= FINAL
    assert _stored(hub, stolen_ids) == 0  # the export outside the folder never reached the hub
    assert (outside / "export.jsonl").read_bytes() == stolen
    assert (outside / "victim").read_bytes() == b"untouched\n"
    rejected = drop / "rejected"
    assert (rejected / "a-outside.jsonl").is_symlink()
    reasons = {p.name.removesuffix(".rejected"): _rejected_reason(p)
               for p in rejected.glob("*.rejected")}
    assert reasons == {"a-outside.jsonl": "not_a_regular_file", "b-passwd": "not_a_regular_file",
                       "c-hardlink.jsonl": "hard_link", "done": "blocks_folder",
                       "e-garbage.jsonl": "unreadable", "f-huge.jsonl": "too_large"}
    for report in rejected.glob("*.rejected"):
        assert not cpr_like_numbers(report.read_text("utf-8", "replace"))

    with hub.client() as c:
        ready = c.get("/readyz").json()
    [status] = [d for d in ready["drop_folders"] if d["connector"] == "police-doegnrapport"
                and d["rejected"] == 6]
    assert status["last_delivery_at"] is not None
    assert status["waiting"] == 0
    assert status["last_error"] in set(reasons.values())

    again = _watch(hub, token, "police-doegnrapport", drop)  # nothing is sent again
    assert again.returncode == 0, again.stdout + again.stderr
    assert "sent 0 file(s)" in again.stdout
    assert "0 rejected" in again.stdout


def test_a_fifo_in_the_drop_folder_neither_hangs_nor_stops_the_watcher(
        hub: HubStack, tmp_path: Path) -> None:
    token = _token(hub, "police-doegnrapport")
    good = fresh_sample("police-doegnrapport", f"FIFO-{uuid.uuid4().hex[:8]}")
    os.mkfifo(tmp_path / "a-pipe.jsonl")
    _drop(tmp_path, "b-good.jsonl", good)

    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    run = subprocess.run(
        [sys.executable, "-m", "hub.cli", "connector", "watch", "--connector",
         "police-doegnrapport", str(tmp_path), "--once", "--settle", "0", "--api",
         hub.api_url], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "sent 1 file(s)" in run.stdout
    assert stat.S_ISFIFO((tmp_path / "rejected" / "a-pipe.jsonl").lstat().st_mode)
    assert (tmp_path / "done" / "b-good.jsonl").read_bytes() == good


def test_once_does_not_exit_0_while_a_file_has_not_settled(hub: HubStack, tmp_path: Path
                                                           ) -> None:
    token = _token(hub, "police-doegnrapport")
    (tmp_path / "doegnrapport.jsonl").write_bytes(
        fresh_sample("police-doegnrapport", f"UNSETTLED-{uuid.uuid4().hex[:8]}"))
    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    run = subprocess.run(
        [sys.executable, "-m", "hub.cli", "connector", "watch", "--connector",
         "police-doegnrapport", str(tmp_path), "--once", "--settle", "3600", "--api",
         hub.api_url], env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    assert "1 not yet settled" in run.stdout
    assert (tmp_path / "doegnrapport.jsonl").exists()
