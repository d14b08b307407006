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
# the 3-node cluster. On a worker of their own they start their own hub if they need one.
STANDALONE = frozenset(f"tests/integration/{name}.py" for name in (
    "test_schemathesis", "test_demo_and_cli", "test_demo_children", "test_bounded_requests",
    "test_cluster"))
# The groups of integration files that share one hub each (a session fixture, so one per pytest
# worker), in file order, each ending in its own test_zz_no_plaintext.py: the connectors, the
# browser tests (Playwright), and the rest. A run without -n (make test-kafka) goes through
# them in directory order on one hub: browser/, connectors/, then the files at the top.
HUB_GROUPS = ("tests/integration/connectors", "tests/integration/browser", "tests/integration")


def hub_group(nodeid: str) -> str | None:
    """The hub group an integration test belongs to, or None for a file that stands alone."""
    path = nodeid.split("::", 1)[0]
    if not path.startswith("tests/integration/") or path in STANDALONE:
        return None
    return next(g for g in HUB_GROUPS if path.startswith(g + "/"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker (``make test``), the hub groups first: the scheduler hands out units
    in collection order, so each group, the longest units by far, starts at once on a worker of
    its own while the unit tests fill the rest. A run without ``-n`` keeps file order."""
    if not hasattr(config, "workerinput"):
        return
    rank = {g: i for i, g in enumerate(HUB_GROUPS)}
    items.sort(key=lambda item: rank.get(hub_group(item.nodeid) or "", len(rank)))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n 3`` (``make test``) each hub group (:data:`HUB_GROUPS`) stays one unit on one
    worker, in file order: its files share state (the identifiers its test_zz_no_plaintext
    searches for last, the key rotation of test_zy_…). The files that stand alone
    (:data:`STANDALONE`) and every unit-test file are units of their own on whichever worker
    is free: a file's module fixtures are built once, and a test that reads what an earlier
    test of its file left stays after it.

    Three workers on two cores: the hub groups spend most of their time waiting (for a killed
    process to be restarted, a consumer group to rebalance, a browser to render), and the
    third worker runs the unit tests in that time.

    A scheduler of our own rather than ``--dist loadgroup``: xdist 3.8 marks a group by
    rewriting the test's id, which pytest 9 no longer lets it do (the groups were ignored)."""
    from xdist.scheduler import LoadScopeScheduling

    class SuiteScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return hub_group(nodeid) or nodeid.split("::", 1)[0]

    # Units in collection order (pytest_collection_modifyitems puts the hub groups first)
    # rather than largest first.
    config.option.loadscopereorder = False
    return SuiteScheduling(config, log)
