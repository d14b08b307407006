"""/docs and /redoc work air-gapped (issue 16): every script and stylesheet they load is
served by the hub itself, none from a CDN."""

from __future__ import annotations

import re

import pytest

from tests.unit import test_web
from tests.unit.test_web import Web

web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_nothing_from_another_host(web: Web, page: str) -> None:
    client = web.client()
    html = client.get(page)
    assert html.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:  # and the hub serves each of them
        assert client.get(asset).status_code == 200, asset
    assert "/openapi.json" in html.text
