"""Windowed signal aggregation, as pure functions over one key's state.

A policy signal rule (streams/policy.py :class:`SignalRule`) counts, per key, *members* inside
a window that ends on the newest day seen for the key:

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
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from streams.policy import SignalRule, Window

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


@dataclass
class WindowState:
    """One key's state, as stored in the table (JSON, see :meth:`dumps`)."""

    members: dict[str, dt.date] = field(default_factory=dict)
    newest: dt.date | None = None
    armed: bool = True
    fired: int = 0  # concerns made for this key, ever (for operators; no identifiers)

    def dumps(self) -> bytes:
        return json.dumps({
            "m": {k: v.isoformat() for k, v in sorted(self.members.items())},
            "n": self.newest.isoformat() if self.newest else None,
            "a": self.armed, "f": self.fired,
        }, separators=(",", ":")).encode("ascii")

    @classmethod
    def loads(cls, raw: bytes | None) -> WindowState:
        if not raw:
            return cls()
        doc = json.loads(raw)
        return cls(members={k: dt.date.fromisoformat(v) for k, v in doc["m"].items()},
                   newest=dt.date.fromisoformat(doc["n"]) if doc["n"] else None,
                   armed=bool(doc["a"]), fired=int(doc["f"]))


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
            counts: bool) -> tuple[WindowState, Crossed | None]:
    """Count one signal (``member`` on ``day``) into ``key``'s ``state``; returns the new
    state and, if the threshold was met now, what the concern is about. ``state`` is not
    modified."""
    members = dict(state.members)
    newest = max(day, state.newest) if state.newest else day
    start = window_start(rule.window, newest)
    if counts and day >= start:
        members[member] = max(day, members.get(member, day))
    members = {k: v for k, v in members.items() if v >= start}
    armed, fired, crossed = state.armed, state.fired, None
    if len(members) >= rule.threshold:
        if armed:
            days = sorted(members.values())
            crossed = Crossed(rule.id, key, len(members), days[0],
                              days[-1], rule.window.days or rule.window.school_days or 0)
            armed, fired = False, fired + 1
    else:
        armed = True
    return WindowState(members, newest, armed, fired), crossed


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
                made += crossed is not None
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
