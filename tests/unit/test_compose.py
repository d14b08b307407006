"""docker-compose.yml cannot run here (no Docker engine); this checks its shape instead."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from core.settings import WORKER_STAGES, Settings

REPO = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return doc


def _harness_settings() -> dict[str, str]:
    out = {}
    for line in (REPO / "scripts" / "kafka-broker.properties").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = value
    return out


def test_compose_has_three_kraft_brokers_postgres_api_and_two_workers() -> None:
    services = _compose()["services"]
    assert {"kafka-1", "kafka-2", "kafka-3", "postgres", "api", "worker-1",
            "worker-2"} <= set(services)
    node_ids = {services[f"kafka-{i}"]["environment"]["KAFKA_NODE_ID"] for i in (1, 2, 3)}
    assert node_ids == {"1", "2", "3"}
    for i in (1, 2, 3):
        env = services[f"kafka-{i}"]["environment"]
        assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert services["worker-1"]["command"] == ["ssp-hub", "worker"]
    assert services["api"]["command"] == ["ssp-hub", "api"]
    assert services["api"]["environment"]["SSP_HUB_MODE"] == "production"


def test_compose_brokers_use_the_test_harness_settings() -> None:
    services = _compose()["services"]
    harness = _harness_settings()
    assert harness["min.insync.replicas"] == "2"
    assert harness["default.replication.factor"] == "3"
    for i in (1, 2, 3):
        env = services[f"kafka-{i}"]["environment"]
        for key, value in harness.items():
            env_key = "KAFKA_" + key.upper().replace(".", "_")
            assert env.get(env_key) == value, f"kafka-{i}: {env_key} differs from the harness"


def test_compose_holds_no_secret() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    doc = _compose()
    for name, service in doc["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY$", key):
                assert key.endswith("_FILE") or str(value).startswith("/run/secrets/"), name
    assert not re.search(r"[A-Za-z0-9+/]{40,}={0,2}", text), "something key-like is inlined"
    assert "postgresql://" not in text
    assert "postgresql+psycopg://" not in text
    for secret in doc["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_every_worker_names_known_stages_and_every_stage_has_a_worker() -> None:
    services = _compose()["services"]
    covered: set[str] = set()
    for name, service in services.items():
        command = service.get("command") or []
        if command[:2] != ["ssp-hub", "worker"]:
            continue
        stages = command[command.index("--stages") + 1] if "--stages" in command else \
            ",".join(WORKER_STAGES)
        covered |= set(Settings(worker_stages=stages).stages)  # refuses an unknown stage
        assert name.startswith("worker")
    assert covered == set(WORKER_STAGES)
