"""How evaluate_unseen scores: removal by letters and digits covered, any kind; content kept
outside gold spans only; names by case, parts and origin; shapes without text."""

from __future__ import annotations

from collections.abc import Sequence

from core.privacy.scrubber import Finding, ScrubResult
from tests.scrubber.evaluate_unseen import Report, evaluate, shape


class Covers:
    """A stub scrubber that finds exactly the given substrings."""

    def __init__(self, *needles: str) -> None:
        self.needles = needles

    def scrub(self, text: str, known_names: Sequence[str] = ()) -> ScrubResult:
        findings = []
        for needle in self.needles:
            start = text.find(needle)
            if start >= 0:
                findings.append(Finding("name", start, start + len(needle)))
        return ScrubResult("", findings)


TEXT = "Femke van der Meulen bor på Algade 3, 4780 Stege, og handler i Netto i Stege. sol"
CASE: dict[str, object] = {
    "text": TEXT, "known_names": [],
    "spans": [
        {"start": 0, "end": 20, "kind": "name", "origin": "dutch", "case": "upper"},
        {"start": TEXT.index("Algade"), "end": TEXT.index(", og"), "kind": "address"},
        {"start": len(TEXT) - 3, "end": len(TEXT), "kind": "name", "origin": "danish_word",
         "case": "lower"},
    ],
    "content_words": ["Netto", "Stege"],
}


def _run(*needles: str) -> Report:
    return evaluate([CASE], Covers(*needles), repeats=1)


def test_a_partly_removed_name_is_a_miss() -> None:
    report = _run("Femke", "Meulen", "Algade 3, 4780 Stege")
    assert report.recall("name/multi-part") == 0.0
    assert report.recall("address") == 1.0


def test_removal_ignores_separators_and_accepts_any_kind() -> None:
    report = _run("Femke van der Meulen", "Algade 3", "4780 Stege", "sol")
    assert report.recall("name") == 1.0
    assert report.recall("address") == 1.0  # ", " between two findings holds no letter
    assert report.recall("name/lower") == 1.0
    assert report.gold["name@dutch"] == 1


def test_content_counts_only_outside_gold_spans() -> None:
    kept = _run()
    assert (kept.content_kept, kept.content_total) == (2, 2)  # "Netto", the second "Stege"
    lost = _run("Netto")
    assert lost.content_rate == 0.5
    assert "content kept" in " ".join(lost.failures())


def test_structured_kinds_must_be_complete() -> None:
    report = _run("Femke van der Meulen", "sol")
    assert any(f.startswith("address") for f in report.failures())
    assert report.misses == [("address", "Aa_9,_9_Aa")]


def test_shape_holds_no_letters_or_digits() -> None:
    assert shape("Ó Dálaigh") == "A_Aa"
    assert shape("15.06.11\u200b-4123") == "9.9.9?-9"
    assert not any(c.isalnum() and c not in "aA9" for c in shape("Xaliimo 150611-4123 æøå"))


def test_content_spans_are_scored_where_given() -> None:
    case = dict(CASE, content_spans=[{"start": TEXT.index("Netto"),
                                      "end": TEXT.index("Netto") + 5}])
    report = evaluate([case], Covers("Netto"), repeats=1)
    assert (report.content_kept, report.content_total) == (0, 1)
