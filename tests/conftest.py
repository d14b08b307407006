"""Shared pytest options: which broker and which database the integration suite runs on."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker", default="embedded", choices=("embedded", "kafka"),
                     help="embedded tansu (default) or real Apache Kafka from Maven jars")
    parser.addoption("--database", default="sqlite", choices=("sqlite", "postgres"),
                     help="SQLite file (default) or PostgreSQL from Debian's packages")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n 2`` (``make test``) the integration suite stays one unit on one worker, in
    file order: its files share one hub per session and state between them (the identifiers
    test_zz_no_plaintext searches for last, the key rotation of test_zy_…). The unit tests
    fill the other core. The contract test (schemathesis, about a fifth of the integration
    time) shares nothing with the other files: it is a unit of its own, with its own hub.
    Every other file is a unit too: its module fixtures are built once, and a test that
    reads what an earlier test of its file left stays after it."""
    for item in items:
        if "integration" in item.path.parts and item.path.name != "test_schemathesis.py":
            group = "integration"
        else:
            group = str(item.path)
        item.add_marker(pytest.mark.xdist_group(group))
