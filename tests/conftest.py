"""Shared pytest options: which broker and which database the integration suite runs on."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker", default="embedded", choices=("embedded", "kafka"),
                     help="embedded tansu (default) or real Apache Kafka from Maven jars")
    parser.addoption("--database", default="sqlite", choices=("sqlite", "postgres"),
                     help="SQLite file (default) or PostgreSQL from Debian's packages")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n 2`` (``make test``) the integration suite stays one unit on one worker, in
    file order: its files share one hub per session and state between them (the identifiers
    test_zz_no_plaintext searches for last, the key rotation of test_zy_…). The unit tests
    fill the other core. The contract test (schemathesis, about a fifth of the integration
    time) shares nothing with the other files: it is a unit of its own, with its own hub.
    Every other file is a unit too: its module fixtures are built once, and a test that
    reads what an earlier test of its file left stays after it.

    A scheduler of our own rather than ``--dist loadgroup``: xdist 3.8 marks a group by
    rewriting the test's id, which pytest 9 no longer lets it do (the groups were ignored)."""
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith("tests/integration/") and not path.endswith(
                    "test_schemathesis.py"):
                return "tests/integration"
            return path

    return SuiteScheduling(config, log)
