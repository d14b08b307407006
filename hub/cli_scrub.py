"""``ssp-hub scrub [FILE]``: what the hub does to a free text, for a data-protection officer.

Reads FILE (standard input when FILE is omitted or ``-``), runs the one free-text scrubber
(:mod:`core.privacy.freetext`, the same one the worker, the API and the web UI use) and prints the
text as a consultant would see it, then one line per replacement: the placeholder, the kind, the
detector that found it and why. The removed values are never printed, logged or echoed in an
error; offsets into the input are printed instead, so the officer can look them up in the file.

    ssp-hub scrub report.txt --known-name "Mikkel Østergård Sørensen"
    ssp-hub scrub --json < report.txt
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

MAX_BYTES = 5 * 1024 * 1024


def _read(file: str | None) -> str:
    from hub.cli_common import _fail

    try:
        if file in (None, "-"):
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with Path(file).open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror}")
        raise AssertionError from exc  # _fail exits
    if len(data) > MAX_BYTES:
        _fail(f"at most {MAX_BYTES} bytes; split the text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        _fail("the text is not UTF-8 (the bytes are not shown here)")
        raise AssertionError from None


def scrub(
    file: Annotated[str | None, typer.Argument(
        help="a UTF-8 text file; omitted or - reads standard input", show_default=False)]
    = None,
    known_name: Annotated[list[str] | None, typer.Option(
        "--known-name", help="a name the event carries (subject, related persons); "
                             "repeatable, in order: [person 1], [person 2], …")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Print a text as a consultant would see it and explain every replacement (never the
    removed value)."""
    from core.privacy.freetext import FreeText

    text = _read(file)
    shown = FreeText().scrub(text, known_names=list(known_name or []))
    if as_json:
        typer.echo(json.dumps({
            "text": shown.text,
            "replacements": [r.as_json() for r in shown.replacements],
            "counts": dict(Counter(r.kind for r in shown.replacements)),
        }, ensure_ascii=False, indent=2))
        return
    typer.echo(shown.text.rstrip("\n"))
    typer.echo("")
    if not shown.replacements:
        typer.echo("-- no replacements: nothing in this text was recognised as personal data")
        return
    count = len(shown.replacements)
    typer.echo(f"-- {count} replacement{'s' if count != 1 else ''} "
               "(placeholder, kind, detector, why; offsets into the input, never the value):")
    width = max(len(r.placeholder) for r in shown.replacements)
    for number, r in enumerate(shown.replacements, 1):
        typer.echo(f"{number:>3}. {r.placeholder:<{width}}  {r.kind:<8} {r.detector or '-'}  "
                   f"[{r.start}:{r.end}]")
        typer.echo(f"     why: {r.reason or '-'}")
