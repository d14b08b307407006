"""The §115 policy as data (issue 2 item 5): routing table, default deny, lint, versions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.errors import ConfigError
from core.policy.evaluator import (
    DEFAULT_DENY_REASON,
    EXAMPLE_DEFAULTS,
    Policy,
    load_policy,
    run_examples,
)
from core.settings import Settings
from schemas.events import Area, Category
from tests.unit.factories import (
    AREA_GROUP_CATEGORIES,
    BEREDSKAB_CATEGORIES,
    DATA,
    INFOHUS_CATEGORIES,
    SHIPPED_POLICY,
    expected_queues,
)

ONLY_CRIME = DATA / "only-crime.yaml"
PSP_POLICY = DATA / "psp-policy.yaml"
SHA256_VERSION = re.compile(r"^sha256:[0-9a-f]{64}$")

TABLE = [(c.value, a.value) for c in Category for a in Area]


def _facts(**overrides: str | int) -> dict[str, str | int]:
    return {**EXAMPLE_DEFAULTS, **overrides}


def _write(tmp_path: Path, doc: Any, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _small_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ONLY_CRIME.read_text(encoding="utf-8"))
    return doc


# -- the shipped policy --------------------------------------------------------------------
def test_settings_default_to_the_shipped_policy() -> None:
    assert Settings().resolved_policy_file.resolve() == SHIPPED_POLICY


def test_shipped_policy_examples_all_pass(shipped_policy: Policy) -> None:
    results = run_examples(shipped_policy)

    assert results, "the shipped policy has no examples"
    assert [(r.rule_id, r.index) for r in results if not r.passed] == []


def test_every_shipped_rule_has_examples(shipped_policy: Policy) -> None:
    tested = {r.rule_id for r in run_examples(shipped_policy)}

    assert tested == {rule.id for rule in shipped_policy.doc.rules}


def test_run_examples_reports_a_wrong_expectation(tmp_path: Path) -> None:
    doc = _small_doc()
    doc["rules"][0]["examples"][0]["expect"] = {"effect": "route", "queues": ["elsewhere"]}
    doc["queues"]["elsewhere"] = "Et andet sted"

    results = run_examples(load_policy(_write(tmp_path, doc)))

    assert [(r.rule_id, r.index, r.passed) for r in results] == [
        ("route-crime", 0, False), ("route-crime", 1, True)]


def test_issue_2_table_covers_every_category_once() -> None:
    groups = (INFOHUS_CATEGORIES, BEREDSKAB_CATEGORIES, AREA_GROUP_CATEGORIES)

    assert set().union(*groups) == {c.value for c in Category}
    assert sum(len(g) for g in groups) == len(Category)


@pytest.mark.parametrize(("category", "area"), TABLE)
def test_crime_prevention_concern_is_routed_by_the_table(
        shipped_policy: Policy, category: str, area: str) -> None:
    decision = shipped_policy.decide(_facts(category=category, area=area))

    assert decision.effect == "route"
    assert decision.queues == expected_queues(category, area)
    assert decision.reason is None
    assert decision.rule_ids
    assert decision.policy_version == shipped_policy.version


@pytest.mark.parametrize(("category", "area"), TABLE)
def test_investigation_purpose_is_always_rejected(
        shipped_policy: Policy, category: str, area: str) -> None:
    decision = shipped_policy.decide(_facts(category=category, area=area,
                                            purpose="investigation"))

    assert decision.effect == "reject"
    assert decision.reason == "purpose_not_permitted"
    assert decision.queues == ()
    assert "purpose-not-investigation" in decision.rule_ids


@pytest.mark.parametrize("agency", ["school", "social", "police"])
def test_investigation_is_rejected_whoever_sends_it(shipped_policy: Policy,
                                                    agency: str) -> None:
    decision = shipped_policy.decide(_facts(agency=agency, purpose="investigation",
                                            category="extremism"))

    assert (decision.effect, decision.reason) == ("reject", "purpose_not_permitted")


@pytest.mark.parametrize("kind", ["school_absence", "police_registration"])
def test_every_signal_kind_is_aggregated_by_a_rule(shipped_policy: Policy, kind: str) -> None:
    rule = shipped_policy.signal_rule(kind)

    assert rule is not None
    assert shipped_policy.refusal(_facts(kind=kind, category="school_absence")) is None


def test_reject_rules_alone_refuse_a_signal(shipped_policy: Policy) -> None:
    refusal = shipped_policy.refusal(_facts(kind="school_absence", purpose="investigation"))

    assert refusal is not None
    assert refusal.reason == "purpose_not_permitted"


def test_a_signal_needs_no_stated_necessity_of_its_own(shipped_policy: Policy) -> None:
    # It is not disclosed; the concern it may become states the policy's necessity.
    assert shipped_policy.refusal(_facts(kind="police_registration", necessity="blank")) is None
    assert shipped_policy.refusal(_facts(kind="concern", necessity="blank")) is not None


def test_a_second_signal_rule_for_one_kind_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    doc["signals"].append({**doc["signals"][0], "id": "again"})

    with pytest.raises(ConfigError, match="a second rule for kind 'school_absence'"):
        load_policy(_write(tmp_path, doc))


def test_a_signal_rule_needs_exactly_one_window_unit(tmp_path: Path) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    doc["signals"][0]["window"] = {"days": 7, "school_days": 20}

    with pytest.raises(ConfigError, match=r"signals\.0\.window"):
        load_policy(_write(tmp_path, doc))


def test_a_fact_an_event_lacks_matches_no_condition(shipped_policy: Policy) -> None:
    # An area-level concern has no age: the target-group rules do not apply to it.
    facts = {k: v for k, v in _facts(category="insecurity").items() if k != "age"}

    decision = shipped_policy.decide(facts)

    assert (decision.effect, decision.queues) == ("route", ("beredskab", "opsoegende"))


def test_every_routed_queue_is_declared(shipped_policy: Policy) -> None:
    for category, area in TABLE:
        for queue in shipped_policy.decide(_facts(category=category, area=area)).queues:
            assert queue in shipped_policy.queues


# -- default deny --------------------------------------------------------------------------
def test_policy_routes_what_a_rule_permits() -> None:
    decision = load_policy(ONLY_CRIME).decide(_facts(category="crime"))

    assert (decision.effect, decision.queues) == ("route", ("kriminalitet",))


@pytest.mark.parametrize("category", sorted({c.value for c in Category} - {"crime"}))
def test_no_matching_rule_means_default_deny(category: str) -> None:
    decision = load_policy(ONLY_CRIME).decide(_facts(category=category))

    assert decision.effect == "reject"
    assert decision.reason == DEFAULT_DENY_REASON == "no_rule_permits"
    assert decision.queues == ()
    assert decision.rule_ids == ()


def test_queue_by_without_an_entry_for_the_value_denies(tmp_path: Path) -> None:
    doc = _small_doc()
    rule = doc["rules"][0]
    del rule["queues"]
    rule["queue_by"] = {"fact": "area", "map": {"stege": "kriminalitet"}}
    rule["examples"] = [{"event": {"category": "crime", "area": "stege"},
                         "expect": {"effect": "route", "queues": ["kriminalitet"]}}]
    policy = load_policy(_write(tmp_path, doc))

    assert policy.decide(_facts(category="crime", area="stege")).queues == ("kriminalitet",)
    denied = policy.decide(_facts(category="crime", area="praestoe"))
    assert (denied.effect, denied.reason) == ("reject", DEFAULT_DENY_REASON)


# -- lint: a broken policy refuses to load and names the rule ------------------------------
def _broken(tmp_path: Path, change: str) -> Path:
    doc = _small_doc()
    rule = doc["rules"][0]
    if change == "unknown queue":
        rule["queues"] = ["nowhere"]
    elif change == "unknown category value":
        rule["when"] = {"category": {"in": ["crimes"]}}
    elif change == "unknown not_in value":
        rule["when"] = {"area": {"not_in": ["copenhagen"]}}
    elif change == "unknown fact":
        rule["when"] = {"weather": {"in": ["rain"]}}
    elif change == "queue_by unknown fact":
        del rule["queues"]
        rule["queue_by"] = {"fact": "weather", "map": {"rain": "kriminalitet"}}
    elif change == "queue_by unknown value":
        del rule["queues"]
        rule["queue_by"] = {"fact": "area", "map": {"copenhagen": "kriminalitet"}}
    elif change == "queue_by unknown queue":
        del rule["queues"]
        rule["queue_by"] = {"fact": "area", "map": {"stege": "nowhere"}}
    elif change == "example unknown fact":
        rule["examples"][0]["event"]["weather"] = "rain"
    else:  # pragma: no cover
        raise AssertionError(change)
    return _write(tmp_path, doc)


@pytest.mark.parametrize("change", [
    "unknown queue", "unknown category value", "unknown not_in value", "unknown fact",
    "queue_by unknown fact", "queue_by unknown value", "queue_by unknown queue",
    "example unknown fact",
])
def test_lint_error_raises_config_error_naming_the_rule(tmp_path: Path, change: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_policy(_broken(tmp_path, change))

    assert "route-crime" in str(info.value)


@pytest.mark.parametrize(("change", "named"), [
    ("unknown queue", "nowhere"),
    ("unknown category value", "crimes"),
    ("unknown fact", "weather"),
])
def test_lint_error_names_the_offending_value(tmp_path: Path, change: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_policy(_broken(tmp_path, change))


@pytest.mark.parametrize("mutate", [
    pytest.param(lambda d: d["rules"][0].update(effect="reject"), id="reject-without-reason"),
    pytest.param(lambda d: d["rules"][0].update(effect="allow"), id="unknown-effect"),
    pytest.param(lambda d: d["rules"][0].update(examples=[]), id="rule-without-examples"),
    pytest.param(lambda d: d["rules"][0].update(when={}), id="empty-when"),
    pytest.param(lambda d: d["rules"][0].update(colour="red"), id="unknown-rule-key"),
    pytest.param(lambda d: d["rules"][0]["when"]["category"].update(not_in=["x"]),
                 id="in-and-not_in"),
    pytest.param(lambda d: d["rules"][0].update(
        queue_by={"fact": "area", "map": {"stege": "kriminalitet"}}), id="queues-and-queue_by"),
    pytest.param(lambda d: d.update(format=2), id="format-2"),
    pytest.param(lambda d: d.update(rules=[]), id="no-rules"),
])
def test_malformed_policy_raises_config_error(tmp_path: Path, mutate: Any) -> None:
    doc = _small_doc()
    mutate(doc)

    with pytest.raises(ConfigError):
        load_policy(_write(tmp_path, doc))


@pytest.mark.parametrize("text", ["", "policy: [unclosed", "- just\n- a list\n"])
def test_unreadable_policy_raises_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError):
        load_policy(path)


def test_missing_policy_file_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_policy(tmp_path / "absent.yaml")


# -- behaviour changes with the file, not the code -----------------------------------------
def test_second_policy_file_passes_its_own_examples() -> None:
    assert all(r.passed for r in run_examples(load_policy(PSP_POLICY)))


@pytest.mark.parametrize(("facts", "shipped", "variant"), [
    ({"category": "wellbeing", "area": "stege"}, ("omraade-stege",), ("beredskab",)),
    ({"category": "wellbeing", "area": "praestoe"}, ("omraade-praestoe",), ("beredskab",)),
    # Vordingborg has no PSP: rejected there, routed by the variant.
    ({"category": "crime", "area": "stege", "collaboration": "PSP"},
     (), ("omraade-stege", "psp-gruppe")),
    ({"category": "extremism", "area": "other", "collaboration": "PSP"},
     (), ("infohus", "psp-gruppe")),
])
def test_same_facts_route_differently_under_another_policy_file(
        shipped_policy: Policy, facts: dict[str, str], shipped: tuple[str, ...],
        variant: tuple[str, ...]) -> None:
    assert shipped_policy.decide(_facts(**facts)).queues == shipped
    assert load_policy(PSP_POLICY).decide(_facts(**facts)).queues == variant


def test_policies_agree_where_the_files_agree(shipped_policy: Policy) -> None:
    other = load_policy(PSP_POLICY)

    decision = other.decide(_facts(category="group_conflict", area="stege"))
    assert decision.queues == shipped_policy.decide(
        _facts(category="group_conflict", area="stege")).queues


# -- versions ------------------------------------------------------------------------------
def test_policy_version_is_a_sha256(shipped_policy: Policy) -> None:
    assert SHA256_VERSION.match(shipped_policy.version)
    assert load_policy(SHIPPED_POLICY).version == shipped_policy.version


def test_different_policies_have_different_versions(shipped_policy: Policy) -> None:
    versions = {shipped_policy.version, load_policy(PSP_POLICY).version,
                load_policy(ONLY_CRIME).version}

    assert len(versions) == 3


@pytest.mark.parametrize("style", ["block", "flow", "comments", "reordered"])
def test_version_ignores_yaml_formatting_and_comments(tmp_path: Path, shipped_policy: Policy,
                                                      style: str) -> None:
    text = SHIPPED_POLICY.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    if style == "block":
        text = yaml.safe_dump(doc, default_flow_style=False, allow_unicode=True, width=60)
    elif style == "flow":
        text = yaml.safe_dump(doc, default_flow_style=True, allow_unicode=False, width=4000)
    elif style == "comments":
        text = "# a new header comment\n" + text.replace("\nrules:", "\n\n# comment\nrules:  ")
    else:
        text = yaml.safe_dump(dict(reversed(list(doc.items()))), sort_keys=False)
    path = tmp_path / "reformatted.yaml"
    path.write_text(text, encoding="utf-8")

    reformatted = load_policy(path)

    assert yaml.safe_load(text) == doc
    assert reformatted.version == shipped_policy.version


@pytest.mark.parametrize("change", ["queue title", "rule description", "example"])
def test_version_changes_when_the_content_changes(tmp_path: Path, shipped_policy: Policy,
                                                  change: str) -> None:
    doc = yaml.safe_load(SHIPPED_POLICY.read_text(encoding="utf-8"))
    if change == "queue title":
        doc["queues"]["infohus"] += "!"
    elif change == "rule description":
        doc["rules"][0]["description"] += " (revideret)"
    else:
        doc["rules"][0]["examples"].append(doc["rules"][0]["examples"][0])
    changed = load_policy(_write(tmp_path, doc))

    assert SHA256_VERSION.match(changed.version)
    assert changed.version != shipped_policy.version


def test_remembered_decisions_equal_fresh_ones_and_stay_bounded(monkeypatch: Any) -> None:
    import random

    from core.policy import evaluator

    monkeypatch.setattr(evaluator, "DECISIONS_REMEMBERED", 50)
    policy = load_policy(Settings().resolved_policy_file)
    rng = random.Random(115)
    values = {"necessity": ["stated", "blank"], "kind": ["concern", "absence"],
              "purpose": ["crime_prevention", "investigation"],
              "collaboration": ["ssp", "ssp_plus", "infohus", "pol"],
              "category": [c.value for c in Category], "area": [a.value for a in Area],
              "severity": ["low", "medium", "high", "acute"],
              "consent": ["given", "not_sought", "refused"],
              "agency": ["school", "social", "police"]}
    for _ in range(600):
        facts: dict[str, str | int] = {k: rng.choice(v) for k, v in values.items()}
        facts["age"] = rng.randint(5, 30)
        assert policy.decide(facts) == policy._decide(facts)
        assert policy.decide(dict(reversed(facts.items()))) == policy._decide(facts)
        assert len(policy._decided) <= 50
