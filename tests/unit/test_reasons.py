"""Every reason code an agency can read in an outcome has a Danish and an English text
(hub/reasons.yaml): the policy's reject reasons, the default deny and the quarantine codes."""

from __future__ import annotations

import re
from pathlib import Path

from core.policy.evaluator import DEFAULT_DENY_REASON, load_policy
from core.settings import Settings
from hub.reasons import reason_text

ROOT = Path(__file__).resolve().parents[2]


def _quarantine_codes() -> set[str]:
    """The fixed codes the envelope and the pipeline quarantine with, read from their source
    (so a new code without a text fails here)."""
    found: set[str] = set()
    for path in ("core/bus/envelope.py", "streams/pipeline.py"):
        text = (ROOT / path).read_text(encoding="utf-8")
        found |= set(re.findall(r'(?:EnvelopeRefused|quarantine)\("([a-z_]+)"\)', text))
    return found


def test_every_reason_code_has_a_danish_and_an_english_text() -> None:
    policy = load_policy(Settings().resolved_policy_file)
    codes = {r.reason for r in policy.doc.rules if r.reason} | {DEFAULT_DENY_REASON,
                                                                "signal_not_aggregated"}
    codes |= _quarantine_codes()
    assert len(codes) > 8
    for code in sorted(codes):
        text = reason_text(code)
        assert text is not None, code
        assert set(text) == {"da", "en"}
        assert all(len(t) > 20 for t in text.values()), code


def test_an_invalid_field_code_names_the_fields_and_their_error_types() -> None:
    text = reason_text("invalid:subject.cpr:birth_date,occurred_at:datetime_parsing")
    assert text is not None
    assert "subject.cpr (birth_date), occurred_at (datetime_parsing)" in text["da"]
    assert text["en"].startswith("Invalid fields: subject.cpr (birth_date)")
    assert reason_text(None) is None
    assert reason_text("no_such_code") is None
