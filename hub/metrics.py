"""Prometheus metrics, computed from the store so they agree across API replicas and workers.

Labels are outcome names and queue names only — never identifiers.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from hub.store import Store

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        counts = self.store.outcome_counts()
        events = CounterMetricFamily("ssp_hub_events", "Ingested events by outcome",
                                     labels=["outcome"])
        for outcome in ("pending", "routed", "rejected", "quarantined"):
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

        queues = CounterMetricFamily("ssp_hub_routed_concerns", "Routed concerns by queue",
                                     labels=["queue"])
        for queue, n in sorted(self.store.queue_counts(None).items()):
            queues.add_metric([queue], n)
        yield queues
