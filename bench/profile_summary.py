"""Summarise a py-spy ``--format raw`` (collapsed stacks) profile as text.

    python -m bench.profile_summary /tmp/worker-profile.txt [--top 20]

Each line of a raw profile is ``frame;frame;...;leaf COUNT`` (root first), a frame looks like
``function (path/to/file.py)`` (``--nolineno --full-filenames``) and, with ``--threads``, the
root frame is the thread. We report

* **self**: samples whose innermost frame is the function (where the CPU actually was),
* **inclusive**: samples with the function anywhere on the stack (counted once per stack),
* **by package**: self samples rolled up by the package that owns the innermost frame,
* **by thread**: samples per thread (when the profile has thread roots).

py-spy leaves out threads it recognises as idle, but not all waits (a thread-pool worker blocked
on its queue, the event loop in ``epoll``): samples whose innermost frame is such a wait
(:data:`IDLE_LEAVES`) are counted as idle. Percentages are of the remaining *busy* samples.
With 100 samples/s per thread, busy samples / (100 × seconds) approximates the cores used.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
_THREAD = re.compile(r"^(process \d+:)?\s*\"?thread", re.IGNORECASE)
_REPO_PACKAGES = ("hub", "core", "streams", "schemas", "connectors", "bench")
# Innermost frames that mean "waiting", which py-spy does not always recognise as idle: an
# event loop in epoll, a thread-pool worker blocked on its queue, a lock or condition wait.
IDLE_LEAVES = (
    "EpollSelector.select (", "select (", "_worker (", "Condition.wait (", "Event.wait (",
    "Thread._wait_for_tstate_lock (", "Thread.join (", "SimpleQueue.get (", "Queue.get (",
)
# Frames that sit under everything (thread and loop bootstrap, the CLI): left out of the
# inclusive table because they say nothing about where the time goes.
_PLUMBING = ("stdlib:threading", "stdlib:asyncio", "stdlib:concurrent", "stdlib:runpy",
             "<frozen runpy>", "typer", "click", "stdlib:selectors")


@dataclass
class Summary:
    total: int = 0
    idle: int = 0
    self_: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    packages: Counter[str] = field(default_factory=Counter)
    threads: Counter[str] = field(default_factory=Counter)
    threads_busy: Counter[str] = field(default_factory=Counter)

    @property
    def busy(self) -> int:
        return self.total - self.idle

    def as_dict(self, top: int) -> dict[str, Any]:
        def rows(counter: Counter[str]) -> list[dict[str, Any]]:
            return [{"frame": k, "samples": v,
                     "pct_of_busy": round(100.0 * v / max(self.busy, 1), 1)}
                    for k, v in counter.most_common(top)]
        return {"total_samples": self.total, "idle_samples": self.idle,
                "busy_samples": self.busy, "self": rows(self.self_),
                "inclusive": rows(self.inclusive), "by_package": rows(self.packages),
                "by_thread_busy": rows(self.threads_busy),
                "by_thread_all": [{"thread": k, "samples": v}
                                  for k, v in self.threads.most_common()]}


def package_of(path: str) -> str:
    """The package a frame belongs to: a site-packages distribution, a repo package or stdlib."""
    norm = path.replace("\\", "/")
    if "site-packages/" in norm:
        first = norm.split("site-packages/", 1)[1].split("/", 1)[0]
        return first.removesuffix(".py")
    parts = norm.split("/")
    for pkg in _REPO_PACKAGES:
        if pkg in parts[:-1]:
            return pkg
    match = re.search(r"/lib/python3\.\d+/(.*)$", norm)
    if match:
        return "stdlib:" + match.group(1).split("/", 1)[0].removesuffix(".py")
    return norm or "?"


def short(func: str, path: str) -> str:
    norm = path.replace("\\", "/")
    for marker in ("site-packages/", "/lib/python3.11/", "/work/main/"):
        if marker in norm:
            norm = norm.split(marker, 1)[1]
            break
    return f"{func} ({norm})"


def summarise(text: str) -> Summary:
    summary = Summary()
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count_text = line.rpartition(" ")
        try:
            count = int(count_text)
        except ValueError:
            continue
        frames = stack.split(";")
        thread = "?"
        if frames and _THREAD.match(frames[0]) and not _FRAME.match(frames[0]):
            thread = frames.pop(0)
        elif frames and frames[0].startswith("process "):
            frames.pop(0)
            if frames and _THREAD.match(frames[0]):
                thread = frames.pop(0)
        parsed: list[tuple[str, str]] = []
        for frame in frames:
            match = _FRAME.match(frame)
            parsed.append((match.group("func"), match.group("file")) if match else (frame, ""))
        if not parsed:
            continue
        summary.total += count
        summary.threads[thread] += count
        func, path = parsed[-1]
        if frames[-1].startswith(IDLE_LEAVES):
            summary.idle += count
            continue
        summary.threads_busy[thread] += count
        summary.self_[short(func, path)] += count
        summary.packages[package_of(path)] += count
        for name in {short(f, p) for f, p in parsed if package_of(p) not in _PLUMBING}:
            summary.inclusive[name] += count
    return summary


def render(summary: Summary, top: int = 20) -> str:
    out: list[str] = [
        f"py-spy samples: {summary.total}, of which {summary.idle} waiting (epoll, idle pool "
        f"threads, lock waits) and {summary.busy} busy; percentages are of busy samples"]

    def block(title: str, counter: Counter[str]) -> None:
        out.append("")
        out.append(title)
        for name, n in counter.most_common(top):
            out.append(f"  {100.0 * n / max(summary.busy, 1):5.1f}%  {n:6d}  {name}")

    if len(summary.threads) > 1 or "?" not in summary.threads:
        block("busy samples by thread", summary.threads_busy)
    block("self time by package (innermost frame)", summary.packages)
    block("self time by function (innermost frame)", summary.self_)
    block("inclusive time by function (anywhere on the stack; thread/loop/CLI plumbing "
          "omitted)", summary.inclusive)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("profile", type=Path, help="py-spy raw (collapsed) output")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    print(render(summarise(args.profile.read_text(encoding="utf-8")), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
