"""``ssp-hub scrub``: a data-protection officer sees what the hub does to a text (issue 12
item 4): the text as a consultant sees it, and per replacement the placeholder, the kind, the
detector and why, never the removed value."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app

TEXT = ("Mikkel blev set med Sara Ali ved Netto i Stege. Ring til moren på 22 33 44 55 "
        "eller skriv til mikkel.h@gmail.com. Snap: kongen_09. CPR 010210-4321.\n")
VALUES = ("Mikkel", "Sara", "Ali ", "22 33 44 55", "mikkel.h@gmail.com", "kongen_09",
          "010210-4321", "4321")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _assert_no_values(output: str) -> None:
    for value in VALUES:
        assert value not in output, f"the removed value {value!r} was printed"


def test_scrub_prints_the_consultants_text_then_every_replacement_explained(
        runner: CliRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    report = tmp_path / "rapport.txt"
    report.write_text(TEXT, encoding="utf-8")
    caplog.set_level(logging.DEBUG)

    result = runner.invoke(app, ["scrub", str(report), "--known-name", "Mikkel Hansen"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("[person 1] blev set med [person 2] ved Netto i Stege. Ring til moren "
                        "på [TELEFON] eller skriv til [EMAIL]. Snap: [HANDLE]. CPR [CPR].")
    assert lines[2].startswith("-- 6 replacements")
    explained = lines[3:]
    for placeholder, kind in (("[person 1]", "name"), ("[person 2]", "name"),
                              ("[TELEFON]", "phone"), ("[EMAIL]", "email"),
                              ("[HANDLE]", "handle"), ("[CPR]", "cpr")):
        row = next(line for line in explained if placeholder in line)
        assert f" {kind} " in row
        assert row.split()[3]  # the detector
    assert sum(line.strip().startswith("why: ") for line in explained) == 6
    _assert_no_values(result.output)
    _assert_no_values("\n".join(r.getMessage() for r in caplog.records))


def test_scrub_reads_standard_input_when_the_file_is_omitted_or_a_dash(
        runner: CliRunner) -> None:
    for args in (["scrub"], ["scrub", "-"]):
        result = runner.invoke(app, args, input="Ring på 22 33 44 55.\n")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Ring på [TELEFON].\n")


def test_scrub_json_gives_text_replacements_and_counts_without_values(
        runner: CliRunner) -> None:
    result = runner.invoke(app, ["scrub", "--json", "--known-name", "Mikkel Hansen"],
                           input=TEXT)

    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["text"].startswith("[person 1] blev set med [person 2]")
    assert doc["counts"] == {"name": 2, "phone": 1, "email": 1, "handle": 1, "cpr": 1}
    first = doc["replacements"][0]
    assert set(first) == {"placeholder", "kind", "detector", "reason", "start", "end"}
    assert TEXT[first["start"]:first["end"]] == "Mikkel"  # offsets into the input
    _assert_no_values(result.output)


def test_scrub_of_a_clean_text_says_nothing_was_found(runner: CliRunner) -> None:
    result = runner.invoke(app, ["scrub"], input="Eleven har meget fravær.\n")
    assert result.exit_code == 0
    assert "no replacements" in result.output


def test_scrub_refuses_what_it_cannot_read_without_echoing_it(runner: CliRunner,
                                                               tmp_path: Path) -> None:
    binary = tmp_path / "latin1.txt"
    binary.write_bytes("Søren 22334455".encode("latin-1"))
    result = runner.invoke(app, ["scrub", str(binary)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.output
    assert "22334455" not in result.output
    missing = runner.invoke(app, ["scrub", str(tmp_path / "absent.txt")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output


def test_scrub_as_the_installed_command_reads_a_pipe() -> None:
    exe = Path(sys.executable).with_name("ssp-hub")
    done = subprocess.run([str(exe), "scrub"], input="Skriv til a.b@example.dk\n",
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Skriv til [EMAIL]\n")
    assert "a.b@example.dk" not in done.stdout + done.stderr
