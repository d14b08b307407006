"""The ingest envelope: how a canonical event travels from the API to the route stage.

One record on ``ingest.<agency>``:

* value    AES-256-GCM of the event's JSON (12-byte random nonce + ciphertext + tag), with
           associated data ``ssp-hub/ingest/v1|<event id>|<agency>``: a ciphertext moved to
           another event or agency fails authentication;
* key      the ordering key, a keyed hash of the subject's CPR (one young person's events share
           a partition and keep their order; it cannot be recomputed from a guessed CPR);
* headers  key id (``aes:<version>``), agency, event id, acceptance time — never personal data.

:func:`seal` builds it (the API, benchmarks, tests); :func:`open` checks and decrypts it (the
route stage). The wire format is the contract in ``schemas/wire.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# CryptoError is the hub's one exception for a payload that fails; it moves down with the
# rest of the hub's error tree (issue 14 item 1).
from core.errors import CryptoError
from schemas.wire import H_AGENCY, H_EVENT_ID, H_INGESTED_AT, H_KEY_ID, ingest_topic

NONCE_BYTES = 12
AAD_PREFIX = b"ssp-hub/ingest/v1"
ORDER_KEY_LABEL = b"ssp-hub ingest order key v1"
EVENT_ID_MAX = 100  # the width of the store's event id columns


class AesKeys(Protocol):
    """What the envelope needs of a key ring (:class:`core.privacy.keys.KeyRing`)."""

    @property
    def aes(self) -> Mapping[int, bytes]: ...

    def current_aes(self) -> tuple[int, bytes]: ...

    def connector_id_secret(self) -> bytes: ...


def associated_data(event_id: str, agency: str) -> bytes:
    """Binds a ciphertext to its event and agency: moving it elsewhere fails authentication."""
    return b"|".join((AAD_PREFIX, event_id.encode("ascii"), agency.encode("ascii")))


class PayloadCipher:
    """Encrypts with the current AES key; decrypts with whichever version the header names.
    Cipher objects are built once per process and reused on the hot path."""

    def __init__(self, ring: AesKeys) -> None:
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


class OrderKey:
    """The ingest key: HMAC-SHA256 of the CPR under a key derived from the connector secret
    (which rotation never removes), as 32 hex characters."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, ORDER_KEY_LABEL, hashlib.sha256).digest()

    @classmethod
    def for_ring(cls, ring: AesKeys) -> OrderKey:
        return cls(ring.connector_id_secret())

    def __call__(self, cpr: str) -> bytes:
        return hmac.new(self._key, cpr.encode("utf-8"), hashlib.sha256).hexdigest()[:32].encode()


def ingest_headers(key_id: str, agency: str, event_id: str, ingested_at: dt.datetime
                   ) -> list[tuple[str, bytes]]:
    return [(H_KEY_ID, key_id.encode()), (H_AGENCY, agency.encode()),
            (H_EVENT_ID, event_id.encode()), (H_INGESTED_AT, ingested_at.isoformat().encode())]


@dataclass(frozen=True)
class Sealed:
    """A sealed event, ready to produce: ``headers(ingested_at)`` stamps the acceptance time
    (a benchmark stamps it when it hands the record over)."""

    topic: str
    key: bytes
    value: bytes
    key_id: str
    agency: str
    event_id: str

    def headers(self, ingested_at: dt.datetime) -> list[tuple[str, bytes]]:
        return ingest_headers(self.key_id, self.agency, self.event_id, ingested_at)


def seal(cipher: PayloadCipher, order_key: OrderKey, payload: bytes, *, event_id: str,
         agency: str, cpr: str) -> Sealed:
    """Encrypt ``payload`` (the event's JSON) for ``ingest.<agency>``, keyed by ``cpr``."""
    key_id, blob = cipher.encrypt(payload, event_id, agency)
    return Sealed(ingest_topic(agency), order_key(cpr), blob, key_id, agency, event_id)


@dataclass(frozen=True)
class Envelope:
    """What an ingest record's headers (and key) claim, before anything is decrypted."""

    event_id: str  # the header, else the record key; "" when neither (at most 100 chars)
    agency: str  # "" when absent
    key_id: str | None
    ingested_at: dt.datetime | None


class EnvelopeRefused(CryptoError):
    """The record cannot be opened; ``reason`` is the quarantine reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def header(headers: Mapping[str, bytes], name: str) -> str | None:
    raw = headers.get(name)
    try:
        return raw.decode("ascii") if raw is not None else None
    except UnicodeDecodeError:
        return None


def read(headers: Mapping[str, bytes], key: bytes | None) -> Envelope:
    """The envelope's claims; a malformed header reads as absent."""
    event_id = (header(headers, H_EVENT_ID)
                or (key.decode("ascii", "replace") if key else ""))[:EVENT_ID_MAX]
    raw = header(headers, H_INGESTED_AT)
    try:
        ingested_at = dt.datetime.fromisoformat(raw) if raw else None
    except ValueError:
        ingested_at = None
    return Envelope(event_id, header(headers, H_AGENCY) or "", header(headers, H_KEY_ID),
                    ingested_at)


def open(cipher: PayloadCipher, topic: str, envelope: Envelope, value: bytes) -> bytes:
    """The plaintext, or :class:`EnvelopeRefused` with ``missing_header``,
    ``agency_topic_mismatch`` or ``undecryptable``."""
    if not envelope.event_id or not envelope.agency or not envelope.key_id:
        raise EnvelopeRefused("missing_header")
    if topic != ingest_topic(envelope.agency):
        raise EnvelopeRefused("agency_topic_mismatch")
    try:
        return cipher.decrypt(envelope.key_id, value, envelope.event_id, envelope.agency)
    except CryptoError as exc:
        raise EnvelopeRefused("undecryptable") from exc
