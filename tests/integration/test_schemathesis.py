"""The published contract holds under generated input (issue 13 "Measured"): schemathesis
runs every operation in ``/openapi.json`` against the running API (with its broker and
worker), with each kind of token — an agency, a consultant, a security officer, an admin and
none — in schema-conforming (positive) and schema-violating (negative) cases, and requires
0 server errors and 0 contract violations: every status is one the operation documents,
every body matches its declared schema and content type, and invalid input is refused.

Bounded: ``MAX_EXAMPLES`` generated cases per operation and mode, drawn once and sent with
every token kind.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.hubstack import HubStack

pytestmark = pytest.mark.timeout(600)

MAX_EXAMPLES = 25
KINDS: dict[str, tuple[str, tuple[str, ...]] | None] = {
    "agency": ("agency:school", ()),
    "consultant": ("consultant", ("omraade-stege", "beredskab")),
    "security_officer": ("security_officer", ()),
    "admin": ("admin", ()),
    "none": None,
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance,
          negative_data_rejection]
TOTAL: dict[str, int] = {}


@pytest.fixture(scope="module")
def api_schema(hub: HubStack) -> Any:
    return schemathesis.openapi.from_url(f"{hub.api_url}/openapi.json")


Drawn = tuple[list[Any], str | None]
"""The cases drawn for one operation and mode, and the error that stopped drawing, if any."""


def draw_cases(operation: Any, mode: GenerationMode) -> Drawn:
    """The ``MAX_EXAMPLES`` cases hypothesis draws for one operation and mode.

    Drawn once and sent with every token kind: generation is most of this file's cost (about
    40 ms a case, against a few ms for the request), and with ``derandomize=True`` each kind
    drew exactly these cases anyway. Sending them outside ``@given`` gives up shrinking: a
    failure is reported on the case as drawn (``SCHEMATHESIS_ONLY`` narrows a rerun)."""
    drawn: list[Any] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def collect(case: Any) -> None:
        drawn.append(case)

    try:
        collect()
    except Unsatisfiable:  # nothing to violate (no parameters, no body): no negative case
        return drawn, None
    except (Exception, BaseExceptionGroup) as exc:  # reported; the other operations still run
        return drawn, f"drawing cases failed: {type(exc).__name__}: {str(exc)[:6000]}"
    return drawn, None


@pytest.fixture(scope="module")
def drawn_cases() -> dict[tuple[str, str, GenerationMode], Drawn]:
    """Cases drawn so far, by (method, path, mode): the first token kind draws them."""
    return {}


def run_operation(drawn: Drawn, headers: dict[str, str]) -> tuple[int, str | None]:
    """(cases run, the first failure's message or None) for one operation and mode."""
    cases, failure = drawn
    count = 0
    for case in cases:
        count += 1
        try:
            case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)
        except (Exception, BaseExceptionGroup) as exc:  # reported; the other cases don't run
            return count, f"{type(exc).__name__}: {str(exc)[:6000]}"
    return count, failure


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_operation_keeps_its_contract(
        hub: HubStack, api_schema: Any,
        drawn_cases: dict[tuple[str, str, GenerationMode], Drawn], kind: str) -> None:
    spec = KINDS[kind]
    token = None if spec is None else hub.principal(f"st-{kind}", *spec)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    only = os.environ.get("SCHEMATHESIS_ONLY")  # a path, to reproduce one operation
    operations = [op for op in operations if only is None or op.path == only]
    failures: list[str] = []
    cases = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            key = (operation.method, operation.path, mode)
            if key not in drawn_cases:
                drawn_cases[key] = draw_cases(operation, mode)
            n, failure = run_operation(drawn_cases[key], headers)
            cases += n
            if failure is not None:
                failures.append(f"{operation.method.upper()} {operation.path} [{mode}]: "
                                f"{failure}")
    TOTAL[kind] = cases
    print(f"\nschemathesis {kind}: {len(operations)} operations, {cases} cases, "
          f"{len(failures)} failing")
    for failure in failures:
        print(failure)
    assert only or len(operations) >= 18
    assert failures == []
