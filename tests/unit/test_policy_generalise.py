"""Policy treatments for quasi-identifiers (issue 12 item 5): age bands and year groups,
defined and validated in the policy file, with the policy's own examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from core.errors import ConfigError
from core.policy.evaluator import (
    EXAMPLE_DEFAULTS,
    Generalise,
    Policy,
    load_policy,
    run_examples,
    run_generalise_examples,
    year_group,
)
from hub.cli import app
from tests.unit.factories import SHIPPED_POLICY


def _shipped_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    return doc


def _load(tmp_path: Path, doc: dict[str, Any]) -> Policy:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_policy(path)


@pytest.mark.parametrize(("school_class", "year"), [
    ("8.b", 8), ("8 B", 8), ("8b", 8), ("08.x", 8), ("klasse 9c", 9), ("0. a", 0),
    ("10.x", 10), ("7A", 7), ("8. klasse", 8), (" 6.c ", 6),
    ("modtagerklasse", None), ("specialklasse 3", None), ("11.a", None), ("9.abc", None),
    ("", None), (None, None),
])
def test_year_group_reads_a_class_as_schools_write_it(school_class: str | None,
                                                      year: int | None) -> None:
    assert year_group(school_class) == year


@pytest.mark.parametrize(("age", "band"), [
    (0, "0-11"), (11, "0-11"), (12, "12-14"), (14, "12-14"), (15, "15-17"), (17, "15-17"),
    (18, "18-24"), (24, "18-24"), (25, None), (99, None),
])
def test_shipped_age_bands(shipped_policy: Policy, age: int, band: str | None) -> None:
    assert shipped_policy.doc.generalise.age_band(age) == band


@pytest.mark.parametrize(("bands", "message"), [
    ([(12, 14), (14, 17)], "without gap or overlap"),
    ([(12, 14), (16, 17)], "without gap or overlap"),
    ([(15, 17), (12, 14)], "without gap or overlap"),
    ([(14, 12)], "low <= high"),
    ([(-1, 5)], "low <= high"),
])
def test_age_bands_must_follow_each_other(bands: list[tuple[int, int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Generalise(age_bands=bands)


def test_a_broken_age_band_refuses_to_start_naming_the_line(tmp_path: Path) -> None:
    doc = _shipped_doc()
    doc["generalise"]["age_bands"] = [[0, 11], [12, 14], [16, 17]]
    with pytest.raises(ConfigError, match=r"policy\.yaml:\d+: invalid policy at generalise"):
        _load(tmp_path, doc)


def test_an_age_band_treatment_without_bands_refuses_to_start(tmp_path: Path) -> None:
    doc = _shipped_doc()
    del doc["generalise"]
    with pytest.raises(ConfigError, match=r"pseudonym_age_band, but `generalise\.age_bands`"):
        _load(tmp_path, doc)


@pytest.mark.parametrize(("field", "treatment"), [
    ("subject.class", "keep"), ("subject", "age_band"), ("subject.school", "year_group")])
def test_an_unknown_treatment_refuses_to_start(tmp_path: Path, field: str,
                                               treatment: str) -> None:
    doc = _shipped_doc()
    doc["disclosure"]["queues"]["infohus"] = {field: treatment}
    with pytest.raises(ConfigError, match=f"{field} cannot be '{treatment}'"):
        _load(tmp_path, doc)


def test_shipped_policy_uses_bands_and_year_groups_for_the_area_groups_only(
        shipped_policy: Policy) -> None:
    for queue in shipped_policy.queues:
        t = shipped_policy.doc.disclosure.treatments(queue)
        generalised = (t["subject"], t["subject.class"]) == ("pseudonym_age_band", "year_group")
        assert generalised is queue.startswith("omraade-"), queue


def test_shipped_generalise_examples_cover_both_treatments_and_pass(
        shipped_policy: Policy) -> None:
    results = run_generalise_examples(shipped_policy)
    assert [r.index for r in results if not r.passed] == []
    assert any(r.given.startswith("age ") for r in results)
    assert any(r.given.startswith("class ") for r in results)
    assert any(r.expected == "None" for r in results)  # a withheld case is an example too
    checked = {(q, f) for r in run_examples(shipped_policy) if r.expected.treatments
               for q, fields in r.expected.treatments.items() for f in fields}
    assert {("omraade-praestoe", "subject"), ("omraade-praestoe", "subject.class")} <= checked


def test_a_wrong_generalise_example_fails_policy_test(tmp_path: Path) -> None:
    doc = _shipped_doc()
    doc["generalise"]["examples"].append({"age": 13, "age_band": "15-17"})
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    result = CliRunner().invoke(app, ["policy", "test", str(path)])

    assert result.exit_code == 1
    assert any("generalise age 13" in line and line.endswith("FAIL")
               for line in result.output.splitlines())


def test_a_wrong_treatment_expectation_fails_its_example(tmp_path: Path) -> None:
    doc = _shipped_doc()
    rule = next(r for r in doc["rules"] if r["id"] == "route-area-group")
    rule["examples"][0]["expect"]["treatments"] = {"omraade-praestoe": {"subject": "pseudonym_age"}}
    policy = _load(tmp_path, doc)
    failed = [(r.rule_id, r.index) for r in run_examples(policy) if not r.passed]
    assert failed == [("route-area-group", 0)]


def test_decisions_carry_the_new_treatments(shipped_policy: Policy) -> None:
    decision = shipped_policy.decide({**EXAMPLE_DEFAULTS, "category": "crime", "area": "stege",
                                      "severity": "acute"})
    assert decision.treatments["omraade-stege"]["subject"] == "pseudonym_age_band"
    assert decision.treatments["omraade-stege"]["subject.class"] == "year_group"
    assert decision.treatments["underretning"]["subject"] == "pseudonym_age"
    assert "subject.class" in decision.disclosed("omraade-stege")  # as its year group
    assert "subject.class" not in decision.disclosed("underretning")
