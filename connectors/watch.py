"""The file-drop connector: ``ssp-hub connector watch --connector NAME DIR``.

An agency system (or an operator) drops its native export into ``DIR``. The watcher sends each
file whole to ``POST /api/v1/connectors/{connector}`` and, once the hub has answered for every
record, moves it to ``DIR/done/`` and writes the refused records (line, field, reason — never a
value) to ``DIR/done/<file>.rejected``. Nothing is lost and nothing counts twice:

* A file stays where it is until the hub has acknowledged all its records. A 503 or a network
  error is retried with exponential backoff (capped), the file untouched.
* Every record's event id is derived from the record itself, so sending a file again — after a
  crash between the hub's answer and the move, or the same export dropped twice — is answered
  "duplicate" per record and changes nothing in the hub.
* The watcher's state (``state.json``) remembers the SHA-256 of every file done, so a file
  dropped again with the same content is moved to ``done/`` without being sent.

The drop folder belongs to the agency, so nothing in it is trusted (issue 13):

* The state and a status file (``status.json``, read by the API's ``/readyz``) live in a
  directory the hub owns (``state_dir``, mode 0700, e.g. ``<data dir>/watch/<connector>-…``),
  never in the drop folder. Every file the watcher writes — state, status, reports — is written
  to a fresh temporary name (``O_CREAT|O_EXCL|O_NOFOLLOW``), fsync'd, renamed over the old one
  and its directory fsync'd: a planted symlink is replaced, never written through.
* A dropped file is opened relative to the drop folder's descriptor with ``O_NOFOLLOW`` and
  ``O_NONBLOCK`` (a FIFO cannot hang the watcher), and ``fstat`` of the open descriptor must
  show the same regular file that was listed, with one link. ``done/`` and ``rejected/`` are
  opened with ``O_DIRECTORY|O_NOFOLLOW`` and created 0700.
* A file the hub cannot take is a poison pill only for itself: it is moved to
  ``DIR/rejected/`` with ``<file>.rejected`` beside it (a reason code, never a value) and the
  other files go on. That covers a symlink, FIFO or device (``not_a_regular_file``), a hard
  link (``hard_link``), a file larger than ``max_bytes`` (``too_large``, decided by its size
  before it is read), a file the hub could not read as a whole (``unreadable``: not UTF-8,
  garbage, the wrong shape), a file the hub refuses as such (``refused_by_hub``, e.g. HTTP
  413), and a file or symlink named ``done`` or ``rejected`` where the folder should be
  (``blocks_folder``). A file that vanishes while it is read or sent is simply gone.
* Delivered files hold plaintext CPR numbers: they are made 0600 and, like rejected files,
  deleted ``retention_s`` after they were moved (``SSP_HUB_DROP_RETENTION_DAYS``, default 7;
  0 keeps none). They are kept that long only so an operator can look into a complaint about
  a delivery; the hub itself never reads them again.

Files are picked up when they have not changed for ``settle_s`` (a writer still copying one is
left alone). Files whose names start with ``.`` or end with ``.tmp``/``.part`` are ignored.

Why over HTTP rather than straight onto the broker: the API is where claims, encryption and the
agency's credential live; the watcher holds only the agency's token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STATE_FILE = "state.json"
STATUS_FILE = "status.json"
DONE, REJECTED = "done", "rejected"
IGNORED_SUFFIXES = (".tmp", ".part", ".rejected")
BLOCKED_PREFIX = ".ssp-hub-blocked-"  # a file that stood where done/ or rejected/ belongs
MAX_FILE_BYTES = 20 * 1024 * 1024  # the hub's default cap per request (SSP_HUB_MAX_CONNECTOR_BYTES)
DEFAULT_RETENTION_S = 7 * 24 * 3600.0
STATUS_EVERY_S = 60.0  # status.json is rewritten at least this often while nothing changes

# Reason codes (the report, the status file and the console name these; never a value).
REASONS = {
    "not_a_regular_file": "a symlink, FIFO or device, not a regular file; not read",
    "hard_link": "a regular file with more than one link (a hard link); not read",
    "too_large": "larger than the hub takes in one request; split the export; not read",
    "unreadable": "the hub could not read the file as a whole",
    "refused_by_hub": "the hub refused the file as a whole",
    "blocks_folder": "stood where the watcher's done/ or rejected/ folder belongs",
}

_O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class Unavailable(Exception):
    """The hub could not take the file now; try again later."""


class FileRefused(Exception):
    """The hub refused the file as a whole (e.g. 413): sending it again will not help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status


class NotAllowed(PermissionError):
    """The hub refused the token or the connector (401/403/404): no file will pass."""


class UnsafeFolder(Exception):
    """A folder the watcher must own is a symlink, a file or someone else's."""


@dataclass
class WatchReport:
    sent: int = 0
    already_done: int = 0
    accepted: int = 0
    refused: int = 0
    waiting: list[str] = field(default_factory=list)  # files kept for a retry
    unsettled: int = 0  # files still being written (younger than settle_s)
    rejected: int = 0  # files moved to rejected/ in this pass
    expired: int = 0  # files deleted from done/ and rejected/ after the retention
    unavailable: str | None = None  # why the hub could not be reached (names its address)
    errors: list[str] = field(default_factory=list)  # reason codes of this pass

    @property
    def anything(self) -> bool:
        return bool(self.sent or self.already_done or self.waiting or self.rejected
                    or self.unsettled or self.errors)


def private_dir(path: Path) -> Path:
    """``path`` as a directory this process owns, mode 0700: created if missing; refused (with
    :class:`UnsafeFolder`) if it is a symlink, not a directory, or another user's."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise UnsafeFolder(f"{path} is not a directory; the watcher keeps its state there") \
            from exc
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):  # a symlink (mkdir's exist_ok follows it)
        raise UnsafeFolder(f"{path} is a symlink; the watcher keeps its state only in a real "
                           "directory")
    if st.st_uid != os.geteuid():
        raise UnsafeFolder(f"{path} belongs to another user")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700, follow_symlinks=False)
    return path


def default_state_dir(watch_root: Path, connector: str, directory: Path) -> Path:
    """One state directory per connector and drop folder under ``watch_root``."""
    where = hashlib.sha256(str(directory.resolve()).encode("utf-8")).hexdigest()[:12]
    return watch_root / f"{connector}-{where}"


def atomic_write(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``name`` in the directory ``dir_fd`` by a new temporary file (never through an
    existing file or symlink), fsync, rename and fsync the directory. Mode 0600."""
    tmp = f".{name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def _read_file(dir_fd: int, name: str) -> bytes | None:
    """A regular file's content, never through a symlink; None if there is none."""
    try:
        fd = os.open(name, _O_FILE, dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink: not ours, not followed; replaced on write
            return None
        raise
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return fh.read()


@contextlib.contextmanager
def _opened_dir(path: Path, *, follow: bool = True) -> Iterator[int]:
    fd = os.open(path, (os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if follow else _O_DIR)
    try:
        yield fd
    finally:
        os.close(fd)


def _open_subdir(parent_fd: int, name: str, *, create: bool) -> int | None:
    """The directory ``name`` directly in ``parent_fd``, never through a symlink; created 0700
    if missing and ``create``, else None. A file or symlink there raises NotADirectoryError."""
    for _ in range(2):
        try:
            return os.open(name, _O_DIR, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                return None
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o700, dir_fd=parent_fd)
                os.fsync(parent_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise NotADirectoryError(errno.ENOTDIR, f"{name} is not a directory") from exc
            raise
    raise FileNotFoundError(errno.ENOENT, f"{name} vanished")


def _same(dir_fd: int, name: str, ident: tuple[int, int]) -> bool:
    """Is ``name`` still the file (device, inode) we listed or opened?"""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == ident


def _free_name(dir_fd: int, name: str, tag: str) -> str:
    """``name`` if nothing of that name (or its report) is in ``dir_fd``, else a tagged one."""
    stem, dot, suffix = name.rpartition(".")
    candidates = [name, f"{stem}.{tag}.{suffix}" if dot and stem else f"{name}.{tag}"]
    for candidate in [*candidates, f"{name}.{secrets.token_hex(6)}"]:
        if not any(_exists(dir_fd, n) for n in (candidate, candidate + ".rejected")):
            return candidate
    return f"{name}.{secrets.token_hex(8)}"


def _exists(dir_fd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _report(rows: list[tuple[int, str, str]]) -> bytes:
    lines = ["line\tfield\treason"] + [f"{line}\t{fld}\t{reason}" for line, fld, reason in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _io_code(exc: OSError) -> str:
    return f"io_error_{errno.errorcode.get(exc.errno or 0, 'unknown').lower()}"


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FileDropWatcher:
    def __init__(self, directory: Path, connector: str, api_url: str, token: str, *,
                 state_dir: Path, settle_s: float = 2.0, timeout_s: float = 120.0,
                 max_bytes: int = MAX_FILE_BYTES, retention_s: float = DEFAULT_RETENTION_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.dir = directory
        self.connector = connector
        self.done = directory / DONE
        self.rejected = directory / REJECTED
        self.state_dir = private_dir(state_dir)
        self.settle_s = settle_s
        self.max_bytes = max_bytes
        self.retention_s = retention_s
        self.api_url = api_url.rstrip("/")
        self.client = httpx.Client(base_url=self.api_url, timeout=timeout_s,
                                   headers={"Authorization": f"Bearer {token}"},
                                   transport=transport)
        self.status: dict[str, Any] = {"connector": connector, "waiting": 0, "rejected": 0,
                                       "rejected_total": 0, "last_error": None,
                                       "last_error_at": None, "last_delivery_at": None,
                                       "checked_at": None}
        self._status_written: tuple[dict[str, Any], float] | None = None
        with contextlib.suppress(ValueError, TypeError):
            previous = json.loads(self._read_private(STATUS_FILE) or b"{}")
            self.status.update({k: previous[k] for k in self.status if k in previous})

    def close(self) -> None:
        self.client.close()

    # -- the hub's own files (state, status) ----------------------------------------------
    def _read_private(self, name: str) -> bytes | None:
        with _opened_dir(self.state_dir, follow=False) as fd:
            return _read_file(fd, name)

    def _write_private(self, name: str, doc: dict[str, Any]) -> None:
        with _opened_dir(self.state_dir, follow=False) as fd:
            atomic_write(fd, name, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))

    def _state(self) -> dict[str, Any]:
        raw = self._read_private(STATE_FILE)
        if raw is None:
            return {"done": {}}
        try:
            doc = json.loads(raw)
            if isinstance(doc, dict) and isinstance(doc.get("done"), dict):
                return doc
        except ValueError:
            pass
        # Unreadable (it is fsync'd, so only a disk fault or a hand edit does this): keep it
        # aside and start afresh. Nothing counts twice: a file sent again is all duplicates.
        with _opened_dir(self.state_dir, follow=False) as fd:
            os.rename(STATE_FILE, f"{STATE_FILE}.unreadable-{int(time.time())}",
                      src_dir_fd=fd, dst_dir_fd=fd)
        return {"done": {}}

    def _save(self, state: dict[str, Any]) -> None:
        self._write_private(STATE_FILE, state)

    def done_entry(self, digest: str) -> dict[str, Any] | None:
        """What the watcher remembers of a file with this SHA-256, if it delivered one."""
        entry: dict[str, Any] | None = self._state()["done"].get(digest)
        return entry

    # -- the hub --------------------------------------------------------------------------
    def send(self, data: bytes) -> dict[str, Any]:
        try:
            response = self.client.post(f"/api/v1/connectors/{self.connector}", content=data)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach the hub at {self.api_url} "
                              f"({type(exc).__name__})") from exc
        if response.status_code in (429, 502, 503, 504):
            raise Unavailable(f"the hub at {self.api_url} answered HTTP {response.status_code}")
        detail = ""
        if response.status_code != 200:
            with contextlib.suppress(ValueError, AttributeError):
                detail = str(response.json().get("detail", ""))
        if response.status_code in (401, 403, 404):
            # The token or the connector name is wrong: no file will pass; the operator must
            # act. The file stays.
            raise NotAllowed(f"HTTP {response.status_code}: {detail}")
        if response.status_code != 200:
            raise FileRefused(response.status_code, detail)  # this file: 400, 413, 415, 422
        answer: dict[str, Any] = response.json()
        return answer

    # -- one pass -------------------------------------------------------------------------
    def _scan(self, drop: int, report: WatchReport, now: float
              ) -> list[tuple[str, os.stat_result]]:
        ready = []
        with os.scandir(drop) as entries:
            names = sorted(e.name for e in entries)
        for name in names:
            try:
                st = os.stat(name, dir_fd=drop, follow_symlinks=False)
                if self._look(drop, name, st, report, now):
                    ready.append((name, st))
            except FileNotFoundError:
                continue  # gone since the listing
            except OSError as exc:  # this entry only
                report.errors.append(_io_code(exc))
        return ready

    def _look(self, drop: int, name: str, st: os.stat_result, report: WatchReport,
              now: float) -> bool:
        """Is ``name`` a settled file to deliver? Sets aside what blocks done/ or rejected/ and
        rejects what is not a regular file."""
        ident = (st.st_dev, st.st_ino)
        if name.startswith(BLOCKED_PREFIX):  # a crash left it aside: finish its rejection
            self._reject(drop, name, ident, "blocks_folder", report,
                         as_name=name.removeprefix(BLOCKED_PREFIX).split(".", 1)[0])
            return False
        if name.startswith(".") or name.endswith(IGNORED_SUFFIXES):
            return False
        if name in (DONE, REJECTED):
            if not stat.S_ISDIR(st.st_mode):
                self._unblock(drop, name, report)
            return False
        if stat.S_ISDIR(st.st_mode):
            return False  # a folder of the agency's own: not an export
        if not stat.S_ISREG(st.st_mode):
            self._reject(drop, name, ident, "not_a_regular_file", report)
            return False
        if now - st.st_mtime < self.settle_s:
            report.unsettled += 1  # still being written
            return False
        return True

    def run_once(self) -> WatchReport:
        report = WatchReport()
        try:
            state = self._state()
            with _opened_dir(self.dir) as drop:
                ready = self._scan(drop, report, time.time())
                for i, (name, st) in enumerate(ready):
                    try:
                        self._deliver(drop, name, st, state, report)
                    except Unavailable as exc:
                        report.unavailable = str(exc)
                        report.waiting += [n for n, _ in ready[i:]]  # no use trying the rest
                        report.errors.append("hub_unavailable")
                        break
                    except NotAllowed:
                        raise
                    except OSError as exc:  # this file only; it stays for the next pass
                        report.waiting.append(name)
                        report.errors.append(_io_code(exc))
                self._expire(drop, report)
                self.status["rejected"] = self._count_rejected(drop)
        except NotAllowed:
            report.errors.append("hub_refused_token")
            self._update_status(report)
            raise
        except OSError:
            report.errors.append("folder_io_error")  # the drop folder itself is gone or broken
        self._update_status(report)
        return report

    def _deliver(self, drop: int, name: str, listed: os.stat_result, state: dict[str, Any],
                 report: WatchReport) -> None:
        ident = (listed.st_dev, listed.st_ino)
        try:
            fd = os.open(name, _O_FILE, dir_fd=drop)
        except FileNotFoundError:
            return  # gone since the listing
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # replaced by a symlink since the listing
                st = os.stat(name, dir_fd=drop, follow_symlinks=False)
                self._reject(drop, name, (st.st_dev, st.st_ino), "not_a_regular_file", report)
                return
            raise
        with os.fdopen(fd, "rb") as fh:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != ident:
                report.unsettled += 1  # replaced since the listing: look again next pass
                return
            if not stat.S_ISREG(opened.st_mode):
                self._reject(drop, name, ident, "not_a_regular_file", report)
                return
            if opened.st_nlink != 1:
                self._reject(drop, name, ident, "hard_link", report)
                return
            if opened.st_size > self.max_bytes:
                self._reject(drop, name, ident, "too_large", report)  # by its size, unread
                return
            data = fh.read(self.max_bytes + 1)
            if len(data) > self.max_bytes:
                self._reject(drop, name, ident, "too_large", report)
                return
            after = os.fstat(fd)
            if after.st_size != len(data) or after.st_mtime_ns != opened.st_mtime_ns:
                report.unsettled += 1  # written to while we read it
                return
            digest = hashlib.sha256(data).hexdigest()
            if digest in state["done"]:
                self._finish(drop, name, fd, ident, digest, None, state)
                report.already_done += 1
                return
            earlier = state.setdefault("rejected", {}).get(digest)
            if earlier is not None:  # the hub refused it, but it could not be moved: not again
                self._reject(drop, name, ident, earlier["code"], report,
                             detail=earlier["detail"], remembered=(digest, state))
                return
            try:
                answer = self.send(data)
            except FileRefused as exc:
                self._reject(drop, name, ident, "refused_by_hub", report,
                             detail=f"HTTP {exc.status}", remembered=(digest, state))
                return
            report.sent += 1
            refused = answer["refused"]
            if not answer["accepted"] and any(r["line"] == 0 for r in refused):
                reason = next(str(r["reason"]) for r in refused if r["line"] == 0)
                self._reject(drop, name, ident, "unreadable", report, detail=reason,
                             remembered=(digest, state))
                return
            report.accepted += len(answer["accepted"])
            report.refused += len(refused)
            self._finish(drop, name, fd, ident, digest, answer, state)
            self.status["last_delivery_at"] = _now_iso()

    def _finish(self, drop: int, name: str, fd: int, ident: tuple[int, int], digest: str,
                answer: dict[str, Any] | None, state: dict[str, Any]) -> None:
        with contextlib.suppress(PermissionError):  # the agency's file: we may not chmod it
            os.fchmod(fd, 0o600)  # it holds plaintext CPR numbers (done/ is 0700 as well)
        done = _open_subdir(drop, DONE, create=True)
        assert done is not None
        try:
            earlier = state["done"].get(digest)
            if answer is None and earlier is not None and earlier.get("file") == name \
                    and not _exists(done, earlier["moved_to"]):
                target = earlier["moved_to"]  # a move that failed or crashed: its report waits
            else:
                target = _free_name(done, name, digest[:12])
            if answer is not None and answer["refused"]:
                atomic_write(done, target + ".rejected", _report(
                    [(r["line"], r["field"], r["reason"]) for r in answer["refused"]]))
            # Remember first, move second: a crash in between re-finds the file, sees it done
            # by its hash and only moves it.
            state["done"][digest] = {"file": name, "moved_to": target, "at": _now_iso(),
                                     "accepted": len(answer["accepted"]) if answer else None,
                                     "refused": len(answer["refused"]) if answer else None}
            self._save(state)
            if _same(drop, name, ident):  # not a new file put there meanwhile
                with contextlib.suppress(FileNotFoundError):  # vanished meanwhile: it is done
                    os.rename(name, target, src_dir_fd=drop, dst_dir_fd=done)
                    os.fsync(done)
                    os.fsync(drop)
        finally:
            os.close(done)

    def _reject(self, drop: int, name: str, ident: tuple[int, int], code: str,
                report: WatchReport, *, detail: str = "", as_name: str | None = None,
                remembered: tuple[str, dict[str, Any]] | None = None) -> None:
        """Move ``name`` (the file listed as ``ident``, never followed) to rejected/ with a
        report beside it. The report says why, by code; it holds no value from the file.
        ``remembered``: (SHA-256, state) of a file the hub refused, kept in the state until it
        has moved, so that a move that fails is retried without sending the file again."""
        if remembered is not None:
            digest, state = remembered
            state.setdefault("rejected", {})[digest] = {"code": code, "detail": detail}
            self._save(state)
        report.errors.append(code)
        self.status["rejected_total"] = int(self.status.get("rejected_total") or 0) + 1
        reason = f"{code}: {REASONS[code]}" + (f" ({detail})" if detail else "")
        try:
            rejected = _open_subdir(drop, REJECTED, create=True)
        except NotADirectoryError:
            self._unblock(drop, REJECTED, report)
            rejected = _open_subdir(drop, REJECTED, create=True)
        assert rejected is not None
        try:
            target = _free_name(rejected, as_name or name, secrets.token_hex(6))
            atomic_write(rejected, target + ".rejected", _report([(0, "<file>", reason)]))
            if _same(drop, name, ident):
                try:
                    os.rename(name, target, src_dir_fd=drop, dst_dir_fd=rejected)
                except FileNotFoundError:
                    pass
                except OSError:  # not moved: no report without its file; the next pass retries
                    with contextlib.suppress(OSError):
                        os.unlink(target + ".rejected", dir_fd=rejected)
                    raise
                os.fsync(rejected)
                os.fsync(drop)
        finally:
            os.close(rejected)
        if remembered is not None:
            digest, state = remembered
            del state["rejected"][digest]
            self._save(state)
        report.rejected += 1

    def _unblock(self, drop: int, name: str, report: WatchReport) -> None:
        """A file, symlink or FIFO named ``done`` or ``rejected`` stands where the watcher's
        folder belongs: set it aside (a hidden name the scan leaves alone), make the folder,
        and reject it like any other bad file."""
        aside = f"{BLOCKED_PREFIX}{name}.{secrets.token_hex(6)}"
        try:
            os.rename(name, aside, src_dir_fd=drop, dst_dir_fd=drop)
        except FileNotFoundError:
            return
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o700, dir_fd=drop)
        os.fsync(drop)
        st = os.stat(aside, dir_fd=drop, follow_symlinks=False)
        self._reject(drop, aside, (st.st_dev, st.st_ino), "blocks_folder", report, as_name=name)

    # -- retention and status ---------------------------------------------------------------
    def _expire(self, drop: int, report: WatchReport) -> None:
        """Delete what done/ and rejected/ hold longer than the retention (by the time it was
        moved there: a rename or chmod sets the inode's change time)."""
        for folder in (DONE, REJECTED):
            try:
                fd = _open_subdir(drop, folder, create=False)
            except NotADirectoryError:
                continue  # the next pass sets it aside
            if fd is None:
                continue
            try:
                now = time.time()
                for name in os.listdir(fd):
                    with contextlib.suppress(FileNotFoundError):
                        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                        if not stat.S_ISDIR(st.st_mode) and now - st.st_ctime >= self.retention_s:
                            os.unlink(name, dir_fd=fd)  # unlink never follows a symlink
                            report.expired += not name.endswith(".rejected")
            finally:
                os.close(fd)

    @staticmethod
    def _count_rejected(drop: int) -> int:
        try:
            fd = _open_subdir(drop, REJECTED, create=False)
        except NotADirectoryError:
            return 0
        if fd is None:
            return 0
        try:
            return sum(1 for n in os.listdir(fd)
                       if not n.endswith(".rejected") and not n.startswith("."))
        finally:
            os.close(fd)

    def _update_status(self, report: WatchReport) -> None:
        """Write status.json when something changed, and at least once a minute (its
        ``checked_at`` shows the watcher is alive): not an fsync every pass."""
        now = _now_iso()
        self.status["waiting"] = report.unsettled + len(report.waiting)
        if report.errors:
            self.status["last_error"] = report.errors[-1]
            self.status["last_error_at"] = now
        changed = {k: v for k, v in self.status.items() if k != "checked_at"}
        if self._status_written is not None and self._status_written[0] == changed \
                and time.monotonic() - self._status_written[1] < STATUS_EVERY_S:
            return
        self.status["checked_at"] = now
        self._write_private(STATUS_FILE, self.status)
        self._status_written = (changed, time.monotonic())

    def run(self, *, poll_s: float = 2.0, max_backoff_s: float = 60.0,
            on_report: Callable[[WatchReport], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> None:
        """Poll until ``should_stop``; back off exponentially while the hub is unavailable."""
        backoff = poll_s
        while not should_stop():
            report = self.run_once()
            if on_report is not None and report.anything:
                on_report(report)
            backoff = min(max_backoff_s, backoff * 2) if report.waiting else poll_s
            time.sleep(backoff)


def drop_status(watch_root: Path) -> list[dict[str, Any]]:
    """The status each watcher under ``watch_root`` last wrote (for ``/readyz`` and the web
    UI): counts, codes and times only — no file name, no folder, no value."""
    out: list[dict[str, Any]] = []
    try:
        root = os.open(watch_root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:  # none yet, or not readable by this process (e.g. another user's)
        return out
    try:
        for name in sorted(os.listdir(root)):
            try:
                sub = _open_subdir(root, name, create=False)
                if sub is None:
                    continue
                try:
                    raw = _read_file(sub, STATUS_FILE)
                finally:
                    os.close(sub)
                doc = json.loads(raw) if raw else None
            except (OSError, ValueError):
                continue  # not a watcher's directory, or not readable here
            if isinstance(doc, dict):
                out.append({k: doc.get(k) for k in (
                    "connector", "waiting", "rejected", "rejected_total", "last_error",
                    "last_error_at", "last_delivery_at", "checked_at")})
    finally:
        os.close(root)
    return out
