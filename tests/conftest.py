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
    fill the other core."""
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("integration"))
