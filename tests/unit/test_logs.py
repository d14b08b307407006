"""The structlog redaction step (core/logs.py): personal keys dropped, CPR-like strings masked."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from typing import Any

import pytest
import structlog

from core.logs import PERSONAL_KEYS, redact

CPR = "0102104321"


def _redact(**event_dict: Any) -> MutableMapping[str, Any]:
    return redact(None, "info", dict(event_dict))


def _render(**event_dict: Any) -> str:
    """Redact, then render as the configured JSON renderer does."""
    rendered = structlog.processors.JSONRenderer()(None, "info", _redact(**event_dict))
    assert isinstance(rendered, str)
    return rendered


@pytest.mark.parametrize("key", [
    "cpr", "name", "address", "subject", "related_persons", "description", "necessity",
    "password", "token", "authorization", "key",
])
def test_personal_keys_are_dropped(key: str) -> None:
    secret = "Mikkel Sørensen, Algade 12"

    out = _redact(event="ingest", **{key: secret})

    assert secret not in json.dumps(out, ensure_ascii=False)
    assert out["event"] == "ingest"


@pytest.mark.parametrize("key", ["CPR", "Name", "Authorization", "TOKEN"])
def test_personal_keys_are_matched_without_regard_to_case(key: str) -> None:
    assert "Mikkel" not in str(_redact(**{key: "Mikkel"}).get(key))


@pytest.mark.parametrize("value", [
    {"cpr": CPR, "name": "Mikkel"},
    [{"role": "guardian", "cpr": CPR}],
    12345,
    None,
])
def test_personal_keys_are_dropped_whatever_the_value_type(value: Any) -> None:
    out = _redact(subject=value, related_persons=value)

    assert CPR not in json.dumps(out)
    assert "Mikkel" not in json.dumps(out)


def test_the_redaction_list_covers_the_contracts_personal_fields() -> None:
    assert {"cpr", "name", "address", "subject", "related_persons", "description",
            "necessity", "token", "authorization", "password"} <= PERSONAL_KEYS


@pytest.mark.parametrize(("value", "expected"), [
    (CPR, "[cpr]"),
    ("010210-4321", "[cpr]"),
    (f"elev {CPR} mødte ikke", "elev [cpr] mødte ikke"),
    (f"cpr={CPR};", "cpr=[cpr];"),
    (f"{CPR} og 1705804123", "[cpr] og [cpr]"),
    ("ingen personnumre her", "ingen personnumre her"),
    ("ordre 123456789012", "ordre 123456789012"),   # 12 digits: not a CPR
    ("tlf 55363636", "tlf 55363636"),               # 8 digits: not a CPR
])
def test_cpr_like_strings_in_values_are_masked(value: str, expected: str) -> None:
    assert _redact(detail=value)["detail"] == expected


def test_cpr_in_the_log_message_itself_is_masked() -> None:
    assert _redact(event=f"could not route {CPR}")["event"] == "could not route [cpr]"


def test_harmless_values_pass_through_unchanged() -> None:
    fields = {"event": "ingest_ok", "agency": "school", "count": 3, "ok": True,
              "event_id": "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e", "queue": "omraade-stege"}

    assert dict(_redact(**fields)) == fields


def test_rendered_log_line_holds_no_personal_data() -> None:
    line = _render(event=f"ingest {CPR}", agency="school", name="Mikkel Sørensen",
                   error="bad input 010210-4321", cpr=CPR)

    doc = json.loads(line)
    assert doc["agency"] == "school"
    assert CPR not in line
    assert "010210-4321" not in line
    assert "Mikkel" not in line


@pytest.mark.parametrize("value", [[CPR], (CPR,), {"who": CPR}, {"nested": [f"x {CPR}"]}])
def test_cpr_inside_a_container_value_is_masked(value: Any) -> None:
    assert CPR not in _render(event="batch", detail=value)
