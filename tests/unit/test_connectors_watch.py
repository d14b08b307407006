"""The file-drop watcher against real files (issue 13 §2, §3, §11): no symlink, FIFO or hard
link is read or written through, a bad file is rejected once and the others go on, delivered
files are private and expire, and the state is written atomically and fsync'd.

The hub here is a stand-in (``httpx.MockTransport``) that maps the body with the real
connector, as ``POST /api/v1/connectors/{connector}`` does; the integration tests
(``tests/integration/test_connectors_filedrop.py``) repeat the main cases against the real hub.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import Mapped
from connectors.registry import connector
from connectors.watch import (
    STATE_FILE,
    STATUS_FILE,
    FileDropWatcher,
    NotAllowed,
    UnsafeFolder,
    drop_status,
)
from hub.sample_data import native_sample

NAME = "police-doegnrapport"
GOOD = native_sample(NAME).read_bytes()
GOOD_IDS = {str(r.event.event_id) for r in connector(NAME).parse(GOOD) if isinstance(r, Mapped)}


class FakeHub:
    """Answers like the connector endpoint; records every body it was sent."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.status = 200
        self.during: Callable[[], None] | None = None  # runs while a request is in flight

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.bodies.append(body)
        if self.during is not None:
            self.during()
        if self.status != 200:
            return httpx.Response(self.status, json={"detail": "no"})
        results = connector(NAME).parse(body)
        accepted = [{"line": r.line, "event_id": str(r.event.event_id)}
                    for r in results if isinstance(r, Mapped)]
        refused = [{"line": r.line, "field": r.field, "reason": r.reason}
                   for r in results if not isinstance(r, Mapped)]
        return httpx.Response(200, json={"connector": NAME, "accepted": accepted,
                                         "refused": refused})

    def accepted_ids(self) -> set[str]:
        return {str(r.event.event_id) for body in self.bodies
                for r in connector(NAME).parse(body) if isinstance(r, Mapped)}


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    d = tmp_path / "drop"
    d.mkdir()
    return d


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "hub-data" / "watch" / NAME


def _watcher(drop: Path, state_dir: Path, hub: FakeHub, **kw: Any) -> FileDropWatcher:
    kw.setdefault("settle_s", 0.0)
    return FileDropWatcher(drop, NAME, "http://hub.invalid", "token", state_dir=state_dir,
                           transport=httpx.MockTransport(hub), **kw)


def _outside(tmp_path: Path, data: bytes = b"outside, untouched\n") -> Path:
    victim = tmp_path / "elsewhere" / "victim.txt"
    victim.parent.mkdir(exist_ok=True)
    victim.write_bytes(data)
    return victim


def _reason(report: Path) -> str:
    rows = report.read_text("utf-8").splitlines()
    assert rows[0] == "line\tfield\treason"
    assert len(rows) == 2
    line, fld, reason = rows[1].split("\t")
    assert (line, fld) == ("0", "<file>")
    return reason.split(":", 1)[0]


# -- §2: no symlink tricks ---------------------------------------------------------------
def test_a_symlink_to_a_file_outside_is_never_read_and_its_records_never_sent(
        tmp_path: Path, drop: Path, state_dir: Path, hub: FakeHub) -> None:
    outside = _outside(tmp_path, GOOD)  # a valid export the agency may not deliver from
    (drop / "rapport.jsonl").symlink_to(outside)

    report = _watcher(drop, state_dir, hub).run_once()

    assert hub.bodies == []  # not sent: no record of it reached the hub
    assert report.sent == 0
    assert report.rejected == 1
    moved = drop / "rejected" / "rapport.jsonl"
    assert moved.is_symlink()
    assert os.readlink(moved) == str(outside)
    assert _reason(drop / "rejected" / "rapport.jsonl.rejected") == "not_a_regular_file"
    assert outside.read_bytes() == GOOD
    assert not (drop / "rapport.jsonl").exists()


def test_a_symlink_to_etc_passwd_is_not_sent(drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "passwd").symlink_to("/etc/passwd")
    (drop / "good.jsonl").write_bytes(GOOD)

    report = _watcher(drop, state_dir, hub).run_once()

    assert hub.bodies == [GOOD]  # the good file went; the link did not
    assert report.rejected == 1
    assert report.sent == 1
    assert _reason(drop / "rejected" / "passwd.rejected") == "not_a_regular_file"
    assert (drop / "done" / "good.jsonl").read_bytes() == GOOD


def test_a_fifo_neither_hangs_the_watcher_nor_is_sent(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    os.mkfifo(drop / "export.jsonl")
    (drop / "good.jsonl").write_bytes(GOOD)
    watcher = _watcher(drop, state_dir, hub)
    reports = []
    thread = threading.Thread(target=lambda: reports.append(watcher.run_once()), daemon=True)
    thread.start()
    thread.join(20)

    assert not thread.is_alive(), "the watcher hangs on a FIFO"
    assert reports[0].rejected == 1
    assert stat.S_ISFIFO(os.lstat(drop / "rejected" / "export.jsonl").st_mode)
    assert _reason(drop / "rejected" / "export.jsonl.rejected") == "not_a_regular_file"
    assert hub.bodies == [GOOD]


def test_a_hard_link_is_not_sent(tmp_path: Path, drop: Path, state_dir: Path,
                                 hub: FakeHub) -> None:
    outside = _outside(tmp_path, GOOD)
    os.link(outside, drop / "linked.jsonl")

    _watcher(drop, state_dir, hub).run_once()

    assert hub.bodies == []
    assert _reason(drop / "rejected" / "linked.jsonl.rejected") == "hard_link"
    assert outside.read_bytes() == GOOD


def test_planted_symlinks_at_the_report_and_old_state_locations_write_nothing_outside(
        tmp_path: Path, drop: Path, state_dir: Path, hub: FakeHub) -> None:
    victim = _outside(tmp_path)
    (drop / "done").mkdir()
    (drop / "done" / "rapport.jsonl.rejected").symlink_to(victim)  # where the report goes
    (drop / ".ssp-hub-watch.json").symlink_to(victim)  # where the state used to be
    (drop / "rejected").mkdir()
    (drop / "rejected" / "passwd.rejected").symlink_to(victim)
    (drop / "rapport.jsonl").write_bytes(GOOD)
    (drop / "passwd").symlink_to("/etc/passwd")

    report = _watcher(drop, state_dir, hub).run_once()

    assert report.sent == 1
    assert report.rejected == 1
    assert victim.read_bytes() == b"outside, untouched\n"
    # The report went beside the delivered file under a name that was free, as a real file.
    delivered = [p for p in (drop / "done").iterdir() if p.read_bytes() == GOOD]
    assert len(delivered) == 1
    written = delivered[0].with_name(delivered[0].name + ".rejected")
    assert not written.is_symlink()
    assert written.read_text("utf-8").startswith("line\t")
    assert (state_dir / STATE_FILE).is_file()  # the state is in the hub's own directory
    assert stat.S_IMODE(os.stat(state_dir).st_mode) == 0o700


def test_a_planted_symlink_in_the_state_directory_is_replaced_not_written_through(
        tmp_path: Path, drop: Path, state_dir: Path, hub: FakeHub) -> None:
    victim = _outside(tmp_path)
    state_dir.mkdir(parents=True)
    (state_dir / STATE_FILE).symlink_to(victim)
    (state_dir / STATUS_FILE).symlink_to(victim)
    (drop / "rapport.jsonl").write_bytes(GOOD)

    _watcher(drop, state_dir, hub).run_once()

    assert victim.read_bytes() == b"outside, untouched\n"
    assert not (state_dir / STATE_FILE).is_symlink()
    assert json.loads((state_dir / STATE_FILE).read_text("utf-8"))["done"]


def test_a_state_directory_that_is_a_symlink_or_a_file_is_refused(
        tmp_path: Path, drop: Path, hub: FakeHub) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    with pytest.raises(UnsafeFolder, match="symlink"):
        _watcher(drop, tmp_path / "link", hub)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UnsafeFolder, match="not a directory"):
        _watcher(drop, tmp_path / "file", hub)
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_done_folder_is_set_aside_and_nothing_is_moved_through_it(
        tmp_path: Path, drop: Path, state_dir: Path, hub: FakeHub) -> None:
    outside = tmp_path / "outside-dir"
    outside.mkdir()
    (drop / "done").symlink_to(outside)
    (drop / "rapport.jsonl").write_bytes(GOOD)

    report = _watcher(drop, state_dir, hub).run_once()

    assert list(outside.iterdir()) == []
    assert (drop / "done").is_dir()
    assert not (drop / "done").is_symlink()
    assert (drop / "done" / "rapport.jsonl").read_bytes() == GOOD
    assert (drop / "rejected" / "done").is_symlink()
    assert _reason(drop / "rejected" / "done.rejected") == "blocks_folder"
    assert report.sent == 1


# -- §3: poison pills ------------------------------------------------------------------
def test_poison_pills_are_rejected_once_and_every_other_file_goes_on(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "done").write_bytes(b"a file where the folder belongs")
    (drop / "rejected").write_bytes(b"and another")
    (drop / "a-huge.jsonl").write_bytes(GOOD * 4)  # larger than max_bytes
    (drop / "b-garbage.jsonl").write_bytes(b"\x00\xff\xfe not an export \x80")
    (drop / "c-good.jsonl").write_bytes(GOOD)
    watcher = _watcher(drop, state_dir, hub, max_bytes=len(GOOD) * 2)

    first = watcher.run_once()

    assert first.sent == 2  # garbage and good; the huge file was never sent (by its size)
    assert all(len(b) <= len(GOOD) * 2 for b in hub.bodies)
    assert hub.accepted_ids() == GOOD_IDS
    assert (drop / "done" / "c-good.jsonl").read_bytes() == GOOD
    rejected = drop / "rejected"
    assert {p.name for p in rejected.iterdir()} == {
        "done", "done.rejected", "rejected", "rejected.rejected", "a-huge.jsonl",
        "a-huge.jsonl.rejected", "b-garbage.jsonl", "b-garbage.jsonl.rejected"}
    assert _reason(rejected / "done.rejected") == "blocks_folder"
    assert _reason(rejected / "rejected.rejected") == "blocks_folder"
    assert _reason(rejected / "a-huge.jsonl.rejected") == "too_large"
    assert _reason(rejected / "b-garbage.jsonl.rejected") == "unreadable"
    assert (rejected / "done").read_bytes() == b"a file where the folder belongs"

    sent = len(hub.bodies)  # nothing is sent again, by this watcher or after a restart
    assert not _watcher(drop, state_dir, hub).run_once().anything
    assert len(hub.bodies) == sent
    status = json.loads((state_dir / STATUS_FILE).read_text("utf-8"))
    assert status["rejected"] == 4
    assert status["rejected_total"] == 4
    assert status["last_error"] in {"blocks_folder", "too_large", "unreadable"}
    assert status["last_delivery_at"] is not None
    assert status["waiting"] == 0


def test_a_file_the_hub_refuses_as_a_whole_is_rejected_once_not_resent_forever(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    (drop / "b.jsonl").write_bytes(GOOD + b"\n")
    hub.status = 413
    watcher = _watcher(drop, state_dir, hub)

    report = watcher.run_once()

    assert report.rejected == 2
    assert len(hub.bodies) == 2
    assert "HTTP 413" in (drop / "rejected" / "a.jsonl.rejected").read_text("utf-8")
    assert _reason(drop / "rejected" / "b.jsonl.rejected") == "refused_by_hub"
    watcher.run_once()
    assert len(hub.bodies) == 2


def test_a_refused_token_stops_the_pass_and_leaves_the_file(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    hub.status = 401
    with pytest.raises(NotAllowed):
        _watcher(drop, state_dir, hub).run_once()
    assert (drop / "a.jsonl").read_bytes() == GOOD
    assert not (drop / "rejected").exists()
    assert json.loads((state_dir / STATUS_FILE).read_text())["last_error"] == "hub_refused_token"


def test_a_file_that_vanishes_while_it_is_sent_is_done_and_nothing_crashes(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    (drop / "b.jsonl").write_bytes(GOOD.replace(b"0800-", b"0900-"))
    hub.during = lambda: (drop / "a.jsonl").unlink(missing_ok=True)

    report = _watcher(drop, state_dir, hub).run_once()

    assert report.sent == 2
    assert report.errors == []
    assert not (drop / "a.jsonl").exists()
    assert not (drop / "done" / "a.jsonl").exists()
    assert (drop / "done" / "b.jsonl").exists()


def test_a_file_replaced_while_it_is_sent_is_not_moved_unsent(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    other = GOOD.replace(b"0800-", b"0700-")
    (drop / "a.jsonl").write_bytes(GOOD)

    def replace() -> None:
        (drop / "new.part").write_bytes(other)
        os.replace(drop / "new.part", drop / "a.jsonl")
        hub.during = None
    hub.during = replace
    watcher = _watcher(drop, state_dir, hub)
    watcher.run_once()

    assert (drop / "a.jsonl").read_bytes() == other  # left for the next pass
    watcher.run_once()
    assert hub.bodies == [GOOD, other]


def test_an_unreadable_state_file_does_not_stop_the_watcher(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / STATE_FILE).write_bytes(b'{"done": {"abc": ')  # cut off
    (drop / "a.jsonl").write_bytes(GOOD)

    report = _watcher(drop, state_dir, hub).run_once()

    assert report.sent == 1
    assert any(p.name.startswith(f"{STATE_FILE}.unreadable-") for p in state_dir.iterdir())


def test_a_file_not_yet_settled_is_counted_not_sent(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    report = _watcher(drop, state_dir, hub, settle_s=3600).run_once()
    assert report.unsettled == 1
    assert hub.bodies == []
    assert json.loads((state_dir / STATUS_FILE).read_text())["waiting"] == 1


def test_an_unreachable_hub_is_named_and_the_file_waits(
        drop: Path, state_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (drop / "a.jsonl").write_bytes(GOOD)
    (drop / "b.jsonl").write_bytes(GOOD + b"\n")
    url = f"http://127.0.0.1:{port}"
    watcher = FileDropWatcher(drop, NAME, url, "token", state_dir=state_dir, settle_s=0)

    report = watcher.run_once()

    assert report.unavailable is not None
    assert url in report.unavailable
    assert report.waiting == ["a.jsonl", "b.jsonl"]
    assert (drop / "a.jsonl").exists()
    assert not (drop / "done").exists()
    status = json.loads((state_dir / STATUS_FILE).read_text())
    assert status["last_error"] == "hub_unavailable"
    assert status["waiting"] == 2


# -- §11: delivered files are private, expire, and the state is durable -----------------
def test_delivered_files_are_private_and_kept_only_for_the_retention(
        drop: Path, state_dir: Path, hub: FakeHub) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    os.chmod(drop / "a.jsonl", 0o644)
    _watcher(drop, state_dir, hub).run_once()  # the default retention: 7 days

    assert stat.S_IMODE(os.stat(drop / "done" / "a.jsonl").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(drop / "done").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(drop / "done" / "a.jsonl.rejected").st_mode) == 0o600

    (drop / "b.jsonl").write_bytes(b"\x00garbage")
    report = _watcher(drop, state_dir, hub, retention_s=0).run_once()
    assert report.expired == 2  # a.jsonl from done/, b.jsonl from rejected/
    assert list((drop / "done").iterdir()) == []
    assert list((drop / "rejected").iterdir()) == []


def test_the_state_file_is_fsynced_before_the_file_is_moved(
        drop: Path, state_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    real_rename = os.rename

    def rename(src: str, dst: str, **kw: Any) -> None:
        synced.append(f"rename {src}")
        real_rename(src, dst, **kw)

    monkeypatch.setattr(os, "fsync", spy)
    monkeypatch.setattr(os, "rename", rename)
    (drop / "a.jsonl").write_bytes(GOOD)
    _watcher(drop, state_dir, hub).run_once()

    state_tmp = next(i for i, p in enumerate(synced)
                     if p.startswith(str(state_dir / f".{STATE_FILE}.")))  # the file's data
    state_rename = next(i for i, p in enumerate(synced) if p.startswith(f"rename .{STATE_FILE}"))
    state_dir_sync = next(i for i, p in enumerate(synced)
                          if i > state_rename and p == str(state_dir))  # and its directory
    move = synced.index("rename a.jsonl")
    assert state_tmp < state_rename < state_dir_sync < move


def test_drop_status_reports_counts_and_codes_only(
        tmp_path: Path, drop: Path, hub: FakeHub) -> None:
    root = tmp_path / "watch"
    (drop / "0102104321-secret.jsonl").symlink_to("/etc/passwd")
    _watcher(drop, root / f"{NAME}-x", hub).run_once()
    (root / "stray").write_bytes(b"not a folder")  # ignored
    (root / "empty").mkdir()

    [status] = drop_status(root)

    assert status["connector"] == NAME
    assert status["rejected"] == 1
    assert status["last_error"] == "not_a_regular_file"
    assert "0102104321" not in json.dumps(status)
    assert str(drop) not in json.dumps(status)


def test_a_refused_file_that_cannot_be_moved_is_not_sent_again(
        drop: Path, state_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """If rejected/ cannot take the file (a full disk, a read-only folder), the next pass
    moves it without sending it again: the hub's answer is remembered until it has moved."""
    (drop / "garbage.jsonl").write_bytes(b"\x00 not an export")
    real_rename = os.rename

    def failing(src: str, dst: str, **kw: Any) -> None:
        if src == "garbage.jsonl":
            raise OSError(28, "No space left on device", src)
        real_rename(src, dst, **kw)

    monkeypatch.setattr(os, "rename", failing)
    watcher = _watcher(drop, state_dir, hub)
    first = watcher.run_once()
    assert first.errors[-1] == "io_error_enospc"
    assert (drop / "garbage.jsonl").exists()
    assert len(hub.bodies) == 1

    monkeypatch.setattr(os, "rename", real_rename)
    watcher.run_once()

    assert len(hub.bodies) == 1  # not sent again
    assert _reason(drop / "rejected" / "garbage.jsonl.rejected") == "unreadable"
    assert (drop / "rejected" / "garbage.jsonl").exists()
    assert json.loads((state_dir / STATE_FILE).read_text())["rejected"] == {}


def test_a_delivered_file_that_cannot_be_moved_is_moved_later_beside_its_report(
        drop: Path, state_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    (drop / "a.jsonl").write_bytes(GOOD)
    real_rename = os.rename

    def failing(src: str, dst: str, **kw: Any) -> None:
        if src == "a.jsonl":
            raise OSError(28, "No space left on device", src)
        real_rename(src, dst, **kw)

    monkeypatch.setattr(os, "rename", failing)
    watcher = _watcher(drop, state_dir, hub)
    assert watcher.run_once().waiting == ["a.jsonl"]
    monkeypatch.setattr(os, "rename", real_rename)

    again = watcher.run_once()

    assert again.already_done == 1
    assert again.sent == 0
    assert len(hub.bodies) == 1
    assert (drop / "done" / "a.jsonl").read_bytes() == GOOD
    assert (drop / "done" / "a.jsonl.rejected").read_text("utf-8").startswith("line\t")
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["a.jsonl", "a.jsonl.rejected"]
