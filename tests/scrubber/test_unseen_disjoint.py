"""The held-apart set stays held apart: no name in it is on any detector list.

Re-reads, at test time, every name of ``unseen/eval_unseen.jsonl`` (each gold name span and
each known name) and of ``unseen/names_unseen.tsv``, and every list the detectors use
(``core/privacy/scrubber/data/*.txt``, all files, including any added later). A name fails when
any non-particle part of it, folded (lower case, accents stripped, æ→ae, ø→o, å/aa→a), is
on a list. If this fails, a detector list has learnt eval names: regenerate the set
(``unseen/README.md``) rather than loosening this test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scrubber.unseen.folding import DETECTOR_DATA, detector_words, fold, name_parts

UNSEEN = Path(__file__).parent / "unseen"
KINDS = {"cpr", "dob", "case_number", "phone", "email", "handle", "plate", "address",
         "account", "ip", "url", "name"}


def _records() -> list[dict[str, Any]]:
    with (UNSEEN / "eval_unseen.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _eval_names() -> set[str]:
    names: set[str] = set()
    for rec in _records():
        text = str(rec["text"])
        for span in rec["spans"]:
            if span["kind"] == "name":
                names.add(text[int(span["start"]):int(span["end"])])
        names.update(str(n) for n in rec["known_names"])
    for line in (UNSEEN / "names_unseen.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            names.add(line.split("\t", 1)[0])
    return names


def test_detector_lists_are_found() -> None:
    files = sorted(DETECTOR_DATA.glob("*.txt"))
    assert files, "no detector lists found: the disjointness check would be vacuous"
    assert len(detector_words()) > 1000


def test_no_eval_name_is_on_a_detector_list() -> None:
    words = detector_words()
    clashes = sorted({fold(n) for n in _eval_names()
                      if any(part in words for part in name_parts(n))})
    # The clashing names are test data (synthetic), so naming them here is fine.
    assert not clashes, (f"{len(clashes)} eval names are on a detector list, e.g. "
                         f"{clashes[:20]}: regenerate tests/scrubber/unseen (see README.md)")


def test_set_is_large_and_well_formed() -> None:
    records = _records()
    assert len(records) >= 500
    seen: set[str] = set()
    for rec in records:
        text = str(rec["text"])
        last = 0
        for span in sorted(rec["spans"], key=lambda s: int(s["start"])):
            start, end, kind = int(span["start"]), int(span["end"]), str(span["kind"])
            assert kind in KINDS
            assert last <= start < end <= len(text)
            assert text[start:end].strip() == text[start:end]
            seen.add(kind)
            last = end
        words = set(rec["content_words"])
        for span in rec["content_spans"]:
            assert text[int(span["start"]):int(span["end"])] in words
    assert seen == KINDS


@pytest.mark.parametrize("name", ["Ó Dálaigh", "van der Meulen", "Al-Tikriti", "Kjærsgaard"])
def test_name_parts_skip_particles_only(name: str) -> None:
    parts = name_parts(name)
    assert parts[0] == fold(name)
    assert all(p not in {"o", "van", "der", "al"} for p in parts[1:])
    assert len(parts) >= 2
