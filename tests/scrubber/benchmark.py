"""Throughput of ``Scrubber.scrub`` on ~300-character concern texts from the evaluation set.

    .venv/bin/python -m tests.scrubber.benchmark
"""

from __future__ import annotations

import itertools
import time

from streams.scrubber import Scrubber
from tests.scrubber.evaluate import load


def main() -> None:
    cases = load()
    texts: list[tuple[str, list[str]]] = []
    for a, b in itertools.pairwise(cases):
        text = f"{a['text']} {b['text']}"[:300]
        texts.append((text, [str(n) for n in a["known_names"]]))  # type: ignore[attr-defined]
    scrubber = Scrubber()
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        for text, known in texts:
            scrubber.scrub(text, known_names=known)
    elapsed = time.perf_counter() - started
    count = rounds * len(texts)
    avg = sum(len(t) for t, _k in texts) / len(texts)
    print(f"{count} texts of {avg:.0f} chars: {count / elapsed:,.0f} texts/s "
          f"({elapsed / count * 1e6:.0f} µs/text) on one core")


if __name__ == "__main__":
    main()
