"""Bounded requests, measured (issue 13 item 4): ten parallel 100 MB bodies against a real
API process (loopback, no broker) — without a token, with a token over the cap, chunked or
with a length — are refused before they are read, and the API's peak resident memory does
not grow; authenticated bodies under the cap share two upload slots (the rest get 503).

Before issue 13 three unauthenticated 76 MB bodies took the API to 824 MB.
"""

from __future__ import annotations

import pytest

from bench.upload_memory import measure

pytestmark = pytest.mark.timeout(300)

CAP_MB = 20  # the connector endpoint's default cap
SLOTS = 2  # large bodies the API admits at once (hub.limits)
SLACK_MB = 25  # allocator and interpreter noise on a warm process

OVER = ("no token", "agency token, ingest", "agency token, Content-Length",
        "agency token, chunked")


def test_ten_parallel_100_mb_bodies_leave_the_api_memory_flat() -> None:
    baseline, rounds = measure(mb=100, parallel=10, cap_mb=CAP_MB)
    for r in rounds:
        print(f"{r.name}: {dict(r.statuses)}, peak RSS {r.peak_rss_mb:.0f} MB "
              f"(warm baseline {baseline:.0f} MB)")
    by_name = {r.name: r for r in rounds}

    refused = [r for r in rounds if r.name.startswith(OVER)]
    assert len(refused) == 7
    for r in refused:
        assert sum(r.statuses.values()) == 10, r
        expected = {401} if r.name.startswith("no token") else {413, 503}
        assert set(r.statuses) <= expected, r
        # Nothing of the 1 GB was held. A chunked body has no length to judge up front:
        # the two slots read up to the cap each before the 413, by design.
        allowed = SLOTS * CAP_MB if r.name == "agency token, chunked" else 0
        assert r.peak_rss_mb - baseline < allowed + SLACK_MB, r

    under = [r for n, r in by_name.items() if "under the cap" in n]
    for r in under:
        assert set(r.statuses) <= {200, 503}, r
        assert r.statuses[200] >= 1, r  # the slots let legitimate uploads through
        assert r.peak_rss_mb - baseline < 500, r  # two slots of 19 MB, parsed
