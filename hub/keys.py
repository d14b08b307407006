"""Key material: a versioned key ring, held in a 0600 key file for the embedded default.

``KeyProvider`` is the one-method seam for a KMS; ``FileKeyProvider`` is the shipped
implementation. Key bytes are never logged or put in exception messages.

Key file format (JSON, version 1)::

    {"format": 1,
     "hmac": {"ssp": {"1": "<base64 32 bytes>"}},      # pseudonym keys per domain and version
     "aes": {"1": "<base64 32 bytes>"},                  # AES-256-GCM data keys
     "ed25519": {"1": "<base64 32-byte private seed>"},  # log checkpoint signing keys
     "current": {"hmac:ssp": 1, "aes": 1, "ed25519": 1}}
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from hub.errors import KeyFileError

KEY_FILE_FORMAT = 1
KEY_BYTES = 32
PSEUDONYM_DOMAINS = ("ssp",)


@dataclass(frozen=True)
class KeyRing:
    hmac: dict[str, dict[int, bytes]]
    aes: dict[int, bytes]
    ed25519: dict[int, bytes]
    current: dict[str, int]

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
    entries and let :func:`hub.vault.rekey` link old pseudonyms to new ones."""
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
    return KeyRing(hmac=hmac_keys, aes=aes, ed25519=dict(ring.ed25519), current=current)


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


def _dump(ring: KeyRing) -> str:
    doc = {
        "format": KEY_FILE_FORMAT,
        "hmac": {d: {str(v): _b64(k) for v, k in ks.items()} for d, ks in ring.hmac.items()},
        "aes": {str(v): _b64(k) for v, k in ring.aes.items()},
        "ed25519": {str(v): _b64(k) for v, k in ring.ed25519.items()},
        "current": ring.current,
    }
    return json.dumps(doc, indent=2, sort_keys=True)


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
            ed25519=_versions(doc["ed25519"]),
            current={str(k): int(v) for k, v in doc["current"].items()},
        )
        ring.current_aes()
        # Every domain the ring holds (and at least the ones the hub uses) has a current key.
        for domain in {*PSEUDONYM_DOMAINS, *ring.hmac}:
            ring.current_hmac(domain)
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

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self.create = create

    def load(self) -> KeyRing:
        if not self.path.exists():
            if not self.create:
                raise KeyFileError(
                    f"key file {self.path} is missing; create it with `ssp-hub keys init` "
                    "(or restore it from backup). The hub runs in production mode "
                    "(SSP_HUB_MODE=production, the default) and never makes new keys by "
                    "itself; SSP_HUB_MODE=dev lets it create a key file, for development only"
                )
            self.write(new_keyring())
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(
                f"key file {self.path} is readable by others (mode {mode:o}); "
                "run `chmod 600` on it"
            )
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyFileError(f"key file {self.path} cannot be read; restore it from backup"
                               ) from exc
        return _parse(text)

    def rotate(self) -> tuple[KeyRing, KeyRing]:
        """Load the ring, add the next versions, write it back. Returns (old, new)."""
        old = self.load()
        new = rotate_keyring(old)
        self.write(new, replace=True)
        return old, new

    def write(self, ring: KeyRing, *, replace: bool = False) -> None:
        """Write atomically. Without ``replace`` an existing file wins: two processes that
        start at once on a fresh data dir end up with the same keys."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(_dump(ring))
                fh.flush()
                os.fsync(fh.fileno())  # the keys are on disk before the name points at them
            if replace:
                os.replace(tmp, self.path)
            else:
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.path)
            _fsync_dir(self.path.parent)  # …and the new name survives a crash too
        finally:
            tmp.unlink(missing_ok=True)
