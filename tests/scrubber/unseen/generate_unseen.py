"""Generate ``eval_unseen.jsonl``: Danish reports whose names no detector list knows.

    .venv/bin/pip install names-dataset==3.3.1     # generation-time tool only (MIT licence)
    .venv/bin/python -m tests.scrubber.unseen.generate_unseen [--extra-lists DIR ...]

Deterministic (fixed seed, sorted sources). Writes ``eval_unseen.jsonl`` (one report per line:
``text``, ``known_names``, ``spans`` with ``start``/``end``/``kind`` and, for names, ``origin``
and ``case``; ``content_words``) and ``names_unseen.tsv`` (every name in the pools with its
role, origin and source). Names are drawn from ``names_sources.py``; every name any part of
which occurs, folded, in a detector list (``core/privacy/scrubber/data/*.txt``, plus any
``--extra-lists`` directory) is dropped before sampling.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.scrubber.unseen import identifiers as ids
from tests.scrubber.unseen import templates as tpl
from tests.scrubber.unseen.folding import DETECTOR_DATA, detector_words, fold, known_part
from tests.scrubber.unseen.names_sources import (
    HAND,
    HAND_EXTRA_SURNAMES,
    ND_COUNTRIES,
    ND_TOP_FIRST,
    ND_TOP_SUR,
    NICKNAMES,
    danish_words,
    eval_half,
    usable_nd_name,
)

HERE = Path(__file__).parent
OUT = HERE / "eval_unseen.jsonl"
NAMES_OUT = HERE / "names_unseen.tsv"
SEED = 20261206
N_TEXTS = 600

Rng = random.Random


@dataclass(frozen=True)
class Name:
    text: str
    origin: str
    source: str


@dataclass
class Pool:
    male: list[Name] = field(default_factory=list)
    female: list[Name] = field(default_factory=list)
    sur: list[Name] = field(default_factory=list)
    particle_sur: list[Name] = field(default_factory=list)


def _content_tokens() -> set[str]:
    """Folded words of the templates' content, so that no eval name is also content."""
    words: set[str] = set()
    for group in (tpl.SHOPS, tpl.PLACES, tpl.SCHOOLS, tpl.STATIONS, tpl.TOWN_NAMES):
        for item in group:
            words.update(fold(w) for w in re.split(r"[\s\-]+", item) if w)
    return words


def build_pools(excluded: set[str]) -> tuple[dict[str, Pool], list[Name]]:
    pools: dict[str, Pool] = {}
    seen: set[tuple[str, str]] = set()
    content = _content_tokens()

    def add(bucket: list[Name], name: Name, role: str) -> None:
        key = (fold(name.text), role)
        if key in seen or known_part(name.text, excluded) or fold(name.text) in content:
            return
        seen.add(key)
        bucket.append(name)

    try:
        from names_dataset import NameDataset  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        sys.exit("names-dataset is needed to regenerate: .venv/bin/pip install "
                 "names-dataset==3.3.1")
    nd = NameDataset()
    vocabulary = danish_words()
    for country in sorted(ND_COUNTRIES):
        origin = ND_COUNTRIES[country]
        pool = pools.setdefault(origin, Pool())
        first = nd.get_top_names(n=ND_TOP_FIRST, country_alpha2=country).get(country, {})
        for gender, bucket in (("M", pool.male), ("F", pool.female)):
            for rank, raw in enumerate(first.get(gender, [])):
                text = str(raw)
                if usable_nd_name(text, vocabulary) and eval_half(text):
                    add(bucket, Name(text, origin,
                                     f"names-dataset:{country}:first:{gender}:{rank + 1}"),
                        "first")
        sur = nd.get_top_names(n=ND_TOP_SUR, use_first_names=False,
                               country_alpha2=country).get(country, [])
        for rank, raw in enumerate(sur):
            text = str(raw)
            if usable_nd_name(text, vocabulary) and eval_half(text):
                add(pool.sur, Name(text, origin, f"names-dataset:{country}:last:{rank + 1}"),
                    "sur")
    for origin in sorted(HAND):
        male, female, sur = HAND[origin]
        pool = pools.setdefault(origin, Pool())
        for text in male:
            add(pool.male, Name(text, origin, f"hand:{origin}:first:M"), "first")
        for text in female:
            add(pool.female, Name(text, origin, f"hand:{origin}:first:F"), "first")
        for text in sur:
            bucket = pool.particle_sur if re.search(r"[\s\-]", text) else pool.sur
            add(bucket, Name(text, origin, f"hand:{origin}:last"), "sur")
    for origin in sorted(HAND_EXTRA_SURNAMES):
        pool = pools.setdefault(origin, Pool())
        for text in HAND_EXTRA_SURNAMES[origin]:
            add(pool.particle_sur, Name(text, origin, f"hand:{origin}:last"), "sur")
    nicks: list[Name] = []
    for text in NICKNAMES:
        add(nicks, Name(text, "nickname", "hand:nickname"), "nick")
    usable = {o: p for o, p in pools.items() if p.male and p.female and (p.sur or p.particle_sur)}
    return usable, nicks


@dataclass
class Person:
    first: Name
    sur: Name
    nick: Name
    male: bool
    middle: Name | None = None

    @property
    def full(self) -> str:
        mid = f" {self.middle.text}" if self.middle else ""
        return f"{self.first.text}{mid} {self.sur.text}"


class Generator:
    def __init__(self, rng: Rng, pools: dict[str, Pool], nicks: list[Name]) -> None:
        self.rng = rng
        self.pools = pools
        self.origins = sorted(pools)
        self.nicks = nicks

    def surname(self, origin: str) -> Name:
        pool = self.pools[origin]
        rng = self.rng
        if pool.particle_sur and (not pool.sur or rng.random() < 0.3):
            return rng.choice(pool.particle_sur)
        first = rng.choice(pool.sur)
        if origin.startswith("danish") and rng.random() < 0.2:
            second = rng.choice(pool.sur)
            if second != first:
                return Name(f"{first.text}-{second.text}", origin,
                            f"{first.source}+{second.source}")
        return first

    def person(self, origin: str | None = None, male: bool | None = None,
               sur: Name | None = None) -> Person:
        rng = self.rng
        origin = origin or rng.choice(self.origins)
        male = rng.random() < 0.5 if male is None else male
        pool = self.pools[origin]
        first = rng.choice(pool.male if male else pool.female)
        middle = None
        if rng.random() < 0.1:
            middle = rng.choice(pool.male if male else pool.female)
            if middle == first:
                middle = None
        return Person(first, sur or self.surname(origin), rng.choice(self.nicks), male, middle)

    def cast(self) -> dict[str, Person]:
        rng = self.rng
        origin = rng.choice(self.origins)
        family = self.surname(origin)
        subject = self.person(origin, sur=family)
        mother_origin = origin if rng.random() < 0.85 else rng.choice(self.origins)
        mother = self.person(mother_origin, male=False,
                             sur=family if rng.random() < 0.6 else None)
        return {
            "S": subject,
            "M": mother,
            "F": self.person(origin, male=True, sur=family),
            "B": self.person(origin, sur=family),
            "V": self.person(), "W": self.person(), "X": self.person(),
            "T": self.person(), "K": self.person(), "P": self.person(),
        }


_SLOT = re.compile(r"\{([A-Za-z]+)(?:\.([A-Za-z]+))?\}|\[\[([^\]]+)\]\]")


class Doc:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict[str, object]] = []
        self.content: list[str] = []
        self.content_spans: list[dict[str, int]] = []

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def gold(self, s: str, kind: str, **extra: str) -> None:
        self.spans.append({"start": self.length, "end": self.length + len(s), "kind": kind,
                           **extra})
        self.text(s)

    def keep(self, s: str) -> None:
        self.content.append(s)
        self.content_spans.append({"start": self.length, "end": self.length + len(s)})
        self.text(s)


def _handle_base(p: Person, rng: Rng) -> str:
    first = re.sub(r"[^a-z0-9]", "", fold(p.first.text))
    sur = re.sub(r"[^a-z0-9]", "", fold(p.sur.text))
    return rng.choice([first, f"{first}.{sur[:1]}", f"{first}{sur[:3]}", f"{sur}{first[:1]}"])


def render(gen: Generator, cast: dict[str, Person], sentences: list[str], doc: Doc) -> None:
    rng = gen.rng
    s = cast["S"]
    pron = {"<han>": "han" if s.male else "hun", "<Han>": "Han" if s.male else "Hun",
            "<ham>": "ham" if s.male else "hende", "<hans>": "hans" if s.male else "hendes",
            "<sib>": ("bror" if cast["B"].male else "søster")}
    for i, sentence in enumerate(sentences):
        if i:
            doc.text(" ")
        for key, value in pron.items():
            sentence = sentence.replace(key, value)
        pos = 0
        for m in _SLOT.finditer(sentence):
            doc.text(sentence[pos:m.start()])
            pos = m.end()
            slot, flag, literal = m.group(1), m.group(2) or "", m.group(3)
            if literal:
                doc.keep(literal)
            elif slot in cast:
                _person_slot(doc, cast[slot], flag)
            else:
                _other_slot(gen, doc, cast, slot, flag, rng)
        doc.text(sentence[pos:])


def _name(doc: Doc, value: str, origin: str, lower: bool) -> None:
    doc.gold(value.lower() if lower else value, "name", origin=origin,
             case="lower" if lower else "upper")


_QUOTES = [("", ""), ("", ""), ("\"", "\""), ("“", "”"), ("'", "'"), ("»", "«")]


def _person_slot(doc: Doc, p: Person, flag: str) -> None:
    origin = p.first.origin
    if flag == "":
        _name(doc, p.first.text, origin, False)
    elif flag == "full":
        _name(doc, p.full, origin, False)
    elif flag == "sur":
        _name(doc, p.sur.text, p.sur.origin, False)
    elif flag in ("gen", "lcgen"):
        lower = flag == "lcgen"
        _name(doc, p.first.text, origin, lower)
        doc.text("'" if p.first.text[-1] in "sxzSXZ" else "s")
    elif flag == "lc":
        _name(doc, p.first.text, origin, True)
    elif flag == "lcfull":
        _name(doc, p.full, origin, True)
    elif flag == "nick":
        opening, closing = _QUOTES[zlib.crc32((p.nick.text + p.first.text).encode()) % len(_QUOTES)]
        doc.text(opening)
        _name(doc, p.nick.text, "nickname", False)
        doc.text(closing)
    else:
        raise ValueError(flag)


def _other_slot(gen: Generator, doc: Doc, cast: dict[str, Person], slot: str, flag: str,
                rng: Rng) -> None:
    content: dict[str, Callable[[], str]] = {
        "shop": lambda: rng.choice(tpl.SHOPS), "place": lambda: rng.choice(tpl.PLACES),
        "school": lambda: rng.choice(tpl.SCHOOLS), "station": lambda: rng.choice(tpl.STATIONS),
        "town": lambda: rng.choice(tpl.TOWN_NAMES), "klasse": lambda: rng.choice(tpl.KLASSER),
        "cdate": lambda: ids.content_date(rng), "time": lambda: ids.content_time(rng),
    }
    if slot in content:
        doc.keep(content[slot]())
        return
    adult = flag == "a"
    if slot in ("email", "handle", "url"):
        p = cast[flag or "S"]
        base = _handle_base(p, rng)
        if slot == "email":
            local = rng.choice([base, f"{base}{rng.randrange(1, 99)}",
                                re.sub(r"[^a-z0-9.]", "", fold(p.full).replace(" ", "."))])
            cue, value = ids.email(rng, local)
        elif slot == "handle":
            cue, value = ids.handle(rng, base)
        else:
            first = re.sub(r"[^a-z]", "", fold(p.first.text))
            sur = re.sub(r"[^a-z]", "", fold(p.sur.text))
            cue, value = ids.url(rng, base, first, sur)
    elif slot == "addr":
        cue, value, tail = ids.address(rng)
        doc.text("" if flag == "n" else cue)
        doc.gold(value, "address")
        doc.text(tail)
        return
    else:
        makers: dict[str, Callable[[], tuple[str, str]]] = {
            "cpr": lambda: ids.cpr(rng, adult), "dob": lambda: ids.dob(rng, adult),
            "case": lambda: ids.case_number(rng), "phone": lambda: ids.phone(rng),
            "plate": lambda: ids.plate(rng),
            "account": lambda: ids.account(rng), "ip": lambda: ids.ip(rng),
        }
        cue, value = makers[slot]()
        if flag == "n":
            cue = ""
    kind = {"case": "case_number", "addr": "address"}.get(slot, slot)
    if cue:
        platform = re.match(r"(?i)(snapchat|snap|insta(?:gram)?|tiktok|discord)", cue.strip())
        if platform and slot == "handle":
            doc.keep(platform.group(0))
            doc.text(cue[platform.end():])
        else:
            doc.text(cue)
    doc.gold(value, kind)
    if cue.endswith("("):
        doc.text(")")


def generate(n: int, excluded: set[str], seed: int = SEED
             ) -> tuple[list[dict[str, object]], list[Name]]:
    pools, nicks = build_pools(excluded)
    rng = Rng(seed)
    gen = Generator(rng, pools, nicks)
    records: list[dict[str, object]] = []
    agencies = sorted(tpl.OPENINGS)
    for i in range(n):
        agency = agencies[i % len(agencies)]
        cast = gen.cast()
        body = rng.sample(tpl.BODIES[agency] + tpl.SHARED, rng.randint(3, 5))
        chats = rng.sample(tpl.CHATS, rng.choice([0, 1, 1, 2]))
        for chat in chats:
            body.insert(rng.randrange(len(body) + 1), chat)
        sentences = [rng.choice(tpl.OPENINGS[agency]), *body, rng.choice(tpl.CLOSINGS)]
        doc = Doc()
        render(gen, cast, sentences, doc)
        text = "".join(doc.parts)
        for span in doc.spans:
            assert text[int(str(span["start"])):int(str(span["end"]))].strip(), span
        roll = rng.random()
        if roll < 0.15:
            known: list[str] = []
        elif roll < 0.4:
            known = [cast["S"].full]
        else:
            known = [cast["S"].full, cast["M"].full, cast["F"].full]
            if rng.random() < 0.5:
                known.append(cast["B"].full)
        records.append({"text": text, "known_names": known, "spans": doc.spans,
                        "content_words": sorted(set(doc.content)),
                        "content_spans": doc.content_spans})
    names = [nm for pool in pools.values()
             for nm in (*pool.male, *pool.female, *pool.sur, *pool.particle_sur)] + nicks
    return records, names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extra-lists", type=Path, nargs="*", default=[],
                        help="more directories of *.txt name lists to exclude")
    parser.add_argument("-n", type=int, default=N_TEXTS)
    parser.add_argument("--seed", type=int, default=SEED,
                        help="another seed draws a fresh sample (the committed set uses SEED)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the texts")
    args = parser.parse_args(argv)
    excluded = detector_words(DETECTOR_DATA)
    for directory in args.extra_lists:
        excluded |= detector_words(directory)
    records, names = generate(args.n, excluded, args.seed)
    with args.out.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with NAMES_OUT.open("w", encoding="utf-8") as fh:
        fh.write("# name\torigin\tsource (see README.md)\n")
        for nm in sorted(names, key=lambda x: (x.origin, x.text, x.source)):
            fh.write(f"{nm.text}\t{nm.origin}\t{nm.source}\n")
    print(f"wrote {len(records)} texts to {args.out}, {len(names)} pool names to "
          f"{NAMES_OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
