"""Time bounded (issue 13 item 7): an ``occurred_at`` further ahead than the configured skew
is refused by the one canonical validator — at the API (tests/unit/test_api_security.py),
in the worker and in the connectors — naming the field, never the value."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from connectors.base import Mapped, Refused
from schemas.events import CanonicalEvent, future_skew_context
from streams.pipeline import Pipeline, Quarantined
from tests.unit.factories import make_event, raw_record_for
from tests.unit.test_connectors_police import POLICE, incident, jsonl

FUTURE = "2035-01-01T00:00:00+01:00"


def test_the_validator_refuses_the_future_beyond_the_skew_and_names_no_value() -> None:
    with pytest.raises(ValidationError) as caught:
        CanonicalEvent.model_validate(make_event("school", occurred_at=FUTURE))

    [err] = caught.value.errors(include_input=False)
    assert err["loc"] == ("occurred_at",)
    assert "2035" not in str(caught.value)


def test_the_skew_is_configurable_through_the_validation_context() -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)).isoformat()
    event = make_event("school", occurred_at=soon)

    with pytest.raises(ValidationError):
        CanonicalEvent.model_validate(event)  # the default: 5 minutes
    assert CanonicalEvent.model_validate(
        event, context=future_skew_context(dt.timedelta(hours=1))).occurred_at


def test_the_worker_quarantines_an_event_from_the_future(pipeline: Pipeline) -> None:
    event = make_event("school", occurred_at="9999-12-31T23:59:59+00:00")

    result = pipeline.process(raw_record_for(pipeline.cipher, event, "school"))

    assert isinstance(result, Quarantined)
    assert result.outcome.reason is not None
    assert "occurred_at" in result.outcome.reason
    assert "9999" not in result.outcome.reason


def test_a_connector_refuses_the_record_by_its_source_field() -> None:
    results = POLICE.parse(jsonl(incident(tidspunkt=FUTURE), incident(journalnr="4100-2")))

    refused = [r for r in results if isinstance(r, Refused)]
    assert [(r.line, r.field) for r in refused] == [(1, "tidspunkt")]
    assert "2035" not in refused[0].reason
    assert [r.line for r in results if isinstance(r, Mapped)] == [2]
