"""Bounded fuzzing (issue 13 "Measured"): each connector parser and the ingest validator
meet generated hostile input — random bytes, mutated sample exports, mutated canonical
events — and must answer only in their documented ways: a connector's ``parse`` returns
one :class:`Mapped` or :class:`Refused` per record and never raises; the validator raises
nothing but pydantic's ``ValidationError``. Neither ever echoes the input: a marker planted
in the input (a CPR-shaped number and a word) never appears in a refusal, an error message
or the API's error body.

Every property is bounded (``max_examples``) so that it runs in CI; ``FUZZ_EXAMPLES`` in
the environment raises the bound for a longer run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import connectors
from connectors.base import Mapped, Refused
from connectors.registry import CONNECTORS
from hub.api import _field_errors
from schemas.events import CanonicalEvent
from streams.pipeline import describe_validation_error
from tests.unit.factories import make_event

pytestmark = pytest.mark.timeout(300)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
MARKER_CPR = "2412999876"
MARKER_WORD = "Qzxmarkerqzx"
MARKERS = (MARKER_CPR, "241299-9876", MARKER_WORD, MARKER_WORD.lower())
SAMPLES = Path(connectors.__file__).parent / "samples"
SAMPLE_OF = {
    "school-absence": "elevfravaer-2026-03.csv",
    "school-concern": "bekymringsnotater.json",
    "social-concern": "socialforvaltning-bekymringer.xml",
    "police-doegnrapport": "doegnrapport-2026-03-02.jsonl",
}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
TRIED: dict[str, int] = {}

payloads = st.sampled_from([MARKER_CPR, "241299-9876", MARKER_WORD,
                            f"{MARKER_WORD} {MARKER_CPR}", f'"{MARKER_WORD}"',
                            f"<{MARKER_WORD}/>", f"{MARKER_CPR};{MARKER_WORD}\n",
                            f'{{"{MARKER_WORD}": "{MARKER_CPR}"}}'])


@st.composite
def mutated(draw: st.DrawFn, sample: bytes) -> bytes:
    """A sample export with a few random edits, each of which plants a marker or breaks
    structure: insert, overwrite, delete, truncate, duplicate a span, random bytes."""
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "overwrite", "delete", "truncate", "dup",
                                   "noise"]))
        at = draw(st.integers(0, len(data)))
        if op == "insert":
            data[at:at] = draw(payloads).encode()
        elif op == "overwrite":
            token = draw(payloads).encode()
            data[at:at + len(token)] = token
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "dup":
            span = bytes(data[at:at + draw(st.integers(1, 200))])
            data[at:at] = span * draw(st.integers(1, 3))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


def assert_documented(name: str, data: bytes) -> list[Any]:
    results = CONNECTORS[name].parse(data)  # must not raise
    TRIED[name] = TRIED.get(name, 0) + 1
    # (no results is an answer too: a CSV header without rows holds no record)
    for r in results:
        assert isinstance(r, Mapped | Refused)
        if isinstance(r, Refused):
            text = f"{r.field} {r.reason}"
            assert not any(m in text for m in MARKERS), text
            assert r.line >= 0
    return results


@pytest.mark.parametrize("name", sorted(SAMPLE_OF))
def test_a_connector_survives_random_bytes(name: str) -> None:
    @FUZZ
    @given(data=st.binary(max_size=2048))
    def run(data: bytes) -> None:
        assert_documented(name, data)

    run()


@pytest.mark.parametrize("name", sorted(SAMPLE_OF))
def test_a_connector_survives_mutated_exports_and_echoes_no_value(name: str) -> None:
    sample = (SAMPLES / SAMPLE_OF[name]).read_bytes()

    @FUZZ
    @given(data=mutated(sample))
    def run(data: bytes) -> None:
        assert_documented(name, data)

    run()


# -- the ingest validator ----------------------------------------------------------------
# Keys a sender could type: never field-name-shaped markers (a field-name-shaped unknown key
# is named in the answer, so that a sender can fix a typo; see schemas.events.error_loc).
keys = st.text(max_size=10) | st.sampled_from([
    MARKER_CPR, "241299-9876", f"{MARKER_WORD} {MARKER_CPR}", f'"{MARKER_WORD}"',
    f"{MARKER_WORD}-{MARKER_CPR}", f"<{MARKER_WORD}/>"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30) | payloads,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        keys, inner, max_size=4),
    max_leaves=12)


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few fields (top-level or nested) replaced, added or removed."""
    event = make_event(draw(st.sampled_from(["school", "social", "police"])))
    for _ in range(draw(st.integers(1, 3))):
        target: dict[str, Any] = event
        if draw(st.booleans()):
            nested = [k for k, v in event.items() if isinstance(v, dict)]
            if nested:
                target = event[draw(st.sampled_from(nested))]
        op = draw(st.sampled_from(["replace", "add", "remove"]))
        if op == "replace" and target:
            target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
        elif op == "add":
            target[draw(keys)] = draw(json_values)
        elif target:
            target.pop(draw(st.sampled_from(sorted(target))))
    return event


def assert_validator_documented(raw: Any, *, as_json: bool) -> None:
    TRIED["validator"] = TRIED.get("validator", 0) + 1
    try:
        if as_json:
            CanonicalEvent.model_validate_json(raw)
        else:
            CanonicalEvent.model_validate(raw)
    except ValidationError as exc:
        TRIED["validator_refused"] = TRIED.get("validator_refused", 0) + 1
        # What the hub shows or stores: the API's error body and the worker's quarantine
        # reason (str(exc) is pydantic's own rendering, which the hub never shows).
        for text in (json.dumps(_field_errors(list(exc.errors()))),
                     describe_validation_error(exc)):
            assert not any(m in text for m in MARKERS), text


@FUZZ
@given(event=mutated_events())
def test_the_validator_refuses_mutated_events_only_with_validation_errors(
        event: dict[str, Any]) -> None:
    assert_validator_documented(event, as_json=False)


@FUZZ
@given(data=st.binary(max_size=1024) | mutated_events().map(
    lambda e: json.dumps(e).encode()[: len(json.dumps(e)) // 2]))
def test_the_validator_refuses_broken_json_only_with_validation_errors(data: bytes) -> None:
    assert_validator_documented(data, as_json=True)


def test_zz_report_the_numbers() -> None:
    """Not a check: prints how many inputs the properties above tried (pytest -s)."""
    print(f"\nfuzz: {TRIED}")
