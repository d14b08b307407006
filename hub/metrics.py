"""Prometheus metrics, computed from the store so they agree across API replicas and workers —
from its maintained aggregates (core/store/aggregates.py), so a scrape reads a few dozen rows
whatever the number of events.

Labels are outcome names and queue names only — never identifiers; per-queue counts below 5
are shown as 0. Only the scrape token or an admin's or security officer's token may read them.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator

from fastapi import Request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from core.ledger.auditlog import AuditLog
from core.settings import Settings
from core.store import Store
from core.store.aggregates import LATENCY_BOUNDS
from hub.limits import bearer_token

SMALL_COUNT = 5


def suppress_small(n: int) -> int:
    """Counts below :data:`SMALL_COUNT` (but above 0) are shown as 0."""
    return n if n >= SMALL_COUNT else 0


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """``/metrics`` answers the scrape token (``SSP_HUB_METRICS_TOKEN``) or the bearer token
    of an admin or a security officer — nobody else (issue 13 item 10)."""
    token = bearer_token(request.scope)
    if token is None:
        return False
    if settings.metrics_token is not None and hmac.compare_digest(
            token.encode(), settings.metrics_token.get_secret_value().encode()):
        return True
    store: Store = request.app.state.store
    principal = store.principal_by_token(token)
    if principal is None or principal.role not in SCRAPERS:
        return False
    request.state.principal = principal.name
    return True


SCRAPERS = ("admin", "security_officer")
LATENCY_BUCKETS = LATENCY_BOUNDS  # maintained by the store (core/store/aggregates.py)


class StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily
                                  | HistogramMetricFamily]:
        counts = self.store.outcome_counts()
        events = CounterMetricFamily("ssp_hub_events", "Ingested events by outcome",
                                     labels=["outcome"])
        for outcome in ("pending", "routed", "rejected", "quarantined", "aggregated"):
            events.add_metric([outcome], counts.get(outcome, 0))
        yield events

        cumulative, total, seconds = self.store.routed_latency_histogram(LATENCY_BUCKETS)
        buckets = [(str(b), n) for b, n in zip(LATENCY_BUCKETS, cumulative, strict=True)]
        buckets.append(("+Inf", total))
        hist = HistogramMetricFamily(
            "ssp_hub_ingest_to_routed_seconds",
            "Seconds from ingest acknowledgement until the concern is readable in a queue")
        hist.add_metric([], buckets, sum_value=seconds)
        yield hist

        # A gauge, not a counter: retention deletes concerns, so the number goes down. Small
        # counts are suppressed (issue 13 item 10): a queue with fewer than SMALL_COUNT
        # concerns shows 0, so that one young person's concern cannot be read off a scrape.
        queues = GaugeMetricFamily(
            "ssp_hub_routed_concerns",
            f"Routed concerns held per queue (counts below {SMALL_COUNT} shown as 0)",
            labels=["queue"])
        for queue, n in sorted(self.store.queue_counts(None).items()):
            queues.add_metric([queue], suppress_small(n))
        yield queues

        # The disclosure log: its size, and how old its newest signed checkpoint is (an
        # alert on a growing age means the sequencer stopped or cannot sign).
        audit = AuditLog(self.store)
        size = GaugeMetricFamily("ssp_hub_disclosure_log_entries",
                                 "Entries integrated into the disclosure log")
        size.add_metric([], audit.state().size)
        yield size
        latest = audit.latest_checkpoint()
        signed = GaugeMetricFamily("ssp_hub_disclosure_log_checkpoint_tree_size",
                                   "Tree size of the newest signed checkpoint")
        signed.add_metric([], latest.tree_size if latest else 0)
        yield signed
        if latest is not None:
            age = GaugeMetricFamily("ssp_hub_disclosure_log_checkpoint_age_seconds",
                                    "Seconds since the newest checkpoint was signed")
            age.add_metric([], (dt.datetime.now(dt.UTC) - latest.issued_at).total_seconds())
            yield age
