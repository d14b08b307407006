"""The demo's sample data (hub/sample_data.py)."""

from __future__ import annotations

import hashlib
import json

from hub.sample_data import sample_events

# sha256 of sample_events() as compact JSON, recorded from the code-written demo data before it
# moved into hub/demo_data/*.yaml: the data files must reproduce it byte for byte.
RECORDED = "52444383a1637e8afa6fdaa8e29d1a38cf1d18fe9a5a4c6122487ef5cc7133bb"


def test_sample_events_are_the_recorded_ones() -> None:
    text = json.dumps(sample_events(), ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == RECORDED
