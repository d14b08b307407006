"""The newcomer's path: `ssp-hub demo`, and `ssp-hub users add` on a running hub."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from connectors.base import Mapped, keyed_namespace
from connectors.registry import connector
from core.privacy.keys import FileKeyProvider
from core.settings import Settings
from hub.embedded import free_port
from hub.sample_data import DEMO_DELIVERY, NATIVE_SAMPLES, native_sample, sample_events
from tests.integration.events import make_event
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration


def test_users_add_works_while_the_hub_runs(hub: HubStack) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hub.cli", "users", "add", "skole-cli", "--role", "agency:school",
         "--data-dir", str(hub.settings.data_dir)],
        env=hub.env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    with hub.client(token) as c:
        assert c.get("/api/v1/whoami").json()["role"] == "agency:school"
        event = make_event("school")
        assert c.post("/api/v1/ingest/school", json=event).status_code == 202
    assert hub.wait_outcomes([event["event_id"]])[event["event_id"]]["status"] == "routed"


def test_demo_feeds_sample_data_through_every_delivery_mode_and_stops_cleanly(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Canonical events by HTTP ingest, and the native sample exports by HTTP, file drop and
    Kafka-native: every record of each reaches an outcome; the drop folder keeps being
    watched; Ctrl-C stops every process and port."""
    if request.config.getoption("--broker") != "embedded":
        pytest.skip("the demo always runs on the embedded broker")
    port = free_port()
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSP_HUB_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "demo", "--port", str(port), "--data-dir",
         str(data_dir)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops everything" in line:
                break
        output = "".join(lines)
        # The start-up summary: which sample went by which mode, and the hub's answer.
        native = {name: connector(name).parse(native_sample(name).read_bytes())
                  for name in NATIVE_SAMPLES}
        expected_rows = [("HTTP ingest", "canonical sample events", 44, 0)]
        mode_names = {"http": "HTTP connector", "file-drop": "file drop",
                      "kafka": "Kafka-native"}
        for name, mode in DEMO_DELIVERY.items():
            mapped = sum(isinstance(r, Mapped) for r in native[name])
            expected_rows.append((mode_names[mode], NATIVE_SAMPLES[name], mapped,
                                  len(native[name]) - mapped))
        for mode, sample, accepted, refused in expected_rows:
            assert re.search(rf"^  {mode}\s+{re.escape(sample)}\s+{accepted}\s+{refused}\s",
                             output, re.MULTILINE), (mode, sample, output)
        assert set(DEMO_DELIVERY.values()) == set(mode_names)  # all three delivery modes
        drop = data_dir / "drop"
        assert f"{drop / 'school-absence'}{os.sep}" in output
        tokens = dict(re.findall(r"^  (demo-\S+)\s+\S+\s+(ssp_\S+)$", output, re.MULTILINE))
        assert {"demo-konsulent", "demo-sikkerhed"} <= set(tokens), output

        # Every mapped record of every native sample, whichever mode carried it, has a final
        # outcome (signals: rejected until aggregation is built, then aggregated).
        ring = FileKeyProvider(Settings(data_dir=data_dir).resolved_key_file,
                               create=False).load()
        ns = keyed_namespace(ring.connector_id_secret())
        ids = {name: [str(r.event.event_id) for r in
                      connector(name, id_namespace=ns).parse(native_sample(name).read_bytes())
                      if isinstance(r, Mapped)] for name in NATIVE_SAMPLES}
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {tokens['demo-sikkerhed']}"}) as c:
            for name in NATIVE_SAMPLES:
                statuses = _final_outcomes(c, ids[name], deadline)
                assert set(statuses.values()) <= {"routed", "rejected", "aggregated"}, name
                if name != "school-absence":
                    assert "routed" in statuses.values(), name
        assert (drop / "school-absence" / "done" / NATIVE_SAMPLES["school-absence"]).exists()
        assert (drop / "school-absence" / "done"
                / f"{NATIVE_SAMPLES['school-absence']}.rejected").exists()

        agencies: set[str] = set()
        with httpx.Client(base_url=base, timeout=30, headers={
                "Authorization": f"Bearer {tokens['demo-konsulent']}"}) as c:
            while time.monotonic() < deadline and agencies != {"school", "social", "police"}:
                for q in c.get("/api/v1/queues").json()["items"]:
                    items = c.get(f"/api/v1/queues/{q['queue']}/concerns").json()["items"]
                    agencies |= {i["source"]["agency"] for i in items}
                time.sleep(0.5)
        assert agencies == {"school", "social", "police"}

        # Poison pills in one folder (watched before school-concern's) stop nothing (issue 13
        # §3): a file named done, a symlink to /etc/passwd.
        police = drop / "police-doegnrapport"
        (police / "done").write_bytes(b"where the folder belongs")
        (police / "passwd").symlink_to("/etc/passwd")
        # The watcher keeps watching: an export dropped now is sent and moved to done/.
        later = drop / "school-concern" / "dropped-later.json"
        later.write_bytes(native_sample("school-concern").read_bytes())
        while time.monotonic() < deadline and later.exists():
            time.sleep(0.2)
        assert (drop / "school-concern" / "done" / later.name).exists()
        assert (police / "done").is_dir()
        assert sorted(p.name for p in (police / "rejected").iterdir()) == [
            "done", "done.rejected", "passwd", "passwd.rejected"]
        with httpx.Client(base_url=base, timeout=30) as c:
            drops = {d["connector"]: d for d in c.get("/readyz").json()["drop_folders"]}
        assert drops["police-doegnrapport"]["rejected"] == 2
        assert drops["school-concern"]["last_delivery_at"] is not None

        people = [event["subject"] for _agency, event in sample_events()]
        people += [r.event.subject.model_dump() for results in native.values()
                   for r in results if isinstance(r, Mapped)]
        for subject in people:
            assert isinstance(subject, dict)
            assert subject["cpr"] not in output
            assert (subject.get("name") or "§") not in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert proc.returncode == 0, rest
    assert "[file drop school-concern] sent 1 file(s): 7 records accepted, 3 refused" in rest
    assert "stopped." in rest
    assert _processes_mentioning(str(data_dir)) == []
    broker = re.search(r"broker\s+127\.0\.0\.1:(\d+)", "".join(lines))
    assert broker is not None
    for p in (int(broker.group(1)), port):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", p), timeout=1).close()


def _final_outcomes(client: httpx.Client, event_ids: list[str], deadline: float
                    ) -> dict[str, str]:
    """Poll ``GET /api/v1/events/{id}`` until no event is pending; their statuses."""
    statuses: dict[str, str] = {}
    pending = list(event_ids)
    while pending and time.monotonic() < deadline:
        for event_id in list(pending):
            resp = client.get(f"/api/v1/events/{event_id}")
            if resp.status_code == 200 and resp.json()["status"] != "pending":
                statuses[event_id] = resp.json()["status"]
                pending.remove(event_id)
        if pending:
            time.sleep(0.5)
    assert not pending, f"{len(pending)} of {len(event_ids)} events have no outcome"
    return statuses


def _processes_mentioning(marker: str) -> list[int]:
    """Pids whose command line or environment names ``marker`` (the demo's data dir)."""
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            blob = (proc_dir / "cmdline").read_bytes() + (proc_dir / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(int(proc_dir.name))
    return found
