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
* ``DIR/.ssp-hub-watch.json`` remembers the SHA-256 of every file done, so a file dropped
  again with the same content is moved to ``done/`` without being sent.

Files are picked up when they have not changed for ``settle_s`` (a writer still copying one is
left alone). Files whose names start with ``.`` or end with ``.tmp``/``.part`` are ignored.

Why over HTTP rather than straight onto the broker: the API is where claims, encryption and the
agency's credential live; the watcher holds only the agency's token.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STATE_FILE = ".ssp-hub-watch.json"
IGNORED_SUFFIXES = (".tmp", ".part", ".rejected")


class Unavailable(Exception):
    """The hub could not take the file now; try again later."""


@dataclass
class WatchReport:
    sent: int = 0
    already_done: int = 0
    accepted: int = 0
    refused: int = 0
    waiting: list[str] = field(default_factory=list)  # files kept for a retry


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileDropWatcher:
    def __init__(self, directory: Path, connector: str, api_url: str, token: str, *,
                 settle_s: float = 2.0, timeout_s: float = 120.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.dir = directory
        self.connector = connector
        self.done = directory / "done"
        self.state_path = directory / STATE_FILE
        self.settle_s = settle_s
        self.client = httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout_s,
                                   headers={"Authorization": f"Bearer {token}"},
                                   transport=transport)

    def close(self) -> None:
        self.client.close()

    # -- state -------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        try:
            doc: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
            return doc
        except FileNotFoundError:
            return {"done": {}}

    def _save(self, state: dict[str, Any]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_path)  # atomic: a crash leaves the old or the new state

    # -- one pass ----------------------------------------------------------------------
    def ready_files(self, now: float | None = None) -> list[Path]:
        now = time.time() if now is None else now
        files = []
        for path in sorted(self.dir.iterdir()):
            if not path.is_file() or path.name.startswith(".") \
                    or path.name.endswith(IGNORED_SUFFIXES):
                continue
            if now - path.stat().st_mtime < self.settle_s:
                continue  # still being written
            files.append(path)
        return files

    def send(self, path: Path) -> dict[str, Any]:
        try:
            response = self.client.post(f"/api/v1/connectors/{self.connector}",
                                        content=path.read_bytes())
        except httpx.HTTPError as exc:
            raise Unavailable(type(exc).__name__) from exc
        if response.status_code in (429, 502, 503, 504):
            raise Unavailable(f"HTTP {response.status_code}")
        if response.status_code != 200:
            # 401/403/404/413: retrying will not help; the operator must act. The file stays.
            detail = response.json().get("detail", "") if response.content else ""
            raise PermissionError(f"HTTP {response.status_code}: {detail}")
        answer: dict[str, Any] = response.json()
        return answer

    def _finish(self, path: Path, digest: str, answer: dict[str, Any] | None,
                state: dict[str, Any]) -> None:
        self.done.mkdir(exist_ok=True)
        target = self.done / path.name
        if target.exists():
            target = self.done / f"{path.stem}.{digest[:12]}{path.suffix}"
        if answer is not None and answer["refused"]:
            lines = ["line\tfield\treason"] + [
                f"{r['line']}\t{r['field']}\t{r['reason']}" for r in answer["refused"]]
            report = target.with_name(target.name + ".rejected")
            report.write_text("\n".join(lines) + "\n", encoding="utf-8")
        # Remember first, move second: a crash in between re-finds the file, sees it done by
        # its hash and only moves it.
        state["done"][digest] = {"file": path.name, "moved_to": target.name,
                                 "accepted": len(answer["accepted"]) if answer else None,
                                 "refused": len(answer["refused"]) if answer else None}
        self._save(state)
        os.replace(path, target)

    def run_once(self) -> WatchReport:
        report = WatchReport()
        state = self._state()
        for path in self.ready_files():
            digest = _sha256(path)
            if digest in state["done"]:
                self._finish(path, digest, None, state)
                report.already_done += 1
                continue
            try:
                answer = self.send(path)
            except Unavailable:
                report.waiting.append(path.name)
                continue
            report.sent += 1
            report.accepted += len(answer["accepted"])
            report.refused += len(answer["refused"])
            self._finish(path, digest, answer, state)
        return report

    def run(self, *, poll_s: float = 2.0, max_backoff_s: float = 60.0,
            on_report: Callable[[WatchReport], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False) -> None:
        """Poll until ``should_stop``; back off exponentially while the hub is unavailable."""
        backoff = poll_s
        while not should_stop():
            report = self.run_once()
            if on_report is not None and (report.sent or report.already_done
                                          or report.waiting):
                on_report(report)
            backoff = min(max_backoff_s, backoff * 2) if report.waiting else poll_s
            time.sleep(backoff)
