"""A bare " at " is also Danish prose ("lovede at komme"): after it, an e-mail address needs its
dots written, so a sentence that happens to end in a domain-like word ("de", "online") stays."""

from __future__ import annotations

import pytest

from core.privacy.scrubber import Scrubber

_SCRUBBER = Scrubber()


@pytest.mark.parametrize(
    "text",
    [
        "han lovede at komme og de gik hjem",
        "det er svært at sige om de kommer",
        "Han har talt om at rejse til Syrien. Han har fulgt prædikener online",
        "Hun nåede at komme. De gik hjem sammen",
    ],
)
def test_prose_with_at_is_no_email(text: str) -> None:
    assert [f.kind for f in _SCRUBBER.scrub(text).findings if f.kind == "email"] == []


@pytest.mark.parametrize(
    "address",
    [
        "mikkel at hotmail dot com",
        "mikkel at live.dk",
        "MIKKEL AT GMAIL PUNKTUM DK",
        "mikkel (at) gmail dk",
        "mikkel [at] gmail [dot] com",
        "mikkel snabel-a gmail punktum dk",
        "mikkel @ gmail . com",
    ],
)
def test_written_out_addresses_are_still_found(address: str) -> None:
    result = _SCRUBBER.scrub(f"skriv til {address} i aften")
    assert result.text == "skriv til [EMAIL] i aften"
