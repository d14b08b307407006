"""Runs after the other integration tests: search every record on the broker for any CPR,
name or address that any test handed to the hub. Only AES-GCM ciphertext may carry them."""

from __future__ import annotations

import pytest

from tests.integration.events import IDENTIFIERS
from tests.integration.hubstack import HubStack, read_all_topics

pytestmark = pytest.mark.integration


def test_no_plaintext_identifier_in_any_topic(hub: HubStack) -> None:
    assert len(IDENTIFIERS) > 50, "the other integration tests should have run first"
    records = read_all_topics(hub.settings.bootstrap_servers)
    assert len(records) > 100
    needles = [s.encode("utf-8") for s in IDENTIFIERS]
    hits = []
    for topic, key, value, headers in records:
        blobs = [key or b"", value, *(k.encode() + b"=" + (v or b"") for k, v in headers)]
        for blob in blobs:
            if any(n in blob for n in needles):
                hits.append(topic)
    assert hits == []


def test_no_identifier_in_process_logs(hub: HubStack) -> None:
    text = "\n".join(p.read_text(errors="replace") for p in hub.logs.glob("*.log"))
    assert text  # the processes did log
    leaked = sorted(s for s in IDENTIFIERS if s in text)
    assert leaked == []
