"""Recall and precision of the scrubber per identifier type on ``eval_set.jsonl``.

    .venv/bin/python -m tests.scrubber.evaluate [--show-errors]

Definitions (span level):

* **recall** of a kind: the share of gold spans of that kind that are *removed*: every letter
  and digit of the gold span lies inside some finding, of any kind (a surname swallowed by an
  ``[ADRESSE]`` is gone all the same). Equivalently: the scrubbed output no longer contains
  that occurrence of the span's text.
* **leaks**: gold spans whose text still occurs anywhere in the scrubbed output as a whole
  word (a stricter, occurrence-free check, reported beside recall).
* **precision** of a kind: the share of the scrubber's findings of that kind that overlap some
  gold span (of any kind); a finding on a hard negative (``Per dag``, ``12-03-2026``,
  ``Lund Skole``) counts against it.

Exits 1 if recall for cpr, phone or email is below 100 %, or for names below 98 %.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from core.privacy.scrubber import Scrubber
from core.privacy.scrubber.model import KINDS

EVAL_SET = Path(__file__).parent / "eval_set.jsonl"
THRESHOLDS = {"cpr": 1.0, "phone": 1.0, "email": 1.0, "name": 0.98}


def load() -> list[dict[str, object]]:
    with EVAL_SET.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: list[str]) -> int:
    show = "--show-errors" in argv
    scrubber = Scrubber()
    cases = load()
    gold_total: Counter[str] = Counter()
    gold_found: Counter[str] = Counter()
    leaks: Counter[str] = Counter()
    pred_total: Counter[str] = Counter()
    pred_ok: Counter[str] = Counter()
    started = time.perf_counter()
    for case in cases:
        text = str(case["text"])
        known = [str(n) for n in case["known_names"]]  # type: ignore[attr-defined]
        spans = [(int(s["start"]), int(s["end"]), str(s["kind"]))
                 for s in case["spans"]]  # type: ignore[attr-defined]
        result = scrubber.scrub(text, known_names=known)
        covered = bytearray(len(text))
        for f in result.findings:
            covered[f.start:f.end] = b"\1" * (f.end - f.start)
        for start, end, kind in spans:
            gold_total[kind] += 1
            if all(covered[i] or not text[i].isalnum() for i in range(start, end)):
                gold_found[kind] += 1
            elif show:
                print(f"MISS {kind:8} {text[start:end]!r} in: {text}")
            value = text[start:end]
            if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", result.text):
                leaks[kind] += 1
        for f in result.findings:
            pred_total[f.kind] += 1
            if any(f.start < end and start < f.end for start, end, _k in spans):
                pred_ok[f.kind] += 1
            elif show:
                print(f"FP   {f.kind:8} {text[f.start:f.end]!r} in: {text}")
    elapsed = time.perf_counter() - started
    print(f"{len(cases)} texts, {sum(gold_total.values())} gold spans, "
          f"{elapsed * 1000 / len(cases):.3f} ms/text")
    print(f"{'kind':8} {'gold':>5} {'recall':>8} {'leaks':>6} {'found':>6} {'precision':>9}")
    failed = False
    for kind in KINDS:
        g, p = gold_total[kind], pred_total[kind]
        recall = gold_found[kind] / g if g else 1.0
        precision = pred_ok[kind] / p if p else 1.0
        print(f"{kind:8} {g:5d} {recall:8.2%} {leaks[kind]:6d} {p:6d} {precision:9.2%}")
        if recall < THRESHOLDS.get(kind, 0.0):
            failed = True
    if failed:
        print("FAIL: recall below the threshold (cpr/phone/email 100 %, name 98 %)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
