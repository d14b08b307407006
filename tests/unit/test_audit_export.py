"""The disclosure-log export (hub.audit_export) and ``ssp-hub audit export|verify``: a signed,
canonical file that an auditor verifies offline, and in which no single changed byte, and no
removed, reordered, inserted or altered entry or checkpoint, goes unnoticed."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.ledger import merkle
from core.ledger.auditlog import AuditLog, VerifyReport, public_key_b64, public_keys
from core.privacy.keys import FileKeyProvider, KeyRing, new_keyring
from core.store import Store
from hub.audit_export import (
    EXPORT_FORMAT,
    body_of,
    canonical_json,
    export_log,
    header_message,
    verify_export,
    write_export,
)
from hub.cli import app
from tests.unit.test_auditlog import T0, entry_body, fill, run_sql

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
LATER = T0 + dt.timedelta(hours=3)
Doc = dict[str, Any]


def build_log(store: Store, ring: KeyRing, count: int = 43) -> AuditLog:
    """A log of ``count`` entries, one per minute of logging time, checkpoints every 10."""
    log = AuditLog(store, ring, checkpoint_every=10)
    fill(log, count)
    return log


def exported(store: Store, ring: KeyRing, **window: dt.datetime) -> tuple[Doc, bytes]:
    doc = export_log(build_log(store, ring), ring, now=LATER, **window)
    return doc, canonical_json(doc)


def found(report: VerifyReport) -> set[tuple[str, str]]:
    return {(p.where, p.what) for p in report.problems}


def recanonical(data: bytes, change: Callable[[Doc], None]) -> bytes:
    """Edit the parsed document and write it back in canonical form, as a careful forger
    would: only the semantic checks (and the signed digest) can notice."""
    doc = json.loads(data)
    change(doc)
    return canonical_json(doc)


def resign(doc: Doc, ring: KeyRing) -> bytes:
    """Recompute the digest and the header signature with the hub's own key: what a buggy
    exporter, or a thief of the signing key, could produce."""
    doc["header"]["body_sha256"] = hashlib.sha256(canonical_json(body_of(doc))).hexdigest()
    sig = ring.signing_key().sign(header_message(doc["header"]))
    doc["header_signature"] = base64.b64encode(sig).decode("ascii")
    return canonical_json(doc)


def key_b64(ring: KeyRing) -> str:
    return public_key_b64(public_keys(ring)["ed25519:1"])


# --------------------------------------------------------------------------- the file


def test_an_export_verifies_and_describes_itself(store: Store, keyring: KeyRing) -> None:
    doc, data = exported(store, keyring)

    report = verify_export(data)

    assert report.ok, report.summary()
    assert (report.entries, report.checkpoints, report.tree_size) == (43, 5, 43)
    assert (doc["format"], doc["format_version"]) == (EXPORT_FORMAT, 2)
    header = doc["header"]
    assert (header["first_seq"], header["last_seq"], header["entry_count"]) == (0, 42, 43)
    assert (header["from"], header["to"]) == (None, None)
    assert header["exported_at"] == "2026-03-02T15:00:00.000000Z"
    assert doc["public_keys"] == {"ed25519:1": key_b64(keyring)}
    assert doc["boundary"] == {"before": None, "after": None}
    assert "Fælles indsats".encode() in data  # the leaf text is kept as UTF-8, not escaped


def test_export_signs_a_checkpoint_so_every_entry_is_covered(store: Store,
                                                            keyring: KeyRing) -> None:
    log = build_log(store, keyring)
    assert log.latest_checkpoint() is not None
    assert log.latest_checkpoint().tree_size == 40  # type: ignore[union-attr]

    doc = export_log(log, keyring, now=LATER)

    assert [cp["tree_size"] for cp in doc["checkpoints"]] == [10, 20, 30, 40, 43]
    assert doc["header"]["tree_size"] == 43
    assert doc["header"]["root_hash"] == log.state().root_hash.hex()
    assert [e["checkpoint"] for e in doc["entries"]] == \
        [10] * 10 + [20] * 10 + [30] * 10 + [40] * 10 + [43] * 3


def test_entries_are_the_exact_leaf_bytes_with_rfc6962_proofs(store: Store,
                                                             keyring: KeyRing) -> None:
    log = build_log(store, keyring)
    doc = export_log(log, keyring, now=LATER)
    leaves = log.leaf_hashes(43)

    for seq, (item, (row_seq, data)) in enumerate(zip(doc["entries"], log.entry_rows(),
                                                      strict=True)):
        assert row_seq == seq
        assert item["leaf"].encode("utf-8") == data
        assert item["leaf_hash"] == merkle.leaf_hash(data).hex()
        size = item["checkpoint"]
        assert [bytes.fromhex(h) for h in item["inclusion_proof"]] == \
            merkle.inclusion_proof(leaves[:size], seq)
    for proof in doc["consistency_proofs"]:
        assert [bytes.fromhex(h) for h in proof["proof"]] == merkle.consistency_proof(
            leaves, proof["first_size"], proof["second_size"])
    assert [(p["first_size"], p["second_size"]) for p in doc["consistency_proofs"]] == \
        [(10, 20), (20, 30), (30, 40), (40, 43)]


def test_write_export_writes_the_one_canonical_byte_form(store: Store, keyring: KeyRing,
                                                        tmp_path: Path) -> None:
    doc, data = exported(store, keyring)
    path = tmp_path / "out" / "export.json"

    assert write_export(doc, path) == data
    assert path.read_bytes() == data
    pretty = json.dumps(json.loads(data), indent=2, ensure_ascii=False).encode()

    assert found(verify_export(pretty)) == {("file", "malformed")}
    assert "canonical" in verify_export(pretty).problems[0].message


def test_an_empty_log_exports_and_verifies(store: Store, keyring: KeyRing) -> None:
    doc = export_log(AuditLog(store, keyring), keyring, now=LATER)

    assert (doc["entries"], doc["checkpoints"]) == ([], [])
    assert (doc["header"]["first_seq"], doc["header"]["last_seq"]) == (0, -1)
    assert verify_export(canonical_json(doc)).ok


# --------------------------------------------------------------------------- byte flips


def _regions(doc: Doc, data: bytes) -> list[tuple[str, int, int]]:
    """(where, start, end) of every part of the file, named as the verifier names it (JCS is
    compositional: each part's canonical bytes occur verbatim in the file)."""
    out: list[tuple[str, int, int]] = []

    def add(name: str, value: Any, within: tuple[int, int] = (0, len(data))) -> None:
        raw = canonical_json(value)
        at = data.find(raw, *within)
        assert at >= 0, name
        out.append((name, at, at + len(raw)))

    add("header", doc["header"])
    add("header", doc["header_signature"])
    add("", doc["public_keys"])  # a changed key fails everything; no one place to name
    add("file", doc["format"])
    for cp in doc["checkpoints"]:
        add(f"checkpoint {cp['tree_size']}", cp)
    for proof in doc["consistency_proofs"]:
        add(f"checkpoint {proof['second_size']}", proof)
    items = [(doc["header"]["first_seq"] + i, item) for i, item in enumerate(doc["entries"])]
    for side, seq in (("before", doc["header"]["first_seq"] - 1),
                      ("after", doc["header"]["last_seq"] + 1)):
        if doc["boundary"][side] is not None:
            items.append((seq, doc["boundary"][side]))
    for seq, item in items:
        add(f"entry {seq}", item)
        _, lo, hi = out[-1]
        add(f"entry {seq}", item["leaf"], (lo, hi))
        add(f"entry {seq}", item["inclusion_proof"], (lo, hi))
    return out


def _sample(doc: Doc, data: bytes, seed: int, stride: int = 211
            ) -> list[tuple[int, str | None]]:
    """A deterministic sample of positions: the first, the last and one random byte of every
    region, and every ``stride``-th byte of the whole file (its structure included)."""
    rng = random.Random(seed)
    picked: dict[int, str | None] = {i: None for i in range(0, len(data), stride)}
    regions = _regions(doc, data)
    for name, lo, hi in regions:
        for pos in (lo, hi - 1, rng.randrange(lo, hi)):
            picked[pos] = name
    for pos in picked:  # name the innermost region every sampled byte lies in
        inside = [(hi - lo, name) for name, lo, hi in regions if lo <= pos < hi]
        picked[pos] = min(inside)[1] if inside else None
    return sorted(picked.items())


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("window", ["whole log", "filtered"])
def test_every_single_byte_flip_is_detected(store: Store, keyring: KeyRing,
                                            window: str) -> None:
    bounds = {} if window == "whole log" else {"start": T0 + dt.timedelta(minutes=3),
                                                "end": T0 + dt.timedelta(minutes=38)}
    doc, data = exported(store, keyring, **bounds)
    assert verify_export(data).ok
    started = time.perf_counter()
    undetected: list[str] = []
    unnamed: list[str] = []

    # XOR 0x80 makes every byte invalid UTF-8: cheap to check, so at every position.
    for pos in range(len(data)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x80
        if verify_export(bytes(flipped)).ok:
            undetected.append(f"{pos}^0x80")
    # XOR 0x01 (digits, letters, hex, base64, quotes, brackets) and 0x20 (case of hex and
    # base64, digits to control characters) on a sample of several hundred positions.
    sample = _sample(doc, data, seed=115)
    assert len(sample) >= 300
    for pos, region in sample:
        for mask in (0x01, 0x20):
            flipped = bytearray(data)
            flipped[pos] ^= mask
            report = verify_export(bytes(flipped))
            if report.ok:
                undetected.append(f"{pos}^{mask:#04x} in {region}")
            elif region and _parses(bytes(flipped)) and not any(
                    p.where == region for p in report.problems):
                unnamed.append(f"{pos}^{mask:#04x} in {region}: {report.summary()}")

    elapsed = time.perf_counter() - started
    assert not undetected, undetected[:20]
    # Where the file still parses, the report names the entry or checkpoint that was hit.
    assert not unnamed, unnamed[:5]
    print(f"{window}: {len(data)} bytes, {len(data)} + {2 * len(sample)} flips in "
          f"{elapsed:.1f} s")


# --------------------------------------------------------------------------- targeted


def _drop_entry(doc: Doc) -> None:
    del doc["entries"][7]


def _swap_entries(doc: Doc) -> None:
    e = doc["entries"]
    e[3], e[4] = e[4], e[3]


def _insert_copy(doc: Doc) -> None:
    doc["entries"].insert(6, copy.deepcopy(doc["entries"][5]))


def _change_one_character(doc: Doc) -> None:
    # Format 2: the content is in the body, whose hash the leaf commits to.
    item = doc["entries"][7]
    assert '"recipient":"omraade-praestoe"' in item["body"]
    item["body"] = item["body"].replace('"recipient":"omraade-praestoe"',
                                        '"recipient":"omraade-praestoa"')


def _change_entry_and_its_hash(doc: Doc) -> None:
    # The body changed, and the leaf made to commit to it, and the leaf hash beside it.
    _change_one_character(doc)
    item = doc["entries"][7]
    leaf = json.loads(item["leaf"])
    leaf["body_sha256"] = hashlib.sha256(item["body"].encode()).hexdigest()
    item["leaf"] = canonical_json(leaf).decode()
    item["leaf_hash"] = merkle.leaf_hash(item["leaf"].encode()).hex()


def _backdate_and_rehash(doc: Doc) -> None:
    item = doc["entries"][7]
    item["leaf"] = item["leaf"].replace('"at":"2026-03-02T12', '"at":"2026-03-02T11')
    item["leaf_hash"] = merkle.leaf_hash(item["leaf"].encode()).hex()


def _change_danish_text(doc: Doc) -> None:
    item = doc["entries"][0]
    assert "Fælles" in item["body"]
    item["body"] = item["body"].replace("Fælles", "Faelles")


def _spoil_proof(doc: Doc) -> None:
    proof = doc["entries"][12]["inclusion_proof"]
    proof[0], proof[1] = proof[1], proof[0]


def _point_to_other_checkpoint(doc: Doc) -> None:
    doc["entries"][12]["checkpoint"] = 30


def _change_checkpoint_root(doc: Doc) -> None:
    doc["checkpoints"][1]["root_hash"] = "0" * 64


def _change_checkpoint_signature(doc: Doc) -> None:
    cp = doc["checkpoints"][1]
    raw = bytearray(base64.b64decode(cp["signature"]))
    raw[10] ^= 0x40
    cp["signature"] = base64.b64encode(bytes(raw)).decode()


def _drop_checkpoint(doc: Doc) -> None:
    del doc["checkpoints"][1]


def _swap_checkpoints(doc: Doc) -> None:
    c = doc["checkpoints"]
    c[1], c[2] = c[2], c[1]


def _insert_checkpoint(doc: Doc) -> None:
    forged = {**doc["checkpoints"][1], "tree_size": 25}
    doc["checkpoints"].insert(2, forged)
    doc["header"]["checkpoint_count"] += 1


def _spoil_consistency(doc: Doc) -> None:
    doc["consistency_proofs"][2]["proof"][0] = "ab" * 32


def _change_header_count(doc: Doc) -> None:
    doc["header"]["exported_at"] = "2026-03-02T15:00:01.000000Z"


def _add_a_key(doc: Doc) -> None:
    doc["public_keys"]["ed25519:2"] = doc["public_keys"]["ed25519:1"]


def _noncanonical_key(doc: Doc) -> None:
    # The last base64 character of a 32-byte key carries two unused bits: another spelling of
    # the same key must not pass as the same file.
    text = doc["public_keys"]["ed25519:1"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(text[-2])
    doc["public_keys"]["ed25519:1"] = text[:-2] + alphabet[last ^ 1] + "="


TARGETED: dict[str, tuple[Callable[[Doc], None], set[tuple[str, str]]]] = {
    "an entry removed": (_drop_entry, {("entry 7", "missing")}),
    "two entries swapped": (_swap_entries, {("entry 3", "reordered"),
                                            ("entry 4", "reordered")}),
    "an entry copied in": (_insert_copy, {("entry 5", "inserted")}),
    "one character changed": (_change_one_character, {("entry 7", "modified")}),
    "a character and the leaf hash changed": (_change_entry_and_its_hash,
                                              {("entry 7", "bad_proof")}),
    "Danish text transliterated": (_change_danish_text, {("entry 0", "modified")}),
    "proof siblings swapped": (_spoil_proof, {("entry 12", "bad_proof")}),
    "proof against another checkpoint": (_point_to_other_checkpoint,
                                         {("entry 12", "bad_proof")}),
    "checkpoint root changed": (_change_checkpoint_root, {("checkpoint 20", "bad_signature"),
                                                          ("checkpoint 20", "bad_proof")}),
    "checkpoint signature changed": (_change_checkpoint_signature,
                                     {("checkpoint 20", "bad_signature")}),
    "checkpoint removed": (_drop_checkpoint, {("checkpoint 20", "missing")}),
    "checkpoints swapped": (_swap_checkpoints, {("checkpoint 20", "reordered")}),
    "checkpoint inserted": (_insert_checkpoint, {("checkpoint 25", "inserted"),
                                                 ("checkpoint 25", "bad_signature")}),
    "consistency proof changed": (_spoil_consistency, {("checkpoint 40", "bad_proof")}),
    "header changed": (_change_header_count, {("header", "bad_signature")}),
    "a public key added": (_add_a_key, {("file", "modified")}),
    "key respelled": (_noncanonical_key, {("public key ed25519:1", "malformed")}),
}


@pytest.mark.parametrize("name", list(TARGETED))
def test_a_targeted_change_is_reported_where_and_how(store: Store, keyring: KeyRing,
                                                    name: str) -> None:
    _, data = exported(store, keyring)
    change, expected = TARGETED[name]

    report = verify_export(recanonical(data, change))

    assert not report.ok
    assert expected <= found(report), report.summary()
    # The signed digest notices any change outside the header, whatever else does.
    assert ("file", "modified") in found(report) or ("header", "bad_signature") in \
        found(report)


@pytest.mark.parametrize("name", ["an entry removed", "two entries swapped",
                                  "an entry copied in", "a character and the leaf hash changed",
                                  "checkpoint root changed", "checkpoint removed"])
def test_semantic_checks_hold_even_when_the_forger_holds_the_key(
        store: Store, keyring: KeyRing, name: str) -> None:
    """Re-signing the header does not help: entries are bound to the signed checkpoints."""
    _, data = exported(store, keyring)
    change, expected = TARGETED[name]
    doc = json.loads(data)
    change(doc)

    report = verify_export(resign(doc, keyring))

    assert expected <= found(report), report.summary()
    assert ("file", "modified") not in found(report)


def test_the_pinned_key_must_be_the_hubs(store: Store, keyring: KeyRing) -> None:
    _, data = exported(store, keyring)
    assert verify_export(data, pinned_key=key_b64(keyring)).ok

    report = verify_export(data, pinned_key=key_b64(new_keyring()))

    assert {("public key ed25519:1", "bad_signature"), ("header", "bad_signature")} | \
        {(f"checkpoint {n}", "bad_signature") for n in (10, 20, 30, 40, 43)} <= found(report)


def test_a_file_forged_with_another_key_passes_only_unpinned(tmp_path: Path,
                                                            keyring: KeyRing) -> None:
    forger = new_keyring()
    forged_store = Store.open(f"sqlite:///{tmp_path / 'forged.db'}")
    try:
        _, forged = exported(forged_store, forger)
    finally:
        forged_store.close()

    assert verify_export(forged).ok  # self-consistent: why a key must be pinned
    assert ("header", "bad_signature") in found(verify_export(forged,
                                                              pinned_key=key_b64(keyring)))


@pytest.mark.parametrize("data", [
    b"", b"not json", b"[]", b"{}", b"null", b'{"format":"ssp-hub-audit-export"}',
    b'{"format":"ssp-hub-audit-export","format_version":1,"header":{}}', b"[" * 100_000,
    b'{"a":1e400}', b'{"a":NaN}', b'{"a":1,"a":2}', b'"\\ud800"', b"\xff\xfe",
    b'{"format":"ssp-hub-audit-export","format_version":1,"header":[],"header_signature":1,'
    b'"public_keys":[],"checkpoints":{},"consistency_proofs":null,"entries":7,"boundary":0}',
])
def test_garbage_is_a_finding_not_a_crash(data: bytes) -> None:
    report = verify_export(data)

    assert not report.ok
    assert all(p.what == "malformed" for p in report.problems)


def test_garbage_inside_a_valid_frame_is_a_finding_not_a_crash(store: Store,
                                                              keyring: KeyRing) -> None:
    _, data = exported(store, keyring)
    spoilers: list[Callable[[Doc], None]] = [
        lambda d: d["entries"].__setitem__(3, None),
        lambda d: d["entries"][3].__setitem__("leaf", 17),
        lambda d: d["entries"][3].__setitem__("leaf", "{}"),
        lambda d: d["entries"][3].__setitem__("checkpoint", True),
        lambda d: d["entries"][3].__setitem__("inclusion_proof", "ab"),
        lambda d: d["checkpoints"].__setitem__(0, []),
        lambda d: d["checkpoints"][0].__setitem__("tree_size", -1),
        lambda d: d["checkpoints"][0].__setitem__("issued_at", "yesterday"),
        lambda d: d["checkpoints"][0].__setitem__("origin", "two\nlines"),
        lambda d: d["consistency_proofs"].__setitem__(0, {"x": 1}),
        lambda d: d["header"].__setitem__("first_seq", "0"),
        lambda d: d["boundary"].__setitem__("before", {}),
        lambda d: d.__setitem__("public_keys", {"rsa": "AAAA"}),
    ]
    for spoil in spoilers:
        assert not verify_export(recanonical(data, spoil)).ok


# --------------------------------------------------------------------------- time windows


WINDOW = {"start": T0 + dt.timedelta(minutes=5), "end": T0 + dt.timedelta(minutes=30)}


def test_a_filtered_export_holds_exactly_the_window_and_proves_its_edges(
        store: Store, keyring: KeyRing) -> None:
    doc, data = exported(store, keyring, **WINDOW)

    assert verify_export(data).ok, verify_export(data).summary()
    header = doc["header"]
    assert (header["first_seq"], header["last_seq"], header["entry_count"]) == (5, 29, 25)
    assert (header["from"], header["to"]) == ("2026-03-02T12:05:00.000000Z",
                                              "2026-03-02T12:30:00.000000Z")
    assert [json.loads(e["leaf"])["seq"] for e in doc["entries"]] == list(range(5, 30))
    assert json.loads(doc["boundary"]["before"]["leaf"])["seq"] == 4
    assert json.loads(doc["boundary"]["after"]["leaf"])["seq"] == 30
    assert len(doc["checkpoints"]) == 5  # all of them: the chain stays provable


def test_an_empty_window_still_proves_that_it_is_empty(store: Store, keyring: KeyRing) -> None:
    doc, data = exported(store, keyring, start=T0 + dt.timedelta(minutes=5, seconds=10),
                         end=T0 + dt.timedelta(minutes=5, seconds=50))

    assert verify_export(data).ok
    assert doc["entries"] == []
    assert (doc["header"]["first_seq"], doc["header"]["last_seq"]) == (6, 5)
    assert json.loads(doc["boundary"]["before"]["leaf"])["seq"] == 5
    assert json.loads(doc["boundary"]["after"]["leaf"])["seq"] == 6


def test_a_window_after_the_last_entry_exports_nothing(store: Store, keyring: KeyRing) -> None:
    doc, data = exported(store, keyring, start=LATER)

    assert verify_export(data).ok
    assert (doc["header"]["first_seq"], doc["header"]["entry_count"]) == (43, 0)
    assert doc["boundary"]["after"] is None


def test_a_filtered_export_that_leaves_out_an_edge_entry_is_caught(
        store: Store, keyring: KeyRing) -> None:
    """Even signed by the hub's own key, an export that stops one entry short of its window
    shows it: the neighbour it must carry was logged inside the window."""
    doc, _ = exported(store, keyring, **WINDOW)
    doc["boundary"]["after"] = doc["entries"].pop()
    doc["header"]["last_seq"] -= 1
    doc["header"]["entry_count"] -= 1

    report = verify_export(resign(doc, keyring))

    assert ("entry 29", "missing") in found(report), report.summary()


def test_a_filtered_export_without_its_edge_entries_is_caught(store: Store,
                                                             keyring: KeyRing) -> None:
    doc, _ = exported(store, keyring, **WINDOW)
    doc["boundary"]["before"] = None

    assert ("entry 4", "missing") in found(verify_export(resign(doc, keyring)))


def test_an_export_claiming_the_whole_log_must_start_at_zero(store: Store,
                                                            keyring: KeyRing) -> None:
    doc, _ = exported(store, keyring, **WINDOW)
    doc["header"]["from"] = None
    doc["boundary"]["before"] = None

    assert ("entry 0", "missing") in found(verify_export(resign(doc, keyring)))


def test_export_refuses_a_backwards_window(store: Store, keyring: KeyRing) -> None:
    with pytest.raises(ValueError, match="before its end"):
        export_log(build_log(store, keyring, 3), keyring, start=T0, end=T0)


# --------------------------------------------------------------------------- the spec's script


def _spec_script(tmp_path: Path) -> Path:
    text = (REPO / "docs" / "disclosure-log.md").read_text(encoding="utf-8")
    [code] = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    path = tmp_path / "verify_export.py"
    path.write_text(code, encoding="utf-8")
    return path


def _run_script(script: Path, export: bytes, key: str, tmp_path: Path
                ) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "export.json"
    path.write_bytes(export)
    return subprocess.run([sys.executable, "-I", str(script), str(path), key],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("window", [{}, WINDOW])
def test_the_documented_script_verifies_an_export_without_hub_code(
        store: Store, keyring: KeyRing, tmp_path: Path, window: dict[str, dt.datetime]) -> None:
    _, data = exported(store, keyring, **window)
    script = _spec_script(tmp_path)

    good = _run_script(script, data, key_b64(keyring), tmp_path)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("intact")

    for spoiled in (recanonical(data, _backdate_and_rehash),
                    resign(json.loads(recanonical(data, _backdate_and_rehash)), keyring),
                    resign(json.loads(recanonical(data, _drop_entry)), keyring)):
        assert _run_script(script, spoiled, key_b64(keyring), tmp_path).returncode != 0
    assert _run_script(script, data, key_b64(new_keyring()), tmp_path).returncode != 0


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    """A data dir as the hub leaves it: a key file and a store with 43 logged entries."""
    ring = FileKeyProvider(tmp_path / "keys.json", create=True).load()
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        build_log(store, ring)
    finally:
        store.close()
    return tmp_path


def _cli(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def _hub_key(hub_dir: Path) -> str:
    return key_b64(FileKeyProvider(hub_dir / "keys.json", create=False).load())


def test_cli_export_then_verify_file(hub_dir: Path) -> None:
    out = hub_dir / "export.json"

    exported_ = _cli("audit", "export", "--out", out, "--data-dir", hub_dir)

    assert exported_.exit_code == 0, exported_.output
    assert exported_.output.startswith("exported 43 entries (0..42) and 5 checkpoints")
    root = json.loads(out.read_bytes())["header"]["root_hash"]
    assert root in exported_.output
    verified = _cli("audit", "verify", "--file", out)
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("intact: 43 entries, 5 signed checkpoints")
    assert _hub_key(hub_dir) in verified.output  # shown so that it can be compared
    pinned = _cli("audit", "verify", "--file", out, "--public-key", _hub_key(hub_dir))
    assert pinned.exit_code == 0, pinned.output


def test_cli_verify_file_names_the_flipped_entry(hub_dir: Path) -> None:
    out = hub_dir / "export.json"
    assert _cli("audit", "export", "--out", out, "--data-dir", hub_dir).exit_code == 0
    data = bytearray(out.read_bytes())
    body = canonical_json(json.loads(data)["entries"][7]["body"])
    at = data.index(body) + body.index("Bekymring for unge på havnen".encode())
    data[at] ^= 0x01  # B -> C
    out.write_bytes(bytes(data))

    result = _cli("audit", "verify", "--file", out)

    assert result.exit_code == 1, result.output
    assert result.output.startswith("TAMPERED")
    assert "entry 7: modified:" in result.output


def test_cli_verify_file_json_report(hub_dir: Path) -> None:
    out = hub_dir / "export.json"
    assert _cli("audit", "export", "--out", out, "--data-dir", hub_dir).exit_code == 0

    result = _cli("audit", "verify", "--file", out, "--json")

    assert result.exit_code == 0
    report = json.loads(result.output)
    assert (report["ok"], report["status"], report["entries"]) == (True, "intact", 43)
    assert report["latest_checkpoint"]["tree_size"] == 43


def test_cli_verify_with_the_wrong_pinned_key_fails(hub_dir: Path) -> None:
    out = hub_dir / "export.json"
    assert _cli("audit", "export", "--out", out, "--data-dir", hub_dir).exit_code == 0

    result = _cli("audit", "verify", "--file", out, "--public-key", key_b64(new_keyring()))

    assert result.exit_code == 1
    assert "header: bad_signature" in result.output


def test_cli_export_with_a_window(hub_dir: Path) -> None:
    out = hub_dir / "window.json"

    result = _cli("audit", "export", "--out", out, "--from", "2026-03-02T12:05:00Z",
                  "--to", "2026-03-02T13:30:00+01:00", "--data-dir", hub_dir)

    assert result.exit_code == 0, result.output
    assert "exported 25 entries (5..29)" in result.output
    header = json.loads(out.read_bytes())["header"]
    assert (header["from"], header["to"]) == ("2026-03-02T12:05:00.000000Z",
                                              "2026-03-02T12:30:00.000000Z")
    assert _cli("audit", "verify", "--file", out).exit_code == 0


def test_cli_export_a_date_means_midnight_utc(hub_dir: Path) -> None:
    out = hub_dir / "day.json"

    result = _cli("audit", "export", "--out", out, "--from", "2026-03-03", "--data-dir",
                  hub_dir)

    assert result.exit_code == 0, result.output
    assert json.loads(out.read_bytes())["header"]["from"] == "2026-03-03T00:00:00.000000Z"
    assert "exported 0 entries" in result.output


def test_cli_verify_live_store(hub_dir: Path) -> None:
    result = _cli("audit", "verify", "--data-dir", hub_dir)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("intact: 43 entries")
    assert _cli("audit", "verify", "--data-dir", hub_dir, "--public-key",
                _hub_key(hub_dir)).exit_code == 0

    store = Store.open(f"sqlite:///{hub_dir / 'hub.db'}")
    try:
        data = entry_body(store, 7)
        run_sql(store, "UPDATE disclosure_log SET body = :b WHERE seq = 7",
                b=data.replace(b"Bekymring", b"Bekymrinf"))
    finally:
        store.close()
    tampered = _cli("audit", "verify", "--data-dir", hub_dir)

    assert tampered.exit_code == 1
    assert "entry 7: modified:" in tampered.output
    as_json = json.loads(_cli("audit", "verify", "--data-dir", hub_dir, "--json").output)
    assert as_json["status"] == "tampered"
    assert {"where": "entry 7", "what": "modified"}.items() <= as_json["problems"][0].items()
    assert _cli("audit", "export", "--out", hub_dir / "x.json", "--data-dir",
                hub_dir).exit_code == 1


@pytest.mark.parametrize("args", [
    ("audit", "verify", "--file", "{tmp}/no-such-file.json"),
    ("audit", "verify", "--file", "{tmp}/export.json", "--public-key", "not base64"),
    ("audit", "verify", "--data-dir", "{tmp}/empty"),
    ("audit", "export", "--out", "{tmp}/e.json", "--data-dir", "{tmp}/empty"),
    ("audit", "export", "--out", "{tmp}/e.json", "--from", "last tuesday", "--data-dir",
     "{tmp}"),
    ("audit", "export", "--out", "{tmp}/e.json", "--from", "2026-03-03", "--to", "2026-03-02",
     "--data-dir", "{tmp}"),
    ("audit", "export", "--data-dir", "{tmp}"),
])
def test_cli_usage_errors_exit_2(hub_dir: Path, args: tuple[str, ...]) -> None:
    (hub_dir / "export.json").write_bytes(b"{}")
    result = _cli(*(a.format(tmp=hub_dir) for a in args))

    assert result.exit_code == 2, result.output


def test_cli_export_refuses_without_the_key_file(hub_dir: Path) -> None:
    (hub_dir / "keys.json").unlink()

    result = _cli("audit", "export", "--out", hub_dir / "e.json", "--data-dir", hub_dir)

    assert result.exit_code == 2
    assert "key file" in result.output
    assert not (hub_dir / "e.json").exists()
