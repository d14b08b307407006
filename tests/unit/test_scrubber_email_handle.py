"""E-mail and social-media handle recognizers."""

from __future__ import annotations

import pytest

from tests.scrubber.shared import kinds, scrubbed


@pytest.mark.parametrize(
    "email",
    ["ahmed.hassan@gmail.com", "mikkel_2010@hotmail.dk", "a.b+c@sub.example.org",
     "hanne.oestergaard@vordingborg.dk", "X99@live.dk"],
)
def test_email_addresses_are_removed(email: str) -> None:
    text = f"Skriv til {email}, tak."
    assert kinds(text) == [("email", email)]
    assert scrubbed(text) == "Skriv til [EMAIL], tak."


@pytest.mark.parametrize(
    ("text", "handle"),
    [
        ("Han skriver som @ahmed_2010 på Snapchat", "@ahmed_2010"),
        ("profilen @real.mikkel.07 på TikTok", "@real.mikkel.07"),
        ("(@x_y)", "@x_y"),
        ("snap: kongen_2009", "kongen_2009"),
        ("på Instagram som lille.prinsesse.dk", "lille.prinsesse.dk"),
        ("TikTok-navnet er ahmedx07", "ahmedx07"),
    ],
)
def test_social_media_handles_are_removed(text: str, handle: str) -> None:
    assert ("handle", handle) in kinds(text)
    assert handle not in scrubbed(text)


def test_the_at_in_an_email_is_not_a_handle() -> None:
    assert kinds("mail: ahmed@gmail.com") == [("email", "ahmed@gmail.com")]


@pytest.mark.parametrize(
    "text", ["Han er på Snapchat hele natten.", "mødes @ 14", "snap er en app"]
)
def test_platform_words_alone_are_not_handles(text: str) -> None:
    assert [k for k in kinds(text) if k[0] == "handle"] == []
