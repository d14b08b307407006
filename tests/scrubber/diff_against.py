"""Does this tree's scrubber give the same output as another revision's? (speed work)

    .venv/bin/python -m tests.scrubber.diff_against            # against main (see below)
    .venv/bin/python -m tests.scrubber.diff_against --rev REV

Scrubs every text of ``unseen/eval_unseen.jsonl`` and ``eval_set.jsonl``, their lower- and
upper-case variants, each without its known names, and each consecutive pair joined, with the
scrubber of ``REV`` (exported as in :mod:`tests.scrubber.benchmark`) and with this tree's, and
reports how many outputs (text and findings) differ, with the first few differences.

Without ``--rev`` the revision is where this branch left ``main`` (``git merge-base HEAD
main``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from core.privacy.scrubber import Scrubber
from tests.scrubber.benchmark import _ROOT, _old_scrubber

_HERE = Path(__file__).resolve().parent

Texts = list[tuple[str, list[str]]]


def corpus() -> Texts:
    """The texts compared: the two sets, their case variants and joined pairs."""
    base: Texts = []
    for path in (_HERE / "unseen" / "eval_unseen.jsonl", _HERE / "eval_set.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            base.append((record["text"], [str(n) for n in record.get("known_names", [])]))
    texts = list(base)
    for text, known in base:
        texts += [(text.lower(), known), (text.upper(), known), (text, [])]
    for (a, known_a), (b, known_b) in itertools.pairwise(base):
        texts.append((f"{a}\n{b}", known_a + known_b))
        texts.append((f"{a} {b.lower()}", known_a))
    return texts


def _output(scrubber: object, text: str, known: list[str]) -> tuple[str, list[tuple[object, ...]]]:
    result = scrubber.scrub(text, known_names=known)  # type: ignore[attr-defined]
    return result.text, [tuple(f) for f in result.findings]


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="git revision to compare with (default: the merge base "
                        "of HEAD and main)")
    parser.add_argument("--show", type=int, default=5, help="differences printed")
    args = parser.parse_args(argv)
    if args.rev is None:
        args.rev = subprocess.run(
            ["git", "-C", str(_ROOT), "merge-base", "HEAD", "main"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()[:9]
    texts = corpus()
    new = Scrubber()
    with tempfile.TemporaryDirectory() as tmp:
        old = _old_scrubber(args.rev, Path(tmp))()
        differ = 0
        for text, known in texts:
            before, after = _output(old, text, known), _output(new, text, known)
            if before != after:
                differ += 1
                if differ <= args.show:
                    print(f"TEXT   {text!r}\n{args.rev:6} {before}\nTHIS   {after}\n")
    print(f"{len(texts)} texts, {differ} differ from {args.rev}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
