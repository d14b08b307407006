"""The scrubber on held-apart reports: recall per kind on names no detector list knows.

    .venv/bin/python tests/scrubber/evaluate_unseen.py [--set PATH] [--show-errors]

Imports ``core.privacy.scrubber.Scrubber`` from whatever is installed in the running venv and
scores it on ``unseen/eval_unseen.jsonl`` (see ``unseen/README.md``):

* **recall** of a kind: the share of gold spans removed. A span is removed when every letter
  and digit of it lies inside some finding, of any kind (a surname swallowed by an address
  is gone all the same; a kept "van der" of "van der Meulen" is a miss). Names are also
  reported by case (``upper``: as written in prose; ``lower``: chat/SMS quotes) and origin.
* **content kept**: the share of content-word occurrences (shops, places, schools, dates that
  are not birth dates, ordinary words such as "bo", "rask", "storm") that no finding touches:
  the record's ``content_spans``, or else every whole-word occurrence of its
  ``content_words`` outside gold spans.
* **µs per KB**: median over interleaved repeats of the time to scrub each text, per 1,000
  characters.

Exits 1 below the targets: structured kinds 100 %, names ≥ 99 %, content kept ≥ 95 %.
``--show-errors`` prints, per miss, only the gold kind and a context-free shape of the missed
text (``Aa9-``-style classes), never the text itself, and only on a terminal.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

if importlib.util.find_spec("core") is None:  # no hub installed in this venv: use this tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import core.privacy.scrubber
from core.privacy.scrubber import Scrubber, ScrubResult

EVAL_SET = Path(__file__).parent / "unseen" / "eval_unseen.jsonl"
STRUCTURED = ("cpr", "dob", "case_number", "phone", "email", "handle", "plate", "address",
              "account", "ip", "url")
KINDS = (*STRUCTURED, "name")
NAME_TARGET = 0.99
CONTENT_TARGET = 0.95
STRUCTURED_TARGET = 1.0


class Scrubs(Protocol):
    def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult: ...


@dataclass
class Report:
    texts: int = 0
    gold: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    content_total: int = 0
    content_kept: int = 0
    us_per_kb: float = 0.0
    misses: list[tuple[str, str]] = field(default_factory=list)  # (kind, shape), no text

    def recall(self, key: str) -> float:
        return self.removed[key] / self.gold[key] if self.gold[key] else 1.0

    @property
    def content_rate(self) -> float:
        return self.content_kept / self.content_total if self.content_total else 1.0

    def failures(self) -> list[str]:
        out = [f"{k} recall {self.recall(k):.2%} < 100 %" for k in STRUCTURED
               if self.gold[k] and self.recall(k) < STRUCTURED_TARGET]
        if self.recall("name") < NAME_TARGET:
            out.append(f"name recall {self.recall('name'):.2%} < {NAME_TARGET:.0%}")
        if self.content_rate < CONTENT_TARGET:
            out.append(f"content kept {self.content_rate:.2%} < {CONTENT_TARGET:.0%}")
        return out


def load(path: Path = EVAL_SET) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def shape(value: str) -> str:
    """A context-free class of a missed value: letters → a/A, digits → 9, runs collapsed, at
    most 12 symbols (``"Ó Dálaigh"`` → ``"A_Aa"``, ``"15.06.11-4123"`` → ``"9.9.9-9"``)."""
    classes: list[str] = []
    for ch in value:
        c = "9" if ch.isdigit() else ("A" if ch.isupper() else "a") if ch.isalpha() else (
            "_" if ch.isspace() else ch if ch.isascii() else "?")
        if not classes or classes[-1] != c:
            classes.append(c)
    return "".join(classes)[:12]


def _content_spans(case: dict[str, object], text: str) -> list[tuple[int, int]]:
    """The content occurrences to score: ``content_spans`` where the set gives them, else every
    whole-word occurrence of each of ``content_words``."""
    spans = case.get("content_spans")
    if isinstance(spans, list):
        return [(int(s["start"]), int(s["end"])) for s in spans]
    out: list[tuple[int, int]] = []
    for word in case.get("content_words", []):  # type: ignore[attr-defined]
        pattern = rf"(?<!\w){re.escape(str(word))}(?!\w)"
        out += [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    return out


def evaluate(cases: Sequence[dict[str, object]], scrubber: Scrubs | None = None,
             repeats: int = 3) -> Report:
    scrubber = scrubber or Scrubber()
    report = Report(texts=len(cases))
    timings: list[list[float]] = [[] for _ in cases]
    for _ in range(repeats):  # interleaved: every text once per round
        for i, case in enumerate(cases):
            text = str(case["text"])
            known = [str(n) for n in case.get("known_names", [])]  # type: ignore[attr-defined]
            t0 = time.perf_counter()
            scrubber.scrub(text, known_names=known)
            timings[i].append((time.perf_counter() - t0) * 1e6 * 1000 / max(len(text), 1))
    report.us_per_kb = statistics.median(min(t) for t in timings) if cases else 0.0
    for case in cases:
        text = str(case["text"])
        known = [str(n) for n in case.get("known_names", [])]  # type: ignore[attr-defined]
        result = scrubber.scrub(text, known_names=known)
        covered = bytearray(len(text))
        for f in result.findings:
            covered[f.start:f.end] = b"\1" * (f.end - f.start)
        gold_cover = bytearray(len(text))
        for span in case["spans"]:  # type: ignore[attr-defined]
            start, end, kind = int(span["start"]), int(span["end"]), str(span["kind"])
            gold_cover[start:end] = b"\1" * (end - start)
            keys = [kind]
            if kind == "name":
                parts = "multi-part" if re.search(r"[\s\-]", text[start:end]) else "one-part"
                keys += [f"name/{span.get('case', '?')}", f"name/{parts}",
                         f"name@{span.get('origin', '?')}"]
            ok = all(covered[i] or not text[i].isalnum() for i in range(start, end))
            for key in keys:
                report.gold[key] += 1
                report.removed[key] += ok
            if not ok:
                report.misses.append((kind, shape(text[start:end])))
        for start, end in _content_spans(case, text):
            if gold_cover.find(1, start, end) >= 0:
                continue  # part of an identifier
            report.content_total += 1
            report.content_kept += covered.find(1, start, end) < 0
    return report


def format_report(report: Report, set_name: str = "") -> str:
    lines = [f"{report.texts} texts {set_name}".rstrip(),
             f"{'kind':26} {'gold':>6} {'removed':>8} {'recall':>8}"]
    for kind in KINDS:
        lines.append(f"{kind:26} {report.gold[kind]:6d} {report.removed[kind]:8d} "
                     f"{report.recall(kind):8.2%}")
    for key in sorted(k for k in report.gold if k.startswith("name/")):
        lines.append(f"  {key:24} {report.gold[key]:6d} {report.removed[key]:8d} "
                     f"{report.recall(key):8.2%}")
    for key in sorted(k for k in report.gold if k.startswith("name@")):
        lines.append(f"  {key:24} {report.gold[key]:6d} {report.removed[key]:8d} "
                     f"{report.recall(key):8.2%}")
    lines.append(f"content kept {report.content_kept}/{report.content_total} = "
                 f"{report.content_rate:.2%}")
    lines.append(f"speed: {report.us_per_kb:.0f} µs per 1 KB (median of per-text minima over "
                 "interleaved repeats)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Scrubber recall on the held-apart set.")
    parser.add_argument("--set", type=Path, default=EVAL_SET, help="a JSONL eval set")
    parser.add_argument("--show-errors", action="store_true",
                        help="on a terminal: per miss, the kind and a context-free shape")
    args = parser.parse_args(argv)
    report = evaluate(load(args.set))
    print(f"scrubber: {Path(core.privacy.scrubber.__file__ or '?').parent}")
    print(format_report(report, f"({args.set.name})"))
    if args.show_errors:
        if sys.stdout.isatty():
            for (kind, shp), n in Counter(report.misses).most_common():
                print(f"MISS {kind:12} {shp:14} x{n}")
        else:
            print("(--show-errors prints only on a terminal)")
    failures = report.failures()
    for failure in failures:
        print(f"FAIL: {failure}")
    if not failures:
        print("OK: all targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
