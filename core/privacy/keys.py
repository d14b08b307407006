"""Key material: a versioned key ring, held in a 0600 key file for the embedded default.

``KeyProvider`` is the one-method seam for a KMS; ``FileKeyProvider`` is the shipped
implementation. Key bytes are never logged or put in exception messages.

Key file format (JSON, version 1)::

    {"format": 1,
     "hmac": {"ssp": {"1": "<base64 32 bytes>"}},      # pseudonym keys per domain and version
     "aes": {"1": "<base64 32 bytes>"},                  # AES-256-GCM data keys
     "ed25519": {"1": "<base64 32-byte private seed>"},  # log checkpoint signing keys
     "current": {"hmac:ssp": 1, "aes": 1, "ed25519": 1}}

The checkpoint **signing key** lives apart from the data keys, in its own 0600 file (default
``signing-key.json`` beside the key file, ``SSP_HUB_SIGNING_KEY_FILE``): whoever may read the
data keys need not be able to re-sign the log. It holds the current private seed and the
public keys of every earlier version (old checkpoints still verify; old seeds are gone)::

    {"format": 1, "current": 2, "seed": "<base64 32-byte private seed>",
     "public": {"1": "<base64 32-byte public key>", "2": "<…>"}}

A key file from before the split (with ``ed25519`` in it) still works; ``ssp-hub keys rotate
--signing`` moves the signing key out of it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from core.errors import KeyFileError

if TYPE_CHECKING:
    from core.settings import Settings

KEY_FILE_FORMAT = 1
SIGNING_KEY_FILE = "signing-key.json"
KEY_BYTES = 32
PSEUDONYM_DOMAINS = ("ssp",)


@dataclass(frozen=True)
class KeyRing:
    hmac: dict[str, dict[int, bytes]]
    aes: dict[int, bytes]
    ed25519: dict[int, bytes]  # private seeds: only the current one once the key is apart
    current: dict[str, int]
    # Public keys of retired signing-key versions (their seeds are destroyed at rotation).
    ed25519_public: dict[int, bytes] = field(default_factory=dict)

    def __repr__(self) -> str:  # never print key bytes
        return f"KeyRing(current={self.current!r})"

    def current_aes(self) -> tuple[int, bytes]:
        version = self.current["aes"]
        return version, self.aes[version]

    def current_hmac(self, domain: str) -> tuple[int, bytes]:
        version = self.current[f"hmac:{domain}"]
        return version, self.hmac[domain][version]

    def hmac_key(self, domain: str, version: int) -> bytes:
        return self.hmac[domain][version]

    def connector_id_secret(self) -> bytes:
        """The secret under which connectors derive event ids (the first ``ssp`` HMAC key,
        which rotation never removes, so a re-sent record keeps its id)."""
        versions = self.hmac["ssp"]
        return versions[min(versions)]

    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.ed25519[self.current["ed25519"]])


def rotate_keyring(ring: KeyRing) -> KeyRing:
    """A new HMAC version for every pseudonym domain in the ring and a new AES data-key
    version, all made current. Old versions stay: they decrypt old payloads and vault
    entries and let :func:`core.privacy.vault.rekey` link old pseudonyms to new ones."""
    hmac_keys = {d: dict(ks) for d, ks in ring.hmac.items()}
    current = dict(ring.current)
    for domain, versions in hmac_keys.items():
        new_version = max(versions) + 1
        versions[new_version] = secrets.token_bytes(KEY_BYTES)
        current[f"hmac:{domain}"] = new_version
    aes = dict(ring.aes)
    aes_version = max(aes) + 1
    aes[aes_version] = secrets.token_bytes(KEY_BYTES)
    current["aes"] = aes_version
    return replace(ring, hmac=hmac_keys, aes=aes, current=current)


def public_key_bytes(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def signing_publics(ring: KeyRing) -> dict[int, bytes]:
    """Every signing-key version's public key (retired ones and those with a seed)."""
    return {**ring.ed25519_public,
            **{v: public_key_bytes(seed) for v, seed in ring.ed25519.items()}}


def rotate_signing(ring: KeyRing) -> KeyRing:
    """A new current signing key; the old versions keep only their public keys."""
    publics = signing_publics(ring)
    version = max(publics) + 1
    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                      NoEncryption())
    return replace(ring, ed25519={version: seed}, ed25519_public=publics,
                   current={**ring.current, "ed25519": version})


class KeyProvider(Protocol):
    """Where keys come from: the key file here, a KMS in production."""

    def load(self) -> KeyRing: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_keyring() -> KeyRing:
    seed = Ed25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption()
    )
    return KeyRing(
        hmac={d: {1: secrets.token_bytes(32)} for d in PSEUDONYM_DOMAINS},
        aes={1: secrets.token_bytes(32)},
        ed25519={1: seed},
        current={"aes": 1, "ed25519": 1, **{f"hmac:{d}": 1 for d in PSEUDONYM_DOMAINS}},
    )


def _dump(ring: KeyRing, *, with_signing: bool = True) -> str:
    current = dict(ring.current)
    doc: dict[str, object] = {
        "format": KEY_FILE_FORMAT,
        "hmac": {d: {str(v): _b64(k) for v, k in ks.items()} for d, ks in ring.hmac.items()},
        "aes": {str(v): _b64(k) for v, k in ring.aes.items()},
    }
    if with_signing:
        doc["ed25519"] = {str(v): _b64(k) for v, k in ring.ed25519.items()}
    else:
        current.pop("ed25519", None)
    doc["current"] = current
    return json.dumps(doc, indent=2, sort_keys=True)


def _dump_signing(ring: KeyRing) -> str:
    version = ring.current["ed25519"]
    doc = {"format": KEY_FILE_FORMAT, "current": version, "seed": _b64(ring.ed25519[version]),
           "public": {str(v): _b64(k) for v, k in sorted(signing_publics(ring).items())}}
    return json.dumps(doc, indent=2, sort_keys=True)


def _parse_signing(text: str, ring: KeyRing) -> KeyRing:
    """Overlay the signing-key file on the data-key ring."""
    try:
        doc = json.loads(text)
        if doc.get("format") != KEY_FILE_FORMAT:
            raise KeyFileError(f"signing key file format must be {KEY_FILE_FORMAT}")
        version = int(doc["current"])
        seed = _key(doc["seed"])
        publics = {int(v): _key(k) for v, k in doc["public"].items()}
        if publics.get(version, public_key_bytes(seed)) != public_key_bytes(seed):
            raise ValueError("the current public key does not belong to the seed")
    except KeyFileError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise KeyFileError("signing key file is malformed; restore it from backup") from exc
    publics.pop(version, None)
    return replace(ring, ed25519={version: seed}, ed25519_public=publics,
                   current={**ring.current, "ed25519": version})


def _key(text: str) -> bytes:
    """Strict base64 of exactly 32 bytes: a damaged key must not decode to a shorter one."""
    key = base64.b64decode(text, validate=True)
    if len(key) != KEY_BYTES:
        raise ValueError("key has the wrong length")
    return key


def _versions(doc: dict[str, str]) -> dict[int, bytes]:
    versions = {int(v): _key(k) for v, k in doc.items()}
    if not versions:
        raise ValueError("no key versions")
    return versions


def _parse(text: str) -> KeyRing:
    try:
        doc = json.loads(text)
        if doc.get("format") != KEY_FILE_FORMAT:
            raise KeyFileError(f"key file format must be {KEY_FILE_FORMAT}")
        ring = KeyRing(
            hmac={d: _versions(ks) for d, ks in doc["hmac"].items()},
            aes=_versions(doc["aes"]),
            ed25519=_versions(doc["ed25519"]) if "ed25519" in doc else {},
            current={str(k): int(v) for k, v in doc["current"].items()},
        )
        ring.current_aes()
        # Every domain the ring holds (and at least the ones the hub uses) has a current key.
        for domain in {*PSEUDONYM_DOMAINS, *ring.hmac}:
            ring.current_hmac(domain)
        if ring.ed25519:
            ring.signing_key()
    except KeyFileError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        # The message names the problem, never the content.
        raise KeyFileError("key file is malformed; restore it from backup") from exc
    return ring


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileKeyProvider:
    """Keys in a JSON file with mode 0600. Refuses files that others can read."""

    def __init__(self, path: Path, *, create: bool, signing_path: Path | None = None) -> None:
        self.path = path
        self.create = create
        self.signing_path = signing_path or path.with_name(SIGNING_KEY_FILE)

    def load(self) -> KeyRing:
        ring = self._load_data_keys()
        if self.signing_path.exists():
            return _parse_signing(self._read_private(self.signing_path, "signing key"), ring)
        if ring.ed25519:  # a key file from before the split: its signing key still counts
            return ring
        if not self.create:
            raise KeyFileError(
                f"signing key file {self.signing_path} is missing; restore it from backup, or "
                "start a new signing key with `ssp-hub keys rotate --signing` (earlier "
                "checkpoints then verify only with the old public key)")
        ring = rotate_signing(ring) if ring.ed25519_public else _with_new_signing_key(ring)
        self.write_signing(ring)
        return _parse_signing(self._read_private(self.signing_path, "signing key"), ring)

    def _read_private(self, path: Path, what: str) -> str:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"{what} file {path} is readable by others (mode {mode:o}); "
                "run `chmod 600` on it"
            )
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"{what} file {path} cannot be read; restore it from backup"
                               ) from exc

    def _load_data_keys(self) -> KeyRing:
        if not self.path.exists():
            if not self.create:
                raise KeyFileError(
                    f"key file {self.path} is missing; create it with `ssp-hub keys init` "
                    "(or restore it from backup). The hub runs in production mode "
                    "(SSP_HUB_MODE=production, the default) and never makes new keys by "
                    "itself; SSP_HUB_MODE=dev lets it create a key file, for development only"
                )
            fresh = new_keyring()
            if not self.signing_path.exists():
                self.write_signing(fresh)  # the signing key first, in its own file
            self.write(fresh)
        return _parse(self._read_private(self.path, "key"))

    def rotate(self) -> tuple[KeyRing, KeyRing]:
        """Load the ring, add the next versions, write it back. Returns (old, new)."""
        old = self.load()
        new = rotate_keyring(old)
        self.write(new, replace=True)
        return old, new

    def rotate_signing(self) -> tuple[KeyRing, KeyRing]:
        """A new checkpoint signing key in the signing-key file (old versions keep their
        public keys only). A key file from before the split loses its signing key."""
        old = self.load()
        new = rotate_signing(old)
        self.write_signing(new, replace=True)
        if "ed25519" in json.loads(self.path.read_text(encoding="utf-8")):
            self.write(new, replace=True)  # now without the signing key
        return old, new

    def write_signing(self, ring: KeyRing, *, replace: bool = False) -> None:
        """Write the signing-key file atomically (0600, fsync'd)."""
        _write_private(self.signing_path, _dump_signing(ring), replace=replace)

    def write(self, ring: KeyRing, *, replace: bool = False) -> None:
        """Write atomically. Without ``replace`` an existing file wins: two processes that
        start at once on a fresh data dir end up with the same keys. The signing key goes
        into the data-key file only where there is no signing-key file (old layout)."""
        _write_private(self.path, _dump(ring, with_signing=not self.signing_path.exists()),
                       replace=replace)


def provider_for(settings: Settings, *, create: bool) -> FileKeyProvider:
    """The key file and the signing-key file the settings name."""
    return FileKeyProvider(settings.resolved_key_file, create=create,
                           signing_path=settings.resolved_signing_key_file)


def _with_new_signing_key(ring: KeyRing) -> KeyRing:
    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw,
                                                      NoEncryption())
    return replace(ring, ed25519={1: seed}, current={**ring.current, "ed25519": 1})


def _write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write a 0600 file atomically and durably. Without ``replace`` an existing file wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())  # the keys are on disk before the name points at them
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        _fsync_dir(path.parent)  # …and the new name survives a crash too
    finally:
        tmp.unlink(missing_ok=True)
