"""Pseudonyms (HMAC-SHA256). The payload cipher (AES-256-GCM) is the ingest envelope's
(:mod:`core.bus.envelope`); it is named here too for the modules that import it from here.

MAC keys are built once per process and reused on the hot path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from core.bus.envelope import AAD_PREFIX, NONCE_BYTES, PayloadCipher, associated_data
from core.privacy.keys import KeyRing

__all__ = ["AAD_PREFIX", "NONCE_BYTES", "PSEUDONYM_BYTES", "PSEUDONYM_PATTERN", "PayloadCipher",
           "Pseudonymiser", "associated_data", "pseudonym_domain_version"]

# What :class:`Pseudonymiser` emits; anything else is not a pseudonym the hub issued.
PSEUDONYM_PATTERN = re.compile(r"[a-z]+[0-9]+:[a-z2-7]{32}")
PSEUDONYM_BYTES = 20  # 160 bits of HMAC-SHA256: collisions are out of reach, text stays short


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
