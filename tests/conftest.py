"""Shared pytest options: which broker and which database the integration suite runs on."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--broker", default="embedded", choices=("embedded", "kafka"),
                     help="embedded tansu (default) or real Apache Kafka from Maven jars")
    parser.addoption("--database", default="sqlite", choices=("sqlite", "postgres"),
                     help="SQLite file (default) or PostgreSQL from Debian's packages")
