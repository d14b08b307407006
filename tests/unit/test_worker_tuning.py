"""How the worker process tunes the interpreter when it starts (streams/app.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.settings import Settings
from streams import app as worker
from tests.unit.conftest import without_hub_environment


def test_a_starting_worker_hands_the_gil_over_every_millisecond(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The route stage's deciding thread would otherwise hold the GIL for up to Python's
    default 5 ms while an acknowledgement or a PostgreSQL answer waits (streams/app.py
    short_gil_slices)."""
    monkeypatch.setattr(worker, "freeze_startup_heap", lambda: None)  # not this test's heap
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        with without_hub_environment():
            settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1", mode="dev")
        worker.create_stream_app(settings)
        assert sys.getswitchinterval() == pytest.approx(worker.GIL_SWITCH_S)
    finally:
        sys.setswitchinterval(before)
