"""The disclosure-log export file: one self-describing, signed JSON document, and its verifier.

:func:`export_log` forces a checkpoint, then writes every entry logged in ``[start, end)``
(a contiguous range of sequence numbers) as its exact leaf bytes, with an RFC 6962 inclusion
proof against the smallest checkpoint that covers it, every signed checkpoint, a consistency
proof between each pair of consecutive checkpoints, the two neighbours of the range (so that
an auditor can see that nothing at its edges was left out), the Ed25519 public keys, and a
header signed by the hub's current key. The header carries the SHA-256 of the rest of the
document, so nothing in the file is unauthenticated. :func:`write_export` writes it in its one
byte form, RFC 8785 canonical JSON.

:func:`verify_export` needs only the file (and, best, a public key obtained some other way).
It never raises: every defect, including a file that is not JSON at all, becomes a
:class:`~core.ledger.auditlog.Problem` that says which entry or checkpoint is wrong and how
(``modified``, ``missing``, ``reordered``, ``inserted``, ``bad_signature``, ``bad_proof``,
``malformed``). The format is specified in ``docs/disclosure-log.md``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from core.ledger import merkle
from core.ledger.auditlog import (
    AuditLog,
    VerifyReport,
    load_public_key,
    public_key_b64,
    public_keys,
    scan_for_cpr,
    verify_checkpoint,
)
from core.privacy.keys import KeyRing
from schemas.disclosures import Checkpoint, canonical, format_time, parse_time, read_entry

EXPORT_FORMAT = "ssp-hub-audit-export"
EXPORT_FORMAT_VERSION = 2  # version 2 adds each entry's erasable body; version 1 still verifies
READABLE_VERSIONS = (1, 2)
HEADER_CONTEXT = b"ssp-hub audit export v1\n"
"""Prefixed to the canonical header before signing: a header signature can never be taken
for a checkpoint signature (whose note starts ``ssp-hub disclosure log v1``) or vice versa."""

TOP_KEYS = frozenset({"format", "format_version", "header", "header_signature", "public_keys",
                      "checkpoints", "consistency_proofs", "entries", "boundary"})
HEADER_KEYS = frozenset({"origin", "exported_at", "from", "to", "first_seq", "last_seq",
                         "entry_count", "checkpoint_count", "tree_size", "root_hash",
                         "key_id", "body_sha256"})
CHECKPOINT_KEYS = frozenset({"origin", "tree_size", "root_hash", "issued_at", "key_id",
                             "signature"})
ENTRY_KEYS = frozenset({"leaf", "leaf_hash", "checkpoint", "inclusion_proof"})
ENTRY_KEYS_V2 = ENTRY_KEYS | {"body"}  # the body's JCS text, or null (format 1 or erased)
CONSISTENCY_KEYS = frozenset({"first_size", "second_size", "proof"})

_HASH_HEX = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^ed25519:[1-9][0-9]*$")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON value: the export's one byte form (the log's own
    :func:`schemas.disclosures.canonical`, which takes ``json.dumps`` where that gives the
    library's bytes: verifying a file canonicalises the whole document twice)."""
    return canonical(value)


def header_message(header: Mapping[str, Any]) -> bytes:
    """The exact bytes the header signature covers."""
    return HEADER_CONTEXT + canonical_json(dict(header))


def body_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document without the header and its signature (what ``body_sha256`` covers)."""
    return {k: v for k, v in doc.items() if k not in ("header", "header_signature")}


# --------------------------------------------------------------------------- export


def _checkpoint_doc(cp: Checkpoint) -> dict[str, Any]:
    return {"origin": cp.origin, "tree_size": cp.tree_size, "root_hash": cp.root_hash,
            "issued_at": format_time(cp.issued_at), "key_id": cp.key_id,
            "signature": cp.signature}


def export_log(log: AuditLog, ring: KeyRing, *, start: dt.datetime | None = None,
               end: dt.datetime | None = None, now: dt.datetime | None = None
               ) -> dict[str, Any]:
    """The export document for the entries logged in ``[start, end)`` (by ``logged_at``;
    ``None`` is open). Signs a checkpoint first, so every exported entry is covered.

    Raises ValueError if the window is empty or backwards, or if the log has a gap (a
    damaged log cannot be exported; ``ssp-hub audit verify`` says what is wrong)."""
    now = now or dt.datetime.now(dt.UTC)
    if start is not None and end is not None and start >= end:
        raise ValueError("the start of the export window must be before its end")
    log.checkpoint(now, force=True)
    cps = log.checkpoints()
    size = cps[-1].tree_size if cps else 0
    latest_root = bytes.fromhex(cps[-1].root_hash) if cps else merkle.EMPTY_ROOT

    selected = log.seq_range(start, end)
    if selected is None:
        # Nothing in the window: an empty range placed where the window would be, so that
        # its neighbours still show that the window is empty.
        after = log.seq_range(start, None) if start is not None else None
        first = after[0] if after is not None else (size if start is not None else 0)
        last = first - 1
    else:
        first, last = selected
    if start is None:
        first = 0
    if end is None:
        last = size - 1
    first, last = min(first, size), min(last, size - 1)
    last = max(last, first - 1)

    leaves = log.leaf_hashes(size)
    tree = merkle.ProofTree(leaves)
    if tree.root(size) != latest_root:
        raise ValueError("the stored leaf hashes do not give the latest checkpoint's root; "
                         "run `ssp-hub audit verify`")
    sizes = [cp.tree_size for cp in cps]
    lo_row = max(first - 1, 0)
    hi_row = min(last + 1, size - 1)
    rows = {seq: (leaf, body) for seq, leaf, body in
            log.entry_rows_with_bodies(lo_row, hi_row)} if size else {}

    def item(seq: int) -> dict[str, Any]:
        data, body = rows.get(seq, (None, None))
        if data is None:
            raise ValueError(f"entry {seq} is missing from the log; run `ssp-hub audit verify`")
        cover = sizes[bisect.bisect_right(sizes, seq)]
        return {"leaf": data.decode("utf-8"), "leaf_hash": merkle.leaf_hash(data).hex(),
                "body": None if body is None else body.decode("utf-8"),
                "checkpoint": cover,
                "inclusion_proof": [h.hex() for h in tree.inclusion(seq, cover)]}

    keys = {kid: public_key_b64(key) for kid, key in public_keys(ring).items()}
    body: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "public_keys": keys,
        "checkpoints": [_checkpoint_doc(cp) for cp in cps],
        "consistency_proofs": [
            {"first_size": a.tree_size, "second_size": b.tree_size,
             "proof": [h.hex() for h in tree.consistency(a.tree_size, b.tree_size)]}
            for a, b in itertools.pairwise(cps)],
        "entries": [item(seq) for seq in range(first, last + 1)],
        "boundary": {"before": item(first - 1) if first > 0 else None,
                     "after": item(last + 1) if last + 1 < size else None},
    }
    version = ring.current["ed25519"]
    header: dict[str, Any] = {
        "origin": cps[-1].origin if cps else log.origin,
        "exported_at": format_time(now),
        "from": None if start is None else format_time(start),
        "to": None if end is None else format_time(end),
        "first_seq": first, "last_seq": last, "entry_count": last - first + 1,
        "checkpoint_count": len(cps), "tree_size": size, "root_hash": latest_root.hex(),
        "key_id": f"ed25519:{version}",
        "body_sha256": hashlib.sha256(canonical_json(body)).hexdigest(),
    }
    signature = ring.signing_key().sign(header_message(header))
    return {**body, "header": header,
            "header_signature": base64.b64encode(signature).decode("ascii")}


def write_export(doc: Mapping[str, Any], path: Path) -> bytes:
    """Write the document as RFC 8785 canonical JSON (its only valid byte form)."""
    data = canonical_json(dict(doc))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


# --------------------------------------------------------------------------- verification


def _reason(exc: Exception) -> str:
    """Our own ValueErrors name the problem, never a value; anything else only by type."""
    text = str(exc)
    safe = ("body", "leaf", "canonical", "version", "sequence", "decision", "entry_id",
            "times", "salt", "not a log entry")
    if type(exc) is ValueError and any(w in text for w in safe) and len(text) < 120:
        return text
    return "see the format"


class _Malformed(ValueError):
    """A field has the wrong shape; the message names the field, never its value."""


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _Malformed(f"{what} must be an integer of at least {minimum}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{what} must be a string")
    return value


def _hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HASH_HEX.fullmatch(value):
        raise _Malformed(f"{what} must be 64 lowercase hex digits")
    return bytes.fromhex(value)


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise _Malformed(f"{what} must be a list of hashes")
    return [_hash(h, f"{what}[{i}]") for i, h in enumerate(value)]


def _b64(value: Any, length: int, what: str) -> bytes:
    """Strict, canonical base64 of exactly ``length`` bytes: two spellings of one value (the
    unused low bits of the last character) must not both be accepted."""
    if not isinstance(value, str):
        raise _Malformed(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Malformed(f"{what} is not valid base64") from exc
    if len(raw) != length or base64.b64encode(raw).decode("ascii") != value:
        raise _Malformed(f"{what} is not the canonical base64 of {length} bytes")
    return raw


def _time(value: Any, what: str) -> dt.datetime:
    text = _str(value, what)
    try:
        parsed = parse_time(text)
    except ValueError as exc:
        raise _Malformed(f"{what} is not a time") from exc
    if format_time(parsed) != text:
        raise _Malformed(f"{what} is not spelled as YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return parsed


def _keys_exact(value: Any, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} must be an object")
    if set(value) != keys:
        missing, extra = sorted(keys - set(value)), sorted(set(value) - keys)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(extra)}"] if extra else [])
        raise _Malformed(f"{what} has the wrong fields ({'; '.join(parts)})")
    return value


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Malformed("an object has the same key twice")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise _Malformed(f"{name} is not JSON")


_UNREADABLE = object()


def _reachable(pairs: Mapping[tuple[int, int], object], start: int, goal: int) -> bool:
    """Whether the consistency proofs form a chain of sizes from ``start`` to ``goal``."""
    frontier, seen = [start], {start}
    while frontier:
        here = frontier.pop()
        if here == goal:
            return True
        for x, y in pairs:
            if x == here and y not in seen and y <= goal:
                seen.add(y)
                frontier.append(y)
    return False


@dataclass
class _Item:
    """One exported entry after parsing; ``seq`` is the entry's own claim, else assumed."""

    seq: int
    parsed: bool
    entry_id: str | None
    logged_at: dt.datetime | None


class _Verifier:
    def __init__(self, report: VerifyReport) -> None:
        self.report = report
        self.cps: dict[int, Checkpoint] = {}
        self.version = EXPORT_FORMAT_VERSION

    def add(self, where: str, what: str, message: str) -> None:
        if not any((p.where, p.what, p.message) == (where, what, message)
                   for p in self.report.problems):
            self.report.add(where, what, message)

    # -- the whole file ------------------------------------------------------------------
    def run(self, data: bytes, pinned_key: str | None) -> None:
        doc = self._parse(data)
        if doc is _UNREADABLE:
            return
        try:
            doc = _keys_exact(doc, TOP_KEYS, "the document")
        except _Malformed as exc:
            self.add("file", "malformed", str(exc))
            if not isinstance(doc, dict) or "header" not in doc:
                return
        if doc.get("format") != EXPORT_FORMAT or doc.get("format_version") not in \
                READABLE_VERSIONS:
            self.add("file", "malformed", f"not a {EXPORT_FORMAT} file of version "
                                          f"{' or '.join(map(str, READABLE_VERSIONS))}")
            return
        self.version = int(doc["format_version"])
        header = self._header(doc.get("header"))
        keys = self._public_keys(doc.get("public_keys"), header, pinned_key)
        if header is not None:
            self._header_signature(doc, header, keys)
        self._checkpoints(doc.get("checkpoints"), doc.get("consistency_proofs"), header, keys)
        if header is not None:
            self._entries(doc.get("entries"), doc.get("boundary"), header)

    def _parse(self, data: bytes) -> Any:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.add("file", "malformed", f"the file is not UTF-8 (at byte {exc.start})")
            return _UNREADABLE
        try:
            doc = json.loads(text, object_pairs_hook=_no_duplicate_keys,
                             parse_constant=_no_constants)
        except (ValueError, RecursionError) as exc:
            where = f" (line {exc.lineno}, column {exc.colno})" \
                if isinstance(exc, json.JSONDecodeError) else ""
            self.add("file", "malformed", f"the file is not valid JSON{where}")
            return _UNREADABLE
        try:
            same = canonical_json(doc) == data
        except Exception:  # rfc8785 refuses unsafe integers and lone surrogates
            same = False
        if not same:
            self.add("file", "malformed", "file is not in canonical form (RFC 8785): it was "
                                          "edited or re-serialised after export")
        return doc

    def _header(self, value: Any) -> dict[str, Any] | None:
        try:
            header = _keys_exact(value, HEADER_KEYS, "the header")
            _str(header["origin"], "header origin")
            _time(header["exported_at"], "header exported_at")
            for bound in ("from", "to"):
                if header[bound] is not None:
                    _time(header[bound], f"header {bound}")
            first = _int(header["first_seq"], "header first_seq")
            last = _int(header["last_seq"], "header last_seq", minimum=-1)
            count = _int(header["entry_count"], "header entry_count")
            _int(header["checkpoint_count"], "header checkpoint_count")
            size = _int(header["tree_size"], "header tree_size")
            _hash(header["root_hash"], "header root_hash")
            _hash(header["body_sha256"], "header body_sha256")
            if not _KEY_ID.fullmatch(_str(header["key_id"], "header key_id")):
                raise _Malformed("header key_id must look like ed25519:<version>")
            if count != last - first + 1 or last >= size or first > size:
                raise _Malformed(f"header range {first}..{last} ({count} entries) does not "
                                 f"fit a log of {size} entries")
        except _Malformed as exc:
            self.add("header", "malformed", str(exc))
            return None
        return header

    def _public_keys(self, value: Any, header: dict[str, Any] | None, pinned: str | None
                     ) -> dict[str, Ed25519PublicKey]:
        keys: dict[str, Ed25519PublicKey] = {}
        texts: dict[str, str] = {}
        if not isinstance(value, dict) or not value:
            self.add("public keys", "malformed", "the file lists no public keys")
        else:
            for kid, text in value.items():
                try:
                    if not _KEY_ID.fullmatch(kid):
                        raise _Malformed("a key id must look like ed25519:<version>")
                    keys[kid] = Ed25519PublicKey.from_public_bytes(
                        _b64(text, 32, f"public key {kid}"))
                    texts[kid] = text
                except (_Malformed, ValueError) as exc:
                    self.add(f"public key {kid}", "malformed", str(exc))
        if pinned is None:
            return keys
        try:
            pinned_key = load_public_key(pinned.strip())
            pinned_raw = base64.b64decode(pinned.strip(), validate=True)
        except (binascii.Error, ValueError):
            self.add("public key", "malformed", "the pinned key is not a base64 Ed25519 "
                                                "public key (32 bytes)")
            return {}
        if header is None:
            # No readable header to say which key signed: trust only file keys equal to it.
            trusted = {k: pinned_key for k, t in texts.items()
                       if base64.b64decode(t) == pinned_raw}
            if not trusted:
                self.add("public key", "bad_signature", "no key in the file is the pinned key")
            return trusted
        kid = header["key_id"]
        file_raw = base64.b64decode(texts[kid]) if kid in texts else None
        if file_raw != pinned_raw:
            self.add(f"public key {kid}", "bad_signature",
                     f"the file's key {kid} is not the pinned public key: the file was not "
                     "signed by the hub you trust")
        # The pinned key stands in for the header's key: everything it signed must verify
        # with it. Older key versions are vouched for by the header signature.
        keys[kid] = pinned_key
        return keys

    def _header_signature(self, doc: dict[str, Any], header: dict[str, Any],
                          keys: Mapping[str, Ed25519PublicKey]) -> None:
        kid = header["key_id"]
        try:
            signature = _b64(doc.get("header_signature"), 64, "the header signature")
        except _Malformed as exc:
            self.add("header", "bad_signature", str(exc))
            signature = None
        key = keys.get(kid)
        if key is None:
            self.add("header", "bad_signature", f"signed with unknown key {kid}")
        elif signature is not None:
            try:
                key.verify(signature, header_message(header))
            except InvalidSignature:
                self.add("header", "bad_signature", f"the header signature does not verify "
                                                    f"with key {kid}: the header was modified "
                                                    "or signed by another key")
        try:
            digest = hashlib.sha256(canonical_json(body_of(doc))).hexdigest()
        except Exception:  # not canonicalisable: already reported as not canonical
            digest = ""
        if digest != header["body_sha256"]:
            self.add("file", "modified", "the file's content does not match the SHA-256 in "
                                         "its signed header: something after export changed it")

    # -- checkpoints ---------------------------------------------------------------------
    def _checkpoints(self, value: Any, proofs: Any, header: dict[str, Any] | None,
                     keys: Mapping[str, Ed25519PublicKey]) -> None:
        if not isinstance(value, list):
            self.add("checkpoints", "malformed", "checkpoints must be a list")
            return
        ordered: list[Checkpoint] = []
        for i, raw in enumerate(value):
            where = f"checkpoint {raw.get('tree_size')}" if isinstance(raw, dict) and \
                isinstance(raw.get("tree_size"), int) else f"checkpoint #{i + 1} in the file"
            try:
                doc = _keys_exact(raw, CHECKPOINT_KEYS, where)
                origin = _str(doc["origin"], "origin")
                if "\n" in origin:
                    raise _Malformed("origin must be one line")
                cp = Checkpoint(
                    origin=origin, tree_size=_int(doc["tree_size"], "tree_size", 1),
                    root_hash=_hash(doc["root_hash"], "root_hash").hex(),
                    issued_at=_time(doc["issued_at"], "issued_at"),
                    key_id=_str(doc["key_id"], "key_id"),
                    signature=base64.b64encode(_b64(doc["signature"], 64, "signature"))
                    .decode("ascii"))
            except _Malformed as exc:
                self.add(where, "malformed", str(exc))
                continue
            why = verify_checkpoint(cp, keys)
            if why:
                self.add(where, "bad_signature", f"checkpoint at tree size {cp.tree_size}: "
                                                 f"{why}")
            if cp.tree_size in self.cps:
                self.add(where, "inserted", "a second checkpoint for the same tree size")
                continue
            if ordered and cp.tree_size < ordered[-1].tree_size:
                self.add(where, "reordered", "checkpoints must be in increasing tree size; "
                                             f"this one follows {ordered[-1].tree_size}")
            self.cps[cp.tree_size] = cp
            ordered.append(cp)
        ordered.sort(key=lambda c: c.tree_size)
        self.report.checkpoints = len(ordered)
        self.report.latest_checkpoint = ordered[-1] if ordered else None
        if header is not None:
            self._against_header(ordered, header)
        self._consistency(ordered, proofs)

    def _against_header(self, ordered: list[Checkpoint], header: dict[str, Any]) -> None:
        if header["checkpoint_count"] > len(ordered):
            self.add("checkpoints", "missing",
                     f"the header lists {header['checkpoint_count']} checkpoints, the file "
                     f"holds {len(ordered)} readable ones")
        elif header["checkpoint_count"] < len(ordered):
            self.add("checkpoints", "inserted",
                     f"the header lists {header['checkpoint_count']} checkpoints, the file "
                     f"holds {len(ordered)}")
        latest = ordered[-1] if ordered else None
        size, root = header["tree_size"], header["root_hash"]
        if latest is None:
            if size:
                self.add(f"checkpoint {size}", "missing", "the header's latest checkpoint is "
                                                          "not in the file")
        elif (latest.tree_size, latest.root_hash) != (size, root):
            self.add(f"checkpoint {latest.tree_size}", "modified",
                     f"the latest checkpoint differs from the header's (size {size})")
        elif latest.origin != header["origin"]:
            self.add(f"checkpoint {latest.tree_size}", "modified",
                     "the latest checkpoint names another log than the header")

    def _consistency(self, ordered: list[Checkpoint], value: Any) -> None:
        if not isinstance(value, list):
            self.add("consistency proofs", "malformed", "consistency_proofs must be a list")
            return
        given: dict[tuple[int, int], list[bytes]] = {}
        for i, raw in enumerate(value):
            try:
                doc = _keys_exact(raw, CONSISTENCY_KEYS, f"consistency proof #{i + 1}")
                pair = (_int(doc["first_size"], "first_size", 1),
                        _int(doc["second_size"], "second_size", 1))
                proof = _hashes(doc["proof"], "proof")
            except _Malformed as exc:
                self.add(f"consistency proof #{i + 1}", "malformed", str(exc))
                continue
            if pair in given:
                self.add(f"checkpoint {pair[1]}", "inserted", "two consistency proofs for "
                                                              f"sizes {pair[0]}..{pair[1]}")
            given[pair] = proof
            for size in pair:
                if size not in self.cps:
                    self.add(f"checkpoint {size}", "missing", "a consistency proof refers to "
                             f"checkpoint {size}, which is not in the file")
        expected = {(a.tree_size, b.tree_size): (a, b)
                    for a, b in itertools.pairwise(ordered)}
        inserted: set[int] = set()
        for pair, (a, b) in expected.items():
            shown = given.get(pair)
            if shown is None:
                if any(x < b.tree_size < y for x, y in given):
                    inserted.add(b.tree_size)
                    self.add(f"checkpoint {b.tree_size}", "inserted",
                             "the exported chain of consistency proofs passes over it: it "
                             "was not in the log when exported")
                elif a.tree_size not in inserted and \
                        not _reachable(given, a.tree_size, b.tree_size):
                    # (If the proofs still lead from a to b, a checkpoint between them was
                    # removed, which is reported as missing already.)
                    self.add(f"checkpoint {b.tree_size}", "missing",
                             f"no consistency proof from checkpoint {a.tree_size}")
                continue
            try:
                merkle.verify_consistency(a.tree_size, b.tree_size, bytes.fromhex(a.root_hash),
                                          bytes.fromhex(b.root_hash), shown)
            except merkle.ProofError as exc:
                self.add(f"checkpoint {b.tree_size}", "bad_proof",
                         f"not shown to extend checkpoint {a.tree_size}: {exc}")
        for x, y in given:
            if (x, y) not in expected and x in self.cps and y in self.cps and \
                    not any(x < size < y for size in self.cps):
                self.add(f"checkpoint {y}", "malformed",
                         f"a consistency proof for sizes {x}..{y}, which are not adjacent "
                         "checkpoints")

    # -- entries -------------------------------------------------------------------------
    def _entry(self, raw: Any, assumed: int, label: str) -> _Item:
        """Check one exported entry and its inclusion proof; never raises."""
        item = _Item(assumed, False, None, None)
        try:
            doc = _keys_exact(raw, ENTRY_KEYS if self.version == 1 else ENTRY_KEYS_V2, label)
            leaf_text = _str(doc["leaf"], "leaf")
            body_text = doc.get("body")
            if body_text is not None:
                body_text = _str(body_text, "body")
            claimed = _hash(doc["leaf_hash"], "leaf_hash")
            cover = _int(doc["checkpoint"], "checkpoint", 1)
            proof = _hashes(doc["inclusion_proof"], "inclusion_proof")
        except _Malformed as exc:
            self.add(label, "malformed", str(exc))
            return item
        try:
            data = leaf_text.encode("utf-8")
            body = None if body_text is None else body_text.encode("utf-8")
        except UnicodeEncodeError:
            self.add(label, "modified", "the entry text is not valid Unicode")
            return item
        try:
            stored = read_entry(data, body)
        except Exception as exc:  # pydantic, JSON, canonical-form and body-hash errors alike
            self.add(label, "modified", f"not a valid canonical entry ({type(exc).__name__}: "
                                        f"{_reason(exc)})")
        else:
            item = _Item(stored.seq, True, stored.entry_id, stored.logged_at)
            label = f"entry {stored.seq}"
            if stored.erased:
                self.report.erased += 1
            scan_for_cpr(self.report, label, stored.document)
        leaf = merkle.leaf_hash(data)
        cp = self.cps.get(cover)
        if cp is None:
            self.add(label, "bad_proof", f"its proof is against checkpoint {cover}, which is "
                                         "not in the file")
            return item
        if item.seq >= cp.tree_size:
            self.add(label, "bad_proof", f"checkpoint {cover} does not cover entry {item.seq}")
            return item
        root = bytes.fromhex(cp.root_hash)

        def included(candidate: bytes) -> bool:
            try:
                merkle.verify_inclusion(candidate, item.seq, cp.tree_size, proof, root)
            except merkle.ProofError:
                return False
            return True

        if leaf == claimed:
            if not included(leaf):
                self.add(label, "bad_proof", "its inclusion proof does not lead to the signed "
                                             f"root of checkpoint {cover}: the entry or its "
                                             "proof was changed")
        elif included(claimed):
            self.add(label, "modified", "the entry's bytes were changed: they no longer hash "
                                        f"to the leaf that checkpoint {cover} signed")
        elif included(leaf):
            self.add(label, "modified", "the leaf hash written beside the entry was changed "
                                        "(the entry itself is proven)")
        else:
            self.add(label, "modified", "the entry's bytes do not hash to the leaf hash "
                                        "beside them, and neither is proven by the proof")
        return item

    def _entries(self, value: Any, boundary: Any, header: dict[str, Any]) -> None:
        first, last, size = header["first_seq"], header["last_seq"], header["tree_size"]
        if not isinstance(value, list):
            self.add("entries", "malformed", "entries must be a list")
            return
        items = [self._entry(raw, first + p, f"entry {first + p}")
                 for p, raw in enumerate(value)]
        self.report.entries = len(items)
        self.report.tree_size = size
        self.report.root_hash = header["root_hash"]
        seen_seq: set[int] = set()
        seen_ids: set[str] = set()
        kept: list[_Item] = []
        for it in items:
            where = f"entry {it.seq}"
            if it.seq in seen_seq:
                self.add(where, "inserted", f"a second entry {it.seq} in the export")
            elif it.entry_id is not None and it.entry_id in seen_ids:
                self.add(where, "inserted", "a second copy of an entry already in the export")
            elif not first <= it.seq <= last:
                self.add(where, "inserted", f"outside the exported range {first}..{last}")
            else:
                kept.append(it)
            seen_seq.add(it.seq)
            if it.entry_id is not None:
                seen_ids.add(it.entry_id)
        for it, want in zip(kept, sorted(it.seq for it in kept), strict=True):
            if it.seq != want:
                self.add(f"entry {it.seq}", "reordered",
                         f"entry {it.seq} stands where entry {want} belongs")
        previous = first - 1  # gaps between the entries present: O(entries), not O(range)
        for seq in [*sorted(it.seq for it in kept), last + 1]:
            if seq > previous + 1:
                lo, hi = previous + 1, seq - 1
                self.add(f"entry {lo}", "missing", f"entry {lo} is missing" if lo == hi else
                         f"entries {lo}..{hi} are missing")
            previous = seq
        self._boundary(boundary, header, first, last, size)

    def _boundary(self, value: Any, header: dict[str, Any], first: int, last: int,
                  size: int) -> None:
        try:
            doc = _keys_exact(value, frozenset({"before", "after"}), "boundary")
        except _Malformed as exc:
            self.add("boundary", "malformed", str(exc))
            return
        start = None if header["from"] is None else parse_time(header["from"])
        end = None if header["to"] is None else parse_time(header["to"])

        def inside(t: dt.datetime) -> bool:
            return (start is None or t >= start) and (end is None or t < end)

        for side, seq, bound, needed in (("before", first - 1, start, first > 0),
                                         ("after", last + 1, end, last + 1 < size)):
            raw = doc[side]
            if not needed:
                if raw is not None:
                    self.add(f"entry {seq}", "inserted",
                             f"a boundary entry {side} the range where the log has none")
                continue
            if bound is None:
                lo, hi = (0, first - 1) if side == "before" else (last + 1, size - 1)
                claim = "from the start" if side == "before" else "to the end"
                self.add(f"entry {lo}", "missing", f"the export claims to run {claim} of the "
                                                   f"log but entries {lo}..{hi} are not in it")
                continue
            if raw is None:
                self.add(f"entry {seq}", "missing",
                         f"the entry just {side} the range is missing, so the export does "
                         "not show that no entry at its edge was left out")
                continue
            it = self._entry(raw, seq, f"entry {seq}")
            if not it.parsed:
                continue
            if it.seq != seq:
                self.add(f"entry {seq}", "modified",
                         f"the boundary entry {side} the range must be entry {seq}, but "
                         f"says it is entry {it.seq}")
            elif it.logged_at is not None and inside(it.logged_at):
                self.add(f"entry {seq}", "missing",
                         f"entry {seq} was logged inside the export window but is not in the "
                         "export")


def verify_export(data: bytes, *, pinned_key: str | None = None) -> VerifyReport:
    """Check an export file completely, offline. Never raises: every defect is a problem.

    ``pinned_key`` (base64 of the raw 32-byte Ed25519 public key, obtained from the hub's
    operator, not from the file) must be the key that signed the header; without it the
    file's own key is used, which proves integrity but not origin."""
    report = VerifyReport()
    try:
        _Verifier(report).run(data, pinned_key)
    except Exception as exc:  # the verifier's contract: bad input is a finding, not a crash
        report.add("file", "malformed", f"the file could not be checked ({type(exc).__name__})")
    return report


def export_public_keys(data: bytes) -> dict[str, str]:
    """The public keys a file names (for display; unchecked). Empty if unreadable."""
    try:
        keys = json.loads(data).get("public_keys")
    except (ValueError, AttributeError, RecursionError):
        return {}
    if not isinstance(keys, dict):
        return {}
    return {str(k): v for k, v in keys.items() if isinstance(v, str)}


# --------------------------------------------------------------------------- a retained checkpoint


def parse_retained_checkpoint(data: bytes) -> Checkpoint:
    """A checkpoint an auditor kept: the JSON of ``GET /api/v1/checkpoints/latest`` (or any
    object with its fields), or an earlier export file (its latest checkpoint). Raises
    ValueError naming what is wrong (never a value)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError("the retained checkpoint is not JSON") from exc
    if isinstance(doc, dict) and isinstance(doc.get("checkpoints"), list):
        cps = [c for c in doc["checkpoints"] if isinstance(c, dict)]
        if not cps:
            raise ValueError("the earlier export holds no checkpoint")
        doc = max(cps, key=lambda c: c.get("tree_size", 0) if isinstance(
            c.get("tree_size"), int) else 0)
    if not isinstance(doc, dict):
        raise ValueError("the retained checkpoint must be a JSON object")
    try:
        return Checkpoint(
            origin=_str(doc.get("origin"), "origin"),
            tree_size=_int(doc.get("tree_size"), "tree_size", 1),
            root_hash=_hash(doc.get("root_hash"), "root_hash").hex(),
            issued_at=_time(doc.get("issued_at"), "issued_at"),
            key_id=_str(doc.get("key_id"), "key_id"),
            signature=base64.b64encode(_b64(doc.get("signature"), 64, "signature"))
            .decode("ascii"))
    except _Malformed as exc:
        raise ValueError(f"the retained checkpoint is malformed: {exc}") from exc


def check_retained(report: VerifyReport, old: Checkpoint,
                   keys: Mapping[str, Ed25519PublicKey], leaves: list[bytes] | None,
                   checkpoints: Mapping[int, Checkpoint]) -> None:
    """Is the log now (``checkpoints``, and ``leaves`` where known) an append-only extension
    of the retained checkpoint ``old``? Adds a problem to ``report`` if not.

    ``leaves`` are the leaf hashes from the start of the log, as far as they are known (a
    full export or the live log). With them the RFC 6962 consistency proof from ``old`` to
    the newest checkpoint is built and checked; without them, a checkpoint of the same size
    in the new log must carry the same root (the new log's own consistency proofs, checked
    already, then lead from it to the newest)."""
    where = f"retained checkpoint {old.tree_size}"
    why = verify_checkpoint(old, keys)
    if why:
        report.add(where, "bad_signature", f"the retained checkpoint: {why}")
        return
    newest = max(checkpoints.values(), key=lambda c: c.tree_size, default=None)
    if newest is None or newest.tree_size < old.tree_size:
        report.add(where, "missing", f"the log has no checkpoint as large as the retained "
                                     f"one ({old.tree_size} entries): entries were removed")
        return
    if newest.origin != old.origin:
        report.add(where, "modified", "the retained checkpoint names another log")
        return
    same = checkpoints.get(old.tree_size)
    if same is not None and same.root_hash != old.root_hash:
        report.add(where, "inconsistent",
                   f"the log now has another root at size {old.tree_size} than the retained "
                   "checkpoint: it was rewritten (a fork)")
        return
    if leaves is not None and len(leaves) >= newest.tree_size:
        tree = merkle.ProofTree(leaves[:newest.tree_size])
        proof = tree.consistency(old.tree_size, newest.tree_size)
        try:
            merkle.verify_consistency(old.tree_size, newest.tree_size,
                                      bytes.fromhex(old.root_hash),
                                      bytes.fromhex(newest.root_hash), proof)
        except merkle.ProofError:
            report.add(where, "inconsistent",
                       f"no valid consistency proof from the retained checkpoint (size "
                       f"{old.tree_size}) to the newest (size {newest.tree_size}): the log "
                       "was rewritten (a fork)")
        return
    if same is None:
        report.add(where, "missing",
                   f"the export holds no checkpoint at size {old.tree_size} and not the "
                   "entries from the start of the log: export the whole log to check it")


def export_checkpoints_and_leaves(data: bytes) -> tuple[dict[int, Checkpoint], list[bytes] | None]:
    """An export's checkpoints by tree size, and its leaf hashes if it holds the whole log
    (from entry 0 to its newest checkpoint). For :func:`check_retained`, after
    :func:`verify_export` found the file intact."""
    doc = json.loads(data)
    cps: dict[int, Checkpoint] = {}
    for raw in doc.get("checkpoints", []):
        cp = Checkpoint(origin=raw["origin"], tree_size=raw["tree_size"],
                        root_hash=raw["root_hash"], issued_at=parse_time(raw["issued_at"]),
                        key_id=raw["key_id"], signature=raw["signature"])
        cps[cp.tree_size] = cp
    header = doc.get("header", {})
    entries = doc.get("entries", [])
    leaves = None
    if header.get("first_seq") == 0 and len(entries) == header.get("tree_size"):
        leaves = [bytes.fromhex(e["leaf_hash"]) for e in entries]
    return cps, leaves
