"""The scrubber meets its targets on the held-apart set (issue 12, "Measured, honestly").

Structured identifiers 100 % removed, names ≥ 99 % (unseen names, also in lower case),
content words ≥ 95 % kept. Runs ``evaluate_unseen.evaluate`` on ``unseen/eval_unseen.jsonl``;
a failure prints only the numbers, never a text or a value.
"""

from __future__ import annotations

from tests.scrubber.evaluate_unseen import evaluate, format_report, load
from tests.scrubber.shared import shared_scrubber


def test_unseen_targets() -> None:
    report = evaluate(load(), shared_scrubber(), repeats=1)
    failures = report.failures()
    assert not failures, "; ".join(failures) + "\n" + format_report(report)
