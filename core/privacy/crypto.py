"""Payload encryption (AES-256-GCM) and pseudonyms (HMAC-SHA256).

Cipher and MAC keys are built once per process and reused on the hot path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import CryptoError
from core.privacy.keys import KeyRing

NONCE_BYTES = 12
# What :class:`Pseudonymiser` emits; anything else is not a pseudonym the hub issued.
PSEUDONYM_PATTERN = re.compile(r"[a-z]+[0-9]+:[a-z2-7]{32}")
PSEUDONYM_BYTES = 20  # 160 bits of HMAC-SHA256: collisions are out of reach, text stays short
AAD_PREFIX = b"ssp-hub/ingest/v1"


def associated_data(event_id: str, agency: str) -> bytes:
    """Binds a ciphertext to its event and agency: moving it elsewhere fails authentication."""
    return b"|".join((AAD_PREFIX, event_id.encode("ascii"), agency.encode("ascii")))


class PayloadCipher:
    """Encrypts with the current AES key; decrypts with whichever version the header names."""

    def __init__(self, ring: KeyRing) -> None:
        self._current_version, _ = ring.current_aes()
        self._ciphers = {version: AESGCM(key) for version, key in ring.aes.items()}

    @property
    def key_id(self) -> str:
        return f"aes:{self._current_version}"

    def encrypt(self, plaintext: bytes, event_id: str, agency: str) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._ciphers[self._current_version].encrypt(
            nonce, plaintext, associated_data(event_id, agency)
        )
        return self.key_id, nonce + ct

    def decrypt(self, key_id: str, blob: bytes, event_id: str, agency: str) -> bytes:
        kind, _, version = key_id.partition(":")
        try:
            cipher = self._ciphers.get(int(version)) if kind == "aes" else None
        except ValueError:
            cipher = None
        if cipher is None:
            raise CryptoError("unknown key id")
        if len(blob) <= NONCE_BYTES:
            raise CryptoError("ciphertext too short")
        try:
            return cipher.decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data(event_id, agency)
            )
        except InvalidTag as exc:
            raise CryptoError("ciphertext failed authentication") from exc


class Pseudonymiser:
    """``<domain><version>:<base32 of the first 160 bits of HMAC-SHA256(key, CPR)>``,
    e.g. ``ssp1:q3kz…`` (32 lower-case letters and digits 2–7: short, readable, no
    look-alike 0/1/8).

    The same CPR gives the same pseudonym across agencies inside a domain, and an unrelated
    one in any other domain (each domain has its own key).
    """

    def __init__(self, ring: KeyRing, domain: str, version: int | None = None) -> None:
        """The domain's current key, or an older ``version`` (for linking across rotations)."""
        self.domain = domain
        if version is None:
            self.version, key = ring.current_hmac(domain)
        else:
            self.version, key = version, ring.hmac_key(domain, version)
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self._prefix = f"{domain}{self.version}:"

    def __call__(self, normalised_cpr: str) -> str:
        mac = self._mac.copy()
        mac.update(normalised_cpr.encode("ascii"))
        digest = mac.digest()[:PSEUDONYM_BYTES]
        return self._prefix + base64.b32encode(digest).decode("ascii").lower()


def pseudonym_domain_version(pseudonym: str) -> tuple[str, int] | None:
    """``("ssp", 2)`` for ``ssp2:…``; None if the text is not shaped like a pseudonym."""
    prefix, sep, digest = pseudonym.partition(":")
    if not sep or not digest:
        return None
    domain = prefix.rstrip("0123456789")
    version = prefix[len(domain):]
    if not domain or not version or not domain.isalpha():
        return None
    return domain, int(version)
