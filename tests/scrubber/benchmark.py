"""Throughput of ``Scrubber.scrub`` on ~300-character concern texts from the evaluation set.

    .venv/bin/python -m tests.scrubber.benchmark                  # this tree
    .venv/bin/python -m tests.scrubber.benchmark --against REV    # and REV's scrubber, A/B

With ``--against``, the scrubber package as of git revision ``REV`` is exported to a temporary
directory and imported beside this tree's; both run the same texts in interleaved rounds (the
order alternating), and the median CPU time of the rounds is reported as µs per 1 KB of text,
so a busy machine slows both alike.
"""

from __future__ import annotations

import argparse
import importlib
import io
import itertools
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from core.privacy.scrubber import Scrubber
from tests.scrubber.evaluate import load

_ROOT = Path(__file__).resolve().parents[2]

Texts = list[tuple[str, list[str]]]


def _texts() -> Texts:
    texts: Texts = []
    for a, b in itertools.pairwise(load()):
        text = f"{a['text']} {b['text']}"[:300]
        texts.append((text, [str(n) for n in a["known_names"]]))  # type: ignore[attr-defined]
    return texts


# Where the scrubber package lived: streams/ until issue 14 moved it below the service and
# the worker, into core/privacy/.
_HOMES = ("core/privacy/scrubber", "streams/scrubber")  # rewrite: keep


def _home(rev: str) -> str:
    for home in _HOMES:
        found = subprocess.run(["git", "-C", str(_ROOT), "cat-file", "-e", f"{rev}:{home}"],
                               capture_output=True)
        if found.returncode == 0:
            return home
    raise SystemExit(f"{rev} holds no scrubber package (looked in {', '.join(_HOMES)})")


def _old_scrubber(rev: str, into: Path) -> Callable[..., object]:
    """``Scrubber`` of the scrubber package at ``rev``, imported as package ``scrubber_base``."""
    home = _home(rev)
    archive = subprocess.run(
        ["git", "-C", str(_ROOT), "archive", "--format=tar", rev, home],
        check=True, capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / "scrubber_base"
    (into / home).rename(package)
    dotted = home.replace("/", ".")
    for path in package.glob("*.py"):
        path.write_text(path.read_text(encoding="utf-8").replace(dotted, "scrubber_base"),
                        encoding="utf-8")
    sys.path.insert(0, str(into))
    module = importlib.import_module("scrubber_base")
    scrubber: Callable[..., object] = module.Scrubber
    return scrubber


def _round(scrubber: Scrubber, texts: Texts, size: int) -> float:
    started = time.process_time()
    for text, known in texts:
        scrubber.scrub(text, known_names=known)
    return (time.process_time() - started) / size * 1024 * 1e6


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="git revision to compare with")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    texts = _texts()
    size = sum(len(t) for t, _k in texts)
    new = Scrubber()
    if not args.against:
        times = [_round(new, texts, size) for _ in range(args.rounds)]
        print(f"{len(texts)} texts of {size / len(texts):.0f} chars: "
              f"{statistics.median(times):.0f} µs per 1 KB (median of {args.rounds} rounds)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        old = _old_scrubber(args.against, Path(tmp))()
        _round(old, texts, size)  # type: ignore[arg-type]
        _round(new, texts, size)
        before: list[float] = []
        after: list[float] = []
        for i in range(args.rounds):
            pair = [(old, before), (new, after)]
            for scrubber, out in (pair if i % 2 else pair[::-1]):
                out.append(_round(scrubber, texts, size))  # type: ignore[arg-type]
    base, now = statistics.median(before), statistics.median(after)
    print(f"{len(texts)} texts of {size / len(texts):.0f} chars, µs per 1 KB (median of "
          f"{args.rounds} interleaved rounds): {args.against} {base:.0f}, "
          f"this tree {now:.0f} (ratio {now / base:.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
