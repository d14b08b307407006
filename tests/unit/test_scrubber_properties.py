"""Properties of the scrubber over generated text (hypothesis): an inserted name or CPR never
survives; scrubbing a scrubbed text changes no placeholder; the CPR digits never leak."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.privacy.scrubber.gazetteer import DATA_DIR, WORD, read_list
from tests.scrubber.shared import scrubbed, shared_scrubber

# Filler text: Danish letters (lower case: a capital word next to a name could extend it),
# digits, spaces and punctuation.
_FILLER = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnoprstuvyæøå      ,.:;!?()0123456789\n")),
    max_size=120,
)
_flags = shared_scrubber()._names._flags
# Gazetteer names that are names on their own (no context needed): every such name must go.
_NAMES = sorted(
    n for n in {*read_list(DATA_DIR / "first_names_curated.txt"),
                *read_list(DATA_DIR / "surnames_curated.txt")}
    if len(n) > 2 and n[0].isupper() and not _flags.get(n.lower(), 0) & WORD
)
_KNOWN = ["Mikkel Østergård Sørensen", "Hanne Østergård", "Said Haddad", "Bo Skov"]


@st.composite
def cprs(draw: st.DrawFn) -> str:
    """A CPR number with a real birth date (1937–2036) and a matching century digit."""
    born = draw(st.dates(min_value=dt.date(1937, 1, 1), max_value=dt.date(2036, 12, 31)))
    seventh = draw(st.sampled_from("0123" if born.year < 2000 else "49"))
    serial = f"{seventh}{draw(st.integers(0, 999)):03d}"
    sep = draw(st.sampled_from(["-", "", " "]))
    return f"{born:%d%m}{born.year % 100:02d}{sep}{serial}"


def _word_re(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![^\W\d_]){re.escape(value)}(?![^\W\d_])")


@settings(max_examples=150, deadline=None)
@given(_FILLER, st.sampled_from(_NAMES), _FILLER)
def test_a_gazetteer_name_inserted_anywhere_never_survives(before: str, name: str,
                                                           after: str) -> None:
    out = scrubbed(f"{before} {name} {after}")
    assert not _word_re(name).search(out)


@settings(max_examples=150, deadline=None)
@given(_FILLER, st.sampled_from([p for n in _KNOWN for p in n.split()]), _FILLER,
       st.sampled_from(["", "s", "'s"]), st.sampled_from([str, str.upper, str.lower]))
def test_a_known_name_inserted_anywhere_never_survives(
    before: str, part: str, after: str, suffix: str, case: object
) -> None:
    assert callable(case)
    word = case(part)
    if word.islower() and part in ("Said", "Bo", "Skov"):
        word = part  # a lower-case "bo"/"skov"/"said" is the Danish word, not the name
    out = scrubbed(f"{before} {word}{suffix} {after}", tuple(_KNOWN))
    assert not _word_re(word).search(out)


@settings(max_examples=200, deadline=None)
@given(_FILLER, cprs(), _FILLER)
def test_a_cpr_inserted_anywhere_never_survives(before: str, cpr: str, after: str) -> None:
    out = scrubbed(f"{before} {cpr} {after}")
    assert cpr not in out
    assert re.sub(r"\D", "", cpr) not in out.replace(" ", "").replace("-", "")


@settings(max_examples=150, deadline=None)
@given(_FILLER, st.sampled_from(_NAMES), cprs(), _FILLER)
def test_scrubbing_twice_changes_no_placeholder(before: str, name: str, cpr: str,
                                                after: str) -> None:
    once = scrubbed(f"{before} {name} har cpr {cpr}. {after}", tuple(_KNOWN))
    twice = scrubbed(once, tuple(_KNOWN))
    placeholder = re.compile(r"\[(?:person \d+|CPR|TELEFON|EMAIL|HANDLE|ADRESSE|NUMMERPLADE)\]")
    assert placeholder.findall(twice) == placeholder.findall(once)
