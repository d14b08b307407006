"""The file-drop connector (issue 5 §2): ``ssp-hub connector watch`` against the real hub."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.base import Mapped, keyed_namespace
from connectors.registry import connector
from hub.embedded import free_port
from hub.keys import FileKeyProvider
from hub.store import concerns
from tests.integration.hubstack import REPO, HubStack

pytestmark = pytest.mark.integration
SAMPLES = REPO / "connectors" / "samples"


def _watch(hub: HubStack, token: str, name: str, directory: Path, api: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {**hub.env, "SSP_HUB_CONNECTOR_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "connector", "watch", "--connector", name,
         str(directory), "--once", "--settle", "0", "--api", api or hub.api_url],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=300)


def _mapped(hub: HubStack, name: str, data: bytes) -> list[Mapped]:
    ring = FileKeyProvider(hub.settings.resolved_key_file, create=False).load()
    ns = keyed_namespace(ring.connector_id_secret())
    return [r for r in connector(name, id_namespace=ns).parse(data) if isinstance(r, Mapped)]


def test_a_dropped_export_is_sent_once_moved_to_done_with_a_rejected_report(
        hub: HubStack, tmp_path: Path) -> None:
    token = hub.principal("elevadm-drop", "agency:school")
    sample = SAMPLES / "elevfravaer-2026-03.csv"
    shutil.copy(sample, tmp_path / sample.name)

    run = _watch(hub, token, "school-absence", tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / sample.name).exists()
    assert (tmp_path / "done" / sample.name).read_bytes() == sample.read_bytes()
    report = (tmp_path / "done" / f"{sample.name}.rejected").read_text(encoding="utf-8")
    rows = report.splitlines()
    assert rows[0] == "line\tfield\treason"
    refused = [r for r in connector("school-absence").parse(sample.read_bytes())
               if not isinstance(r, Mapped)]
    assert [int(r.split("\t")[0]) for r in rows[1:]] == [r.line for r in refused]
    mapped = _mapped(hub, "school-absence", sample.read_bytes())
    for m in mapped:
        assert m.event.subject.cpr not in report
    hub.wait_outcomes([str(m.event.event_id) for m in mapped])

    shutil.copy(sample, tmp_path / "again.csv")  # the same export dropped a second time
    again = _watch(hub, token, "school-absence", tmp_path)
    assert again.returncode == 0
    assert "1 already done" in again.stdout
    assert (tmp_path / "done" / "again.csv").exists()


def test_a_crash_between_sending_and_moving_counts_every_record_once(
        hub: HubStack, tmp_path: Path) -> None:
    token = hub.principal("notater-drop", "agency:school")
    sample = SAMPLES / "bekymringsnotater.json"
    shutil.copy(sample, tmp_path / sample.name)
    with hub.client(token) as c:  # the watcher's send, then it "died" before moving the file
        first = c.post("/api/v1/connectors/school-concern", content=sample.read_bytes())
    assert first.status_code == 200
    ids = [a["event_id"] for a in first.json()["accepted"]]
    hub.wait_outcomes(ids)

    run = _watch(hub, token, "school-concern", tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "done" / sample.name).exists()
    rows = hub.wait_outcomes(ids)
    assert hub.store is not None
    with hub.store.engine.connect() as conn:
        got = collections.Counter(
            (r.event_id, r.queue) for r in conn.execute(
                sa.select(concerns.c.event_id, concerns.c.queue)
                .where(concerns.c.event_id.in_(ids))))
    routed = [i for i in ids if rows[i]["status"] == "routed"]
    assert routed
    assert {e for e, _ in got} == set(routed)
    assert max(got.values()) == 1


def test_while_the_hub_is_unreachable_the_file_stays(hub: HubStack, tmp_path: Path) -> None:
    token = hub.principal("politi-drop", "agency:police")
    sample = SAMPLES / "doegnrapport-2026-03-02.jsonl"
    shutil.copy(sample, tmp_path / sample.name)

    down = _watch(hub, token, "police-doegnrapport", tmp_path,
                  api=f"http://127.0.0.1:{free_port()}")

    assert down.returncode == 3
    assert "1 waiting" in down.stdout
    assert (tmp_path / sample.name).exists()
    assert not (tmp_path / "done").exists()

    up = _watch(hub, token, "police-doegnrapport", tmp_path)
    assert up.returncode == 0
    assert (tmp_path / "done" / sample.name).exists()
