"""Vordingborg's policy v1 (issue 3 §1): the acceptance rules, each as data with examples."""

from __future__ import annotations

import pytest

from core.policy.evaluator import EXAMPLE_DEFAULTS, Policy, load_policy
from tests.unit.factories import SHIPPED_POLICY


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(SHIPPED_POLICY)


def _decide(policy: Policy, **facts: str | int) -> tuple[str, str | None, list[str], list[str]]:
    d = policy.decide({**EXAMPLE_DEFAULTS, **facts})
    return d.effect, d.reason, sorted(d.queues), sorted(d.flags)


@pytest.mark.parametrize(("facts", "expected"), [
    # 1. purpose
    ({"purpose": "investigation"}, ("reject", "purpose_not_permitted", [], [])),
    # 2. collaborations and target groups (age at occurred_at)
    ({"collaboration": "PSP", "age": 30}, ("reject", "collaboration_not_configured", [], [])),
    ({"collaboration": "KSP", "age": 20}, ("reject", "collaboration_not_configured", [], [])),
    ({"collaboration": "SSP", "age": 18}, ("reject", "outside_target_group", [], [])),
    ({"collaboration": "SSP", "age": 0, "area": "stege"},
     ("route", None, ["omraade-stege"], [])),
    ({"collaboration": "SSP+", "age": 17}, ("reject", "outside_target_group", [], [])),
    ({"collaboration": "SSP+", "age": 25}, ("reject", "outside_target_group", [], [])),
    ({"collaboration": "SSP+", "age": 18, "area": "praestoe"},
     ("route", None, ["omraade-praestoe"], [])),
    # 3. necessity
    ({"necessity": "blank"}, ("reject", "necessity_not_stated", [], [])),
    # 4. consent refused, unless high or acute
    ({"consent": "refused", "severity": "low"}, ("reject", "consent_refused", [], [])),
    ({"consent": "refused", "severity": "medium"}, ("reject", "consent_refused", [], [])),
    ({"consent": "refused", "severity": "high", "area": "vordingborg"},
     ("route", None, ["omraade-vordingborg"], [])),
    # 5. routing
    ({"category": "extremism", "area": "stege"}, ("route", None, ["infohus"], [])),
    ({"category": "honour_related_conflict", "area": "praestoe"},
     ("route", None, ["infohus"], [])),
    ({"category": "group_conflict"}, ("route", None, ["beredskab"], [])),
    ({"category": "insecurity"}, ("route", None, ["beredskab", "opsoegende"], [])),
    ({"category": "crime", "area": "other"}, ("route", None, ["beredskab"], [])),
    # 6. underretning is never swallowed
    ({"severity": "acute", "age": 14, "category": "wellbeing", "area": "stege"},
     ("route", None, ["omraade-stege", "underretning"], ["underretning_required"])),
    ({"severity": "acute", "age": 16, "category": "radicalisation"},
     ("route", None, ["infohus", "underretning"], ["underretning_required"])),
    ({"severity": "acute", "age": 20, "collaboration": "SSP+", "area": "stege"},
     ("route", None, ["omraade-stege"], [])),
])
def test_vordingborg_v1_acceptance_rules(policy: Policy, facts: dict[str, str | int],
                                         expected: tuple[str, str | None, list[str], list[str]]
                                         ) -> None:
    assert _decide(policy, **facts) == expected


def test_infohus_never_receives_an_area_group_concern(policy: Policy) -> None:
    for category in ("extremism", "radicalisation", "honour_related_conflict",
                     "negative_social_control"):
        for area in ("praestoe", "stege", "vordingborg", "other"):
            queues = policy.decide({**EXAMPLE_DEFAULTS, "category": category, "area": area}).queues
            assert not any(q.startswith("omraade-") for q in queues)


@pytest.mark.parametrize(("queue", "school"), [
    ("infohus", False), ("beredskab", True), ("opsoegende", False), ("omraade-praestoe", True),
    ("omraade-stege", True), ("omraade-vordingborg", True), ("underretning", False),
])
def test_field_treatments_per_queue(policy: Policy, queue: str, school: bool) -> None:
    t = policy.doc.disclosure.treatments(queue)
    # The area groups get the age band and the year group; the others the exact age and no
    # class (issue 12 item 5; the reasons are in the policy file's comments).
    area_group = queue.startswith("omraade-")
    assert t["subject"] == ("pseudonym_age_band" if area_group else "pseudonym_age")
    assert t["subject.class"] == ("year_group" if area_group else "drop")
    assert t["related_persons"] == "role_pseudonym"
    assert t["description"] == t["necessity"] == "scrub"
    assert t["source"] == "keep"
    assert (t["subject.school"] == "keep") is school
