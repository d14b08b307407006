"""Shared pytest options: which broker and which database the integration suite runs on."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker", default="embedded", choices=("embedded", "kafka"),
                     help="embedded tansu (default) or real Apache Kafka from Maven jars")
    parser.addoption("--database", default="sqlite", choices=("sqlite", "postgres"),
                     help="SQLite file (default) or PostgreSQL from Debian's packages")


# Integration files that share nothing with the others: the contract test (its traffic has
# no planted identifiers), the demo's own processes, the bounded-requests API of its own, and
# the 3-node cluster. On a second worker they start their own hub if they need one.
STANDALONE = frozenset(f"tests/integration/{name}.py" for name in (
    "test_schemathesis", "test_demo_and_cli", "test_demo_children", "test_bounded_requests",
    "test_cluster"))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n 2`` (``make test``) the integration files that share the session's hub stay
    one unit on one worker, in file order: they share state (the identifiers
    test_zz_no_plaintext searches for last, the key rotation of test_zy_…). The files that
    stand alone (:data:`STANDALONE`) and every unit-test file are units of their own on
    whichever worker is free: a file's module fixtures are built once, and a test that reads
    what an earlier test of its file left stays after it.

    A scheduler of our own rather than ``--dist loadgroup``: xdist 3.8 marks a group by
    rewriting the test's id, which pytest 9 no longer lets it do (the groups were ignored)."""
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.startswith("tests/integration/") and path not in STANDALONE:
                return "tests/integration"
            return path

    # Units in collection order rather than largest first: the shared hub's unit (the longest
    # by far) starts at once, and the rest fill in around it.
    config.option.loadscopereorder = False
    return SuiteScheduling(config, log)
