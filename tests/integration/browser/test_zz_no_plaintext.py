"""Runs after the browser tests, which share a hub of their own when the suite runs on several
workers (tests/conftest.py): no identifier their sample events carried is on a hub topic or in
a process log (tests/integration/plaintext.py)."""

from __future__ import annotations

import pytest

from tests.integration.hubstack import HubStack
from tests.integration.plaintext import (
    assert_no_identifier_in_logs,
    assert_no_identifier_on_hub_topics,
)

pytestmark = pytest.mark.integration


def test_no_plaintext_identifier_in_any_hub_topic(hub: HubStack) -> None:
    assert_no_identifier_on_hub_topics(hub)


def test_no_identifier_in_process_logs(hub: HubStack) -> None:
    assert_no_identifier_in_logs(hub)
