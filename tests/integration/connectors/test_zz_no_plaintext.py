"""Runs after the connectors' integration tests, which share a hub of their own when the suite
runs on several workers (tests/conftest.py): no identifier the connectors forwarded is on a
hub topic or in a process log, and the agencies' native topics are emptied once forwarded
(tests/integration/plaintext.py)."""

from __future__ import annotations

import pytest

from tests.integration.hubstack import HubStack
from tests.integration.plaintext import (
    assert_no_identifier_in_logs,
    assert_no_identifier_on_hub_topics,
    check_native_topics,
)

pytestmark = pytest.mark.integration


def test_no_plaintext_identifier_in_any_hub_topic(hub: HubStack) -> None:
    assert_no_identifier_on_hub_topics(hub)


def test_native_agency_topics_hold_no_plaintext_once_forwarded(
        hub: HubStack, request: pytest.FixtureRequest) -> None:
    check_native_topics(hub, request)


def test_no_identifier_in_process_logs(hub: HubStack) -> None:
    assert_no_identifier_in_logs(hub)
