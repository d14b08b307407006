"""Windowed signal aggregation, as pure functions over one key's state.

A policy signal rule (core/policy/evaluator.py :class:`SignalRule`) counts, per key, *members*
inside a window that ends on the newest day seen for the key:

* ``per: subject`` — key: the young person's pseudonym; members: days with a counting signal
  (unexcused absence). "≥ 4 days within any 20 consecutive school days".
* ``per: area`` — key: the area; members: distinct young people (pseudonyms), each with the
  last day they were registered. "≥ 3 distinct young people within 7 days".

When the count reaches the threshold while the key is *armed*, one concern is made and the key
is disarmed; it re-arms only once the count has fallen below the threshold again, so the same
condition never makes a second concern while it persists inside the window.

Why a keyed table of window state rather than faust's hopping windows: "any 20 consecutive
school days" is a sliding window counted in school days, and "distinct young people" needs the
set of members, not a sum. Hopping windows of one-day steps would write 20 window keys per
signal and still not skip weekends. The state here is the exact sliding window, small (at most
``threshold``-ish members after pruning), and lives in a faust Table whose changelog restores
it after a restart (streams/app.py).

Replaying a signal is harmless: members are a set, so a redelivered signal changes nothing,
and the concern's event id is derived from the rule, the key and the day the threshold was
met, so a concern made again after a crash is the same concern (de-duplicated downstream).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from core.policy.evaluator import SignalRule, Window

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_day(moment: dt.datetime) -> dt.date:
    """The day an event happened on, in Denmark."""
    return moment.astimezone(COPENHAGEN).date()


def window_start(window: Window, newest: dt.date) -> dt.date:
    """The first day of the window that ends on ``newest`` (inclusive)."""
    if window.days is not None:
        return newest - dt.timedelta(days=window.days - 1)
    assert window.school_days is not None
    day = newest
    while day.weekday() >= 5:  # a weekend day: the window ends on the Friday before
        day -= dt.timedelta(days=1)
    left = window.school_days - 1
    while left:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _index(window: Window, day: dt.date) -> int:
    """A day's position in the window's unit: calendar days, or school days (Monday–Friday;
    a weekend day has its Friday's index)."""
    ordinal = day.toordinal()
    if window.days is not None:
        return ordinal
    weeks, weekday = divmod(ordinal - 1, 7)  # ordinal 1 (1 January of year 1) is a Monday
    return weeks * 5 + min(weekday, 4)


@dataclass
class WindowState:
    """One key's state, as stored in the table (JSON, see :meth:`dumps`): each member's days
    inside the horizon (two windows back from the newest day), and the first days of the runs
    that already made a concern."""

    members: dict[str, set[dt.date]] = field(default_factory=dict)
    newest: dt.date | None = None
    fired: set[dt.date] = field(default_factory=set)

    def dumps(self) -> bytes:
        return json.dumps({
            "m": {k: sorted(d.isoformat() for d in v) for k, v in sorted(self.members.items())},
            "n": self.newest.isoformat() if self.newest else None,
            "f": sorted(d.isoformat() for d in self.fired),
        }, separators=(",", ":")).encode("ascii")

    @classmethod
    def loads(cls, raw: bytes | None) -> WindowState:
        if not raw:
            return cls()
        doc = json.loads(raw)
        return cls(members={k: {dt.date.fromisoformat(d) for d in v}
                            for k, v in doc["m"].items()},
                   newest=dt.date.fromisoformat(doc["n"]) if doc["n"] else None,
                   fired={dt.date.fromisoformat(d) for d in doc["f"]})


@dataclass(frozen=True)
class Crossed:
    """A threshold met: what the concern will say. No identifiers beyond the key."""

    rule: str
    key: str
    count: int
    first: dt.date
    last: dt.date
    window: int  # its length, in the rule's unit


def observe(rule: SignalRule, state: WindowState, key: str, member: str, day: dt.date,
            counts: bool) -> tuple[WindowState, list[Crossed]]:
    """Count one signal (``member`` on ``day``) into ``key``'s ``state``; returns the new
    state and, for each new run of days on which the threshold is met, what its concern is
    about (usually none; one when a threshold is crossed). ``state`` is not modified.

    The result does not depend on the order signals arrive in (a backlog mixes partitions, a
    month's file arrives at once): the condition is evaluated for every day ``e`` in the
    horizon — "≥ threshold members with a day in the window ending on ``e``" — and the days on
    which it holds form runs. Each run makes one concern, when it first appears; a run that
    already made one (it holds a day in ``fired``) makes none, however it grows later. Within
    the horizon no run is missed whatever the order; out of order, two runs that made their
    concerns can later turn out to be one (the day bridging them came last): then there were
    two concerns where in order there would have been one. A signal older than the horizon is
    seen but can no longer count."""
    window = rule.window
    length = window.days or window.school_days or 0
    newest = max(day, state.newest) if state.newest else day
    top = _index(window, newest)
    horizon = top - 2 * length  # members with an index above it are kept
    members = {k: set(v) for k, v in state.members.items()}
    if counts and _index(window, day) > horizon:
        members.setdefault(member, set()).add(day)
    members = {k: kept for k, v in members.items()
               if (kept := {d for d in v if _index(window, d) > horizon})}
    fired = {d for d in state.fired if _index(window, d) > horizon}
    crossed: list[Crossed] = []
    if len(members) >= rule.threshold:
        first = min(d for v in members.values() for d in v)
        crossed = _new_runs(rule, key, window, length, members, first, newest, fired)
        fired.update(c.last for c in crossed)
    return WindowState(members, newest, fired), crossed


def _new_runs(rule: SignalRule, key: str, window: Window, length: int,
              members: dict[str, set[dt.date]], first: dt.date, newest: dt.date,
              fired: set[dt.date]) -> list[Crossed]:
    """The runs of days (from ``first`` to ``newest``) on which the condition holds and that
    hold no fired day, as the concerns they make."""
    # Every observation, oldest first; the window ending on ``day`` holds those added (day
    # reached) and not yet dropped (index fell out): two pointers, one pass over the days.
    obs = sorted((d, _index(window, d), k) for k, v in members.items() for d in v)
    # A run within one window of a run that made a concern is the same episode: the
    # condition only dipped, or a late day will join them (a day joins runs at most one
    # window apart). So the days near a fired day count as fired.
    reach = calendar_days(window)
    near = {f + dt.timedelta(days=i) for f in fired for i in range(-reach, reach + 1)}
    found: list[Crossed] = []
    run_start: tuple[dt.date, int, dt.date] | None = None  # (day, count, earliest member day)
    run_fired = False
    inside: Counter[str] = Counter()
    add = drop = 0
    day, stop = first, newest + dt.timedelta(days=1)
    while day <= stop:
        end = _index(window, day)
        while add < len(obs) and obs[add][0] <= day:
            inside[obs[add][2]] += 1
            add += 1
        while drop < add and obs[drop][1] <= end - length:
            member = obs[drop][2]
            inside[member] -= 1
            if not inside[member]:
                del inside[member]
            drop += 1
        if len(inside) >= rule.threshold and day <= newest:
            if run_start is None:
                run_start, run_fired = (day, len(inside), obs[drop][0]), False
            run_fired = run_fired or day in near
        else:
            if run_start is not None and not run_fired:
                start_day, n, earliest = run_start
                found.append(Crossed(rule.id, key, n, earliest, start_day, length))
                near |= {start_day + dt.timedelta(days=i) for i in range(-reach, reach + 1)}
            run_start = None
        day += dt.timedelta(days=1)
    return found


def calendar_days(window: Window) -> int:
    """One window's length in calendar days (school days: a week per five, rounded up)."""
    length = window.days or window.school_days or 0
    return length if window.days is not None else -(-length * 7 // 5)


@dataclass(frozen=True)
class SignalExampleResult:
    rule_id: str
    index: int
    passed: bool
    got: int  # concerns made
    expected: int


def run_signal_examples(rules: list[SignalRule]) -> list[SignalExampleResult]:
    """Each signal rule's examples, through the same :func:`observe` the worker runs."""
    results = []
    for rule in rules:
        for index, example in enumerate(rule.examples):
            state, made = WindowState(), 0
            for seen in example.signals:
                member = seen.day.isoformat() if rule.per == "subject" else seen.who
                state, crossed = observe(rule, state, "example", member, seen.day, seen.counts)
                made += len(crossed)
            results.append(SignalExampleResult(rule.id, index, made == example.expect.concerns,
                                               made, example.expect.concerns))
    return results


def table_key(rule: str, key: str) -> bytes:
    """The aggregation key as it appears in topic keys and the table's changelog: a hash, so
    that no pseudonym stands in a topic key."""
    return hashlib.sha256(f"{rule}|{key}".encode()).hexdigest()[:32].encode("ascii")


def concern_event_id(namespace: uuid.UUID, rule: str, key: str, day: dt.date) -> uuid.UUID:
    """The id of the concern a rule makes for ``key`` on ``day``: the same after a replay."""
    return uuid.uuid5(namespace, f"signal-concern|{rule}|{key}|{day.isoformat()}")
