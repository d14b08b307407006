"""Windowed signal aggregation (streams/aggregation.py) and the concern a crossed threshold
makes (Pipeline.derive), against the shipped policy's two signal rules."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

import pytest

from core.policy.evaluator import Policy, SignalRule, Window
from core.privacy.crypto import Pseudonymiser
from schemas.events import Consent
from schemas.signals import SignalRecord
from streams.aggregation import (
    Crossed,
    WindowState,
    calendar_days,
    concern_event_id,
    observe,
    run_signal_examples,
    table_key,
    window_start,
)
from streams.pipeline import Aggregated, Pipeline
from tests.unit.factories import SUBJECT_CPR, SUBJECT_NAME, SUBJECT_SCHOOL, make_event, record_for

NOW = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
MON = dt.date(2026, 3, 2)  # a Monday


def _absence(policy: Policy) -> SignalRule:
    rule = policy.signal_rule("school_absence")
    assert rule is not None
    return rule


def _area(policy: Policy) -> SignalRule:
    rule = policy.signal_rule("police_registration")
    assert rule is not None
    return rule


def _days(rule: SignalRule, days: list[dt.date], state: WindowState | None = None,
          counts: bool = True) -> tuple[WindowState, list[Crossed]]:
    state = state or WindowState()
    crossed = []
    for day in days:
        state, c = observe(rule, state, "ssp1:pupil", day.isoformat(), day, counts)
        crossed += c
    return state, crossed


# -- windows -------------------------------------------------------------------------------
def test_twenty_school_days_reach_back_four_weeks_skipping_weekends() -> None:
    window = Window(school_days=20)
    friday = dt.date(2026, 3, 27)

    assert window_start(window, friday) == MON
    # A weekend day ends the window on the Friday before.
    assert window_start(window, dt.date(2026, 3, 29)) == MON
    assert window_start(Window(school_days=1), MON) == MON


def test_a_window_in_calendar_days() -> None:
    assert calendar_days(Window(school_days=20)) == 28
    assert calendar_days(Window(school_days=3)) == 5  # rounded up
    assert calendar_days(Window(days=7)) == 7


def test_calendar_day_windows_include_both_ends() -> None:
    assert window_start(Window(days=7), dt.date(2026, 3, 8)) == dt.date(2026, 3, 2)


# -- absence: per pupil ----------------------------------------------------------------------
def test_three_days_make_no_concern_the_fourth_makes_one(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    days = [MON, MON + dt.timedelta(days=2), MON + dt.timedelta(days=7)]

    state, crossed = _days(rule, days)
    assert crossed == []

    state, crossed = _days(rule, [MON + dt.timedelta(days=10)], state)
    assert [(c.count, c.first, c.last) for c in crossed] == [
        (4, MON, MON + dt.timedelta(days=10))]
    assert crossed[0].key == "ssp1:pupil"


def test_no_second_concern_while_the_condition_persists(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    days = [MON + dt.timedelta(days=d) for d in (0, 1, 2, 3, 4, 7, 8)]

    _, crossed = _days(rule, days)

    assert len(crossed) == 1


def test_a_new_concern_once_the_count_fell_below_and_rose_again(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    first = [MON + dt.timedelta(days=d) for d in (0, 1, 2, 3)]
    # Eight weeks later the old days have left the window; four new ones cross again.
    later = [MON + dt.timedelta(weeks=8, days=d) for d in (0, 1, 2, 3)]

    _, crossed = _days(rule, first + later)

    assert [c.count for c in crossed] == [4, 4]
    assert crossed[1].first == MON + dt.timedelta(weeks=8)


def test_four_days_spread_wider_than_twenty_school_days_make_no_concern(
        shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    # 2 March .. 30 March is 21 school days: the first day has left the window.
    days = [MON, MON + dt.timedelta(days=9), MON + dt.timedelta(days=16),
            MON + dt.timedelta(days=28)]

    _, crossed = _days(rule, days)

    assert crossed == []


def test_excused_days_are_not_counted(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    days = [MON + dt.timedelta(days=d) for d in range(5)]

    state, crossed = _days(rule, days, counts=False)

    assert crossed == []
    assert state.members == {}


def test_a_redelivered_signal_changes_nothing(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    days = [MON + dt.timedelta(days=d) for d in (0, 1, 2)]
    once, _ = _days(rule, days)

    twice, crossed = _days(rule, days + days)

    assert crossed == []
    assert twice.dumps() == once.dumps()


def test_state_survives_its_json_form(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    state, _ = _days(rule, [MON + dt.timedelta(days=d) for d in (0, 1, 2, 3)])

    again = WindowState.loads(state.dumps())

    assert again == state
    assert again.fired == {MON + dt.timedelta(days=3)}
    assert WindowState.loads(None) == WindowState()


@pytest.mark.parametrize("seed", range(60))
def test_whatever_the_order_an_episode_is_reported_once_and_never_missed(
        shipped_policy: Policy, seed: int) -> None:
    # A backlog mixes partitions: a pupil's later days can arrive before earlier ones. Online,
    # the hub cannot know a late day will join two runs, so the *dates* of the concerns may
    # differ from those made in order; what holds in any order: an episode that makes a
    # concern in order makes one out of order, and no two concerns of one pupil lie within
    # one window (28 calendar days for 20 school days) of each other.
    rule = _absence(shipped_policy)
    rng = random.Random(seed)
    # Within the horizon (two windows: 40 school days, 56 calendar days).
    days = sorted({MON + dt.timedelta(days=rng.randrange(50)) for _ in range(rng.randrange(3, 14))})
    in_order = _days(rule, days)[1]
    shuffled = days[:]
    rng.shuffle(shuffled)

    _, crossed = _days(rule, shuffled)

    assert bool(crossed) == bool(in_order), (days, shuffled)
    for made in (in_order, crossed):
        starts = sorted(c.last for c in made)
        assert all((b - a).days > 28 for a, b in itertools.pairwise(starts)), (days, shuffled)


def test_a_late_earlier_day_does_not_make_a_second_concern_for_the_same_run(
        shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    state, crossed = _days(rule, [MON + dt.timedelta(days=d) for d in (7, 8, 9, 10)])
    assert len(crossed) == 1

    _, again = _days(rule, [MON, MON + dt.timedelta(days=1)], state)

    assert again == []


def test_an_old_signal_beyond_two_windows_is_seen_but_not_kept(shipped_policy: Policy) -> None:
    rule = _area(shipped_policy)
    state, _ = _register(rule, [("a", MON + dt.timedelta(days=30))])

    state, crossed = _register(rule, [("b", MON)], state)

    assert crossed == []
    assert set(state.members) == {"a"}


# -- registrations: per area -------------------------------------------------------------------
def _register(rule: SignalRule, seen: list[tuple[str, dt.date]],
              state: WindowState | None = None) -> tuple[WindowState, list[Crossed]]:
    state = state or WindowState()
    crossed = []
    for person, day in seen:
        state, c = observe(rule, state, "stege", person, day, True)
        crossed += c
    return state, crossed


def test_three_distinct_young_people_in_seven_days_make_one_area_concern(
        shipped_policy: Policy) -> None:
    rule = _area(shipped_policy)
    seen = [("a", MON), ("a", MON + dt.timedelta(days=1)), ("b", MON + dt.timedelta(days=3))]

    state, crossed = _register(rule, seen)
    assert crossed == []  # the same young person twice counts once

    state, crossed = _register(rule, [("c", MON + dt.timedelta(days=6))], state)
    assert [(c.key, c.count) for c in crossed] == [("stege", 3)]
    _, more = _register(rule, [("d", MON + dt.timedelta(days=6))], state)
    assert more == []


def test_registrations_eight_days_apart_do_not_add_up(shipped_policy: Policy) -> None:
    rule = _area(shipped_policy)
    seen = [("a", MON), ("b", MON + dt.timedelta(days=4)), ("c", MON + dt.timedelta(days=7))]

    _, crossed = _register(rule, seen)

    assert crossed == []


# -- ids and keys --------------------------------------------------------------------------
def test_keys_and_concern_ids_hide_the_pseudonym_and_repeat_on_replay() -> None:
    ns = uuid.uuid4()
    key = table_key("absence-unexcused-days", "ssp1:abcdefghijklmnopqrstuvwxyz234567")

    assert b"ssp1" not in key
    assert len(key) == 32
    assert concern_event_id(ns, "r", "k", MON) == concern_event_id(ns, "r", "k", MON)
    assert concern_event_id(ns, "r", "k", MON) != concern_event_id(ns, "r", "k", MON
                                                                   + dt.timedelta(days=1))


# -- the concern a threshold makes -----------------------------------------------------------
def _signal(pipeline: Pipeline, kind: str, **overrides: object) -> SignalRecord:
    category = "school_absence" if kind == "school_absence" else "insecurity"
    agency = "school" if kind == "school_absence" else "police"
    event = make_event(agency, kind=kind, category=category, area="stege", **overrides)
    result = pipeline.process(record_for(pipeline.cipher, event), NOW)
    assert isinstance(result, Aggregated), result.outcome
    return result.signal


def test_a_pupils_absence_concern_goes_to_the_area_group_with_the_identity_for_the_vault(
        pipeline: Pipeline, shipped_policy: Policy, pseudonymiser: Pseudonymiser) -> None:
    rule = _absence(shipped_policy)
    signal = _signal(pipeline, "school_absence")
    crossed = Crossed(rule.id, signal.pseudonym, 4, MON, MON + dt.timedelta(days=10), 20)

    derived = pipeline.derive(rule, signal, crossed, uuid.uuid4(), NOW)

    assert [c.queue for c in derived.concerns] == ["omraade-stege"]
    concern = derived.concerns[0]
    assert concern.pseudonym == pseudonymiser(SUBJECT_CPR)
    assert concern.category == "school_absence"
    assert concern.school == SUBJECT_SCHOOL
    assert concern.aggregate is not None
    assert (concern.aggregate.count, concern.aggregate.counted) == (4, "days")
    assert concern.description is not None
    assert "4 dage med ulovligt fravær inden for 20 skoledage" in concern.description
    assert concern.rule_ids[0] == rule.id
    assert [(e.kind, e.recipient, e.pseudonym) for e in derived.entries] == [
        ("disclosure", "omraade-stege", concern.pseudonym)]
    assert [(i.pseudonym, i.cpr, i.name) for i in derived.identities] == [
        (concern.pseudonym, SUBJECT_CPR, SUBJECT_NAME)]
    text = concern.model_dump_json() + "".join(e.model_dump_json() for e in derived.entries)
    assert SUBJECT_CPR not in text
    assert SUBJECT_NAME not in text


def test_an_area_concern_carries_counts_and_the_area_and_no_one(
        pipeline: Pipeline, shipped_policy: Policy) -> None:
    rule = _area(shipped_policy)
    signal = _signal(pipeline, "police_registration")
    crossed = Crossed(rule.id, "stege", 3, MON, MON + dt.timedelta(days=6), 7)

    derived = pipeline.derive(rule, signal, crossed, uuid.uuid4(), NOW)

    assert sorted(c.queue for c in derived.concerns) == ["beredskab", "opsoegende"]
    for concern in derived.concerns:
        assert concern.pseudonym is None
        assert concern.age is None
        assert concern.school is None
        assert concern.related_persons is None
        assert concern.category == "insecurity"
        assert concern.area == "stege"
        assert concern.aggregate is not None
        assert (concern.aggregate.count, concern.aggregate.counted) == (3, "young_people")
        assert signal.pseudonym not in concern.model_dump_json()
    assert all(e.pseudonym is None for e in derived.entries)
    assert derived.identities == ()


def test_a_concern_the_rules_refuse_is_logged_as_a_rejection(
        pipeline: Pipeline, shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    # Consent refused and a medium concern: the consent rule refuses what the signals make.
    signal = _signal(pipeline, "school_absence").model_copy(update={"consent": Consent.refused})
    crossed = Crossed(rule.id, signal.pseudonym, 4, MON, MON + dt.timedelta(days=3), 20)

    derived = pipeline.derive(rule, signal, crossed, uuid.uuid4(), NOW)

    assert derived.concerns == ()
    assert derived.identities == ()
    assert [(e.kind, e.reason_code) for e in derived.entries] == [
        ("rejection", "consent_refused")]


@pytest.mark.parametrize("kind", ["school_absence", "police_registration"])
def test_the_signal_record_holds_no_identifier_in_plaintext(pipeline: Pipeline, kind: str
                                                            ) -> None:
    signal = _signal(pipeline, kind)

    text = signal.model_dump_json()

    assert SUBJECT_CPR not in text
    assert SUBJECT_NAME not in text


# -- the policy's own signal examples ----------------------------------------------------------
def test_the_shipped_signal_rules_pass_their_examples(shipped_policy: Policy) -> None:
    results = run_signal_examples(shipped_policy.doc.signals)

    assert {r.rule_id for r in results} == {"absence-unexcused-days",
                                            "police-registrations-area"}
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_a_wrong_signal_expectation_is_reported(shipped_policy: Policy) -> None:
    rule = _absence(shipped_policy)
    wrong = rule.examples[0].model_copy(
        update={"expect": rule.examples[0].expect.model_copy(update={"concerns": 0})})

    [result] = run_signal_examples([rule.model_copy(update={"examples": [wrong]})])

    assert not result.passed
    assert (result.got, result.expected) == (1, 0)
