"""The published contract holds under generated input (issue 13 "Measured"): schemathesis
runs every operation in ``/openapi.json`` against the running API (with its broker and
worker), with each kind of token — an agency, a consultant, a security officer, an admin and
none — in schema-conforming (positive) and schema-violating (negative) cases, and requires
0 server errors and 0 contract violations: every status is one the operation documents,
every body matches its declared schema and content type, and invalid input is refused.

Bounded: ``MAX_EXAMPLES`` generated cases per operation, token kind and mode.
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


def run_operation(operation: Any, mode: GenerationMode, headers: dict[str, str]
                  ) -> tuple[int, str | None]:
    """(cases run, the first failure's message or None) for one operation and mode."""
    count = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        nonlocal count
        count += 1
        case.call_and_validate(headers=headers, checks=CHECKS, timeout=60)

    try:
        check()
    except Unsatisfiable:  # nothing to violate (no parameters, no body): no negative case
        return count, None
    except (Exception, BaseExceptionGroup) as exc:  # reported; the other operations still run
        return count, f"{type(exc).__name__}: {str(exc)[:6000]}"
    return count, None


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_operation_keeps_its_contract(hub: HubStack, api_schema: Any,
                                            kind: str) -> None:
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
            n, failure = run_operation(operation, mode, headers)
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
