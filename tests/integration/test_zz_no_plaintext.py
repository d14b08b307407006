"""Runs after the other integration tests that share the session's hub (the test scheduler
in tests/conftest.py keeps them on one worker): no identifier any of them sent is on a topic
or in a process log (tests/integration/plaintext.py). The Kafka-native connectors' topics are
checked after their own tests, in connectors/test_zz_no_plaintext.py."""

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
