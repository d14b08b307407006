"""Production is the default (issue 13 §11): without a key file the hub refuses to start and
says which setting the demo uses instead; the key file is fsync'd when written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import KeyFileError
from core.privacy.keys import FileKeyProvider, new_keyring
from core.settings import Settings
from tests.unit.conftest import without_hub_environment


def test_production_is_the_default_mode() -> None:
    with without_hub_environment():
        assert Settings().mode == "production"


def test_the_api_and_worker_refuse_to_start_without_a_key_file_by_default(tmp_path: Path) -> None:
    from hub.api import create_api
    from streams.app import create_stream_app

    with without_hub_environment():
        settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
        for start in (create_api, create_stream_app):
            with pytest.raises(KeyFileError) as info:
                start(settings)
            message = str(info.value)
            assert "ssp-hub keys init" in message
            assert "SSP_HUB_MODE" in message
    assert not settings.resolved_key_file.exists()


def test_dev_mode_still_creates_a_key_file(tmp_path: Path) -> None:
    from hub.api import create_api

    with without_hub_environment():
        settings = Settings(mode="dev", data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
        create_api(settings)
    assert settings.resolved_key_file.is_file()


def test_the_demo_opts_into_dev_mode_explicitly() -> None:
    source = (Path(__file__).resolve().parents[2] / "hub" / "demo.py").read_text("utf-8")
    assert 'Settings(mode="dev"' in source
    assert '"SSP_HUB_MODE": settings.mode' in source  # and so does its worker


def test_the_key_file_and_its_directory_are_fsynced(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    path = tmp_path / "keys" / "keys.json"

    FileKeyProvider(path, create=True).write(new_keyring())

    assert any(s.startswith(str(path.parent / ".keys.json.")) for s in synced), synced
    assert str(path.parent) in synced
