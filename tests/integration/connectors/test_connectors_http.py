"""HTTP delivery of the agencies' native exports (issue 5 §2, first of three delivery modes):
each sample file through ``POST /api/v1/connectors/{name}`` into the real worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.base import Mapped
from connectors.registry import CONNECTORS, connector
from tests.integration.events import IDENTIFIERS
from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.integration
SAMPLES = Path(__file__).resolve().parents[3] / "connectors" / "samples"
FILES = {
    "school-absence": "elevfravaer-2026-03.csv",
    "school-concern": "bekymringsnotater.json",
    "social-concern": "socialforvaltning-bekymringer.xml",
    "police-doegnrapport": "doegnrapport-2026-03-02.jsonl",
}


@pytest.fixture(scope="module")
def tokens(hub: HubStack) -> dict[str, str]:
    return {agency: hub.principal(f"{agency}-system", f"agency:{agency}")
            for agency in ("school", "social", "police")}


def _post(hub: HubStack, token: str, name: str, data: bytes) -> Any:
    with hub.client(token) as c:
        return c.post(f"/api/v1/connectors/{name}", content=data)


@pytest.mark.parametrize("name", sorted(FILES))
def test_sample_export_is_accepted_per_record_and_every_record_gets_an_outcome(
        hub: HubStack, tokens: dict[str, str], name: str) -> None:
    data = (SAMPLES / FILES[name]).read_bytes()
    local = CONNECTORS[name].parse(data)  # the same mapping, public namespace: counts only
    for r in local:  # test_zz_no_plaintext then searches the broker and the logs for them
        if isinstance(r, Mapped):
            subject = r.event.subject
            IDENTIFIERS.update(v for v in (subject.cpr, subject.name, subject.address) if v)
    expected_lines = sorted(r.line for r in local if isinstance(r, Mapped))
    refused_lines = sorted(r.line for r in local if not isinstance(r, Mapped))

    response = _post(hub, tokens[CONNECTORS[name].agency.value], name, data)

    assert response.status_code == 200, response.text
    body = response.json()
    assert [a["line"] for a in body["accepted"]] == expected_lines
    assert sorted(r["line"] for r in body["refused"]) == refused_lines
    assert body["counts"] == {"accepted": len(expected_lines), "refused": len(refused_lines)}
    for refusal in body["refused"]:
        assert refusal["field"]
        assert refusal["reason"]
    ids = [a["event_id"] for a in body["accepted"]]
    rows = hub.wait_outcomes(ids)
    # Signals are counted into window state; concerns are routed or rejected.
    kinds = {r.line: r.event.kind.value for r in local if isinstance(r, Mapped)}
    for accepted in body["accepted"]:
        status = rows[accepted["event_id"]]["status"]
        if kinds[accepted["line"]] == "concern":
            assert status in {"routed", "rejected"}
        else:
            assert status == "aggregated"

    again = _post(hub, tokens[CONNECTORS[name].agency.value], name, data).json()
    assert [a["event_id"] for a in again["accepted"]] == ids  # the same record, the same id
    assert all(a.get("duplicate") for a in again["accepted"])


def test_refusals_name_the_source_field_and_echo_no_value(
        hub: HubStack, tokens: dict[str, str]) -> None:
    data = (SAMPLES / FILES["school-absence"]).read_bytes()
    response = _post(hub, tokens["school"], "school-absence", data)

    text = response.text
    for result in connector("school-absence").parse(data):
        if isinstance(result, Mapped):
            assert result.event.subject.cpr not in text
            assert (result.event.subject.name or "§") not in text
    assert all(r["field"] != "<file>" for r in response.json()["refused"])


@pytest.mark.parametrize(("agency", "name"), [("school", "police-doegnrapport"),
                                              ("police", "social-concern"),
                                              ("social", "school-absence")])
def test_an_agency_may_use_only_its_own_connectors(hub: HubStack, tokens: dict[str, str],
                                                   agency: str, name: str) -> None:
    response = _post(hub, tokens[agency], name, (SAMPLES / FILES[name]).read_bytes())

    assert response.status_code == 403


def test_unknown_connector_is_404_naming_the_known_ones(
        hub: HubStack, tokens: dict[str, str]) -> None:
    response = _post(hub, tokens["school"], "school-gossip", b"x")

    assert response.status_code == 404
    assert "school-absence" in response.json()["detail"]


def test_a_file_that_is_no_export_is_refused_as_a_whole(
        hub: HubStack, tokens: dict[str, str]) -> None:
    response = _post(hub, tokens["social"], "social-concern", b"\x00\x01 not xml at all")

    assert response.status_code == 200
    assert response.json()["accepted"] == []
    assert [r["line"] for r in response.json()["refused"]] == [0]
