"""Runs after the browser tests, which share a hub of their own when the suite runs on several
workers (tests/conftest.py): no identifier their sample events carried is on a hub topic or in
a process log. The same two tests as the top-level group's (imported, so collected here too)."""

from __future__ import annotations

import pytest

from tests.integration.test_zz_no_plaintext import (
    test_no_identifier_in_process_logs,
    test_no_plaintext_identifier_in_any_hub_topic,
)

pytestmark = pytest.mark.integration
__all__ = ["test_no_identifier_in_process_logs", "test_no_plaintext_identifier_in_any_hub_topic"]
