"""docker-compose.yml cannot run here (no Docker engine); this checks the shape of the
Kafka-native delivery in it: the agencies' SASL/SCRAM listener over TLS, their users, topics
and ACLs (kafka-agencies), and one connector service per native format."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from connectors.kafka_native import native_topic
from connectors.registry import CONNECTORS
from core.settings import AGENCIES, Settings

REPO = Path(__file__).resolve().parents[2]
BROKERS = ("kafka-1", "kafka-2", "kafka-3")


def _compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return doc


def _init_script() -> str:
    command = _compose()["services"]["kafka-agencies"]["command"]
    assert isinstance(command, list)
    assert len(command) == 1
    script: str = command[0]
    return script.replace("$$", "$")  # compose's escape for a literal $


def _calls(script: str, tool: str) -> list[list[str]]:
    """Each invocation of ``tool`` in the script, continuation lines joined, as argv."""
    joined = script.replace("\\\n", " ")
    return [shlex.split(line.strip())[1:] for line in joined.splitlines()
            if line.strip().startswith(f"./{tool}")]


def _option(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == name]


def _secret_sources(service: dict[str, Any]) -> set[str]:
    return {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}


def test_a_kafka_native_connector_service_per_native_format() -> None:
    services = _compose()["services"]
    for name, source in CONNECTORS.items():
        service = services[f"connector-{name}"]
        command = service["command"]
        assert command[:3] == ["ssp-hub", "connector", "kafka"]
        assert _option(command, "--connector") == [name]
        assert _option(command, "--topic") == [native_topic(name)]
        assert _option(command, "--api") == ["http://api:8000"]
        assert "api" in service["depends_on"]
        assert "kafka-agencies" in service["depends_on"]  # topics and ACLs first
        # Only the agency's API token: no database, no key ring.
        secrets = service["secrets"]
        assert [s["source"] for s in secrets] == [f"connector_token_{source.agency.value}"]
        assert secrets[0]["target"] == "ssp_hub_connector_token"  # Settings.connector_token
        env = service["environment"]
        assert env["SSP_HUB_MODE"] == "production"
        assert env["SSP_HUB_BOOTSTRAP_SERVERS"] == "kafka-1:9092,kafka-2:9092,kafka-3:9092"
        assert "SSP_HUB_CONNECTOR_TOKEN" not in env


def test_native_topics_keep_records_an_hour_at_most() -> None:
    services = _compose()["services"]
    init_env = services["kafka-agencies"]["environment"]
    retention = int(init_env["NATIVE_RETENTION_MS"])
    assert 0 < retention <= Settings().native_retention_ms
    for name in CONNECTORS:
        assert int(services[f"connector-{name}"]["environment"]
                   ["SSP_HUB_NATIVE_RETENTION_MS"]) == retention
    created = [argv for argv in _calls(_init_script(), "kafka-topics.sh") if "--create" in argv]
    native = [argv for argv in created if not _option(argv, "--topic")[0].endswith(".rejected")]
    assert native
    for argv in native:
        configs = dict(c.split("=", 1) for c in _option(argv, "--config"))
        assert configs["retention.ms"] == "$NATIVE_RETENTION_MS"
        assert int(configs["segment.ms"]) <= retention  # segments roll, deleted bytes go
        assert configs["cleanup.policy"] == "delete"
        assert _option(argv, "--replication-factor") == ["3"]


def test_brokers_offer_agencies_sasl_scram_over_tls_and_authorize_with_acls() -> None:
    services = _compose()["services"]
    published: set[str] = set()
    for broker in BROKERS:
        service = services[broker]
        env = service["environment"]
        assert "SASL_SSL:SASL_SSL" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        assert "SASL_SSL://:9094" in env["KAFKA_LISTENERS"].split(",")
        assert re.search(r"(^|,)SASL_SSL://[^,]+:\d+", env["KAFKA_ADVERTISED_LISTENERS"])
        assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] != "SASL_SSL"
        assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
        assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == \
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert not any(u.startswith("User:agency-") for u in env["KAFKA_SUPER_USERS"].split(";"))
        # The image reads the TLS keystore and its passwords from files, never from here.
        secrets = {s["target"]: s["source"] for s in service["secrets"]}
        assert secrets[f"/etc/kafka/secrets/{env['KAFKA_SSL_KEYSTORE_FILENAME']}"] == \
            f"kafka_{broker[-1]}_keystore"
        assert f"/etc/kafka/secrets/{env['KAFKA_SSL_KEYSTORE_CREDENTIALS']}" in secrets
        assert f"/etc/kafka/secrets/{env['KAFKA_SSL_KEY_CREDENTIALS']}" in secrets
        # Only the agencies' listener is published; the internal PLAINTEXT one is not.
        ports = service["ports"]
        assert all(str(p).endswith(":9094") for p in ports)
        published.update(str(p).split(":")[0] for p in ports)
        jaas = env["KAFKA_OPTS"].split("java.security.auth.login.config=")[1].split()[0]
        config = {c["target"]: c["source"] for c in service["configs"]}
        assert "ScramLoginModule required" in _compose()["configs"][config[jaas]]["content"]
    assert len(published) == len(BROKERS)  # each broker reachable on a port of its own


def test_each_agency_is_a_scram_user_that_may_write_only_its_own_native_topics() -> None:
    doc = _compose()
    script = _init_script()
    service = doc["services"]["kafka-agencies"]
    users = {}
    for argv in _calls(script, "kafka-configs.sh"):
        assert _option(argv, "--entity-type") == ["users"]
        assert "--add-config" not in argv  # no password on a command line
        users[_option(argv, "--entity-name")[0]] = _option(argv, "--add-config-file")[0]
    assert users == {"agency-$agency": "/run/secrets/kafka_scram_$agency"}
    loop = re.search(r"for agency in ([a-z ]+); do", script)
    assert loop is not None
    assert set(loop.group(1).split()) == set(AGENCIES)  # one user per agency
    assert _secret_sources(service) == {f"kafka_scram_{a}" for a in AGENCIES}
    for secret in _secret_sources(service):
        assert doc["secrets"][secret]["file"].startswith("./secrets/")

    # Every connector's topic is made for its own agency by the native() helper …
    made = re.findall(r"^\s*native (\S+) (\S+)\s*$", script, flags=re.MULTILINE)
    assert sorted(made) == sorted((c.agency.value, n) for n, c in CONNECTORS.items())
    # … which grants that agency Write on that topic and Read on its refusal reports only.
    acls = _calls(script, "kafka-acls.sh")
    topic_acls = [a for a in acls if _option(a, "--topic")]
    assert {(tuple(_option(a, "--allow-principal")), tuple(_option(a, "--operation")),
             tuple(_option(a, "--topic"))) for a in topic_acls} == {
        (("User:agency-$1",), ("Write", "Describe"), ("$topic",)),
        (("User:agency-$1",), ("Read", "Describe"), ("$topic.rejected",)),
    }
    assert 'topic="native.$1.$2"' in script
    for argv in acls:
        assert "--add" in argv
        assert "*" not in _option(argv, "--topic") + _option(argv, "--group")
        assert "--cluster" not in argv
        assert not {"All", "Delete", "Alter", "AlterConfigs", "Create"} & \
            set(_option(argv, "--operation"))
        if _option(argv, "--topic"):
            assert "--resource-pattern-type" not in argv  # literal: no prefix of others' topics
    group_acls = [a for a in acls if _option(a, "--group")]
    assert [(_option(a, "--group"), _option(a, "--operation")) for a in group_acls] == \
        [(["agency-$agency-"], ["Read"])]  # to read their .rejected reports


def test_every_secret_the_connectors_and_brokers_use_is_declared_from_a_file() -> None:
    doc = _compose()
    for name, service in doc["services"].items():
        for source in _secret_sources(service):
            assert source in doc["secrets"], f"{name}: secret {source} is not declared"
            assert doc["secrets"][source]["file"].startswith("./secrets/")
