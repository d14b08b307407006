"""AES-GCM payload encryption, HMAC pseudonyms and the key file (issue 2 items 4, 5, 7)."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import uuid
from pathlib import Path

import pytest

from core.errors import CryptoError, KeyFileError
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import FileKeyProvider, KeyRing, new_keyring

PLAINTEXT = '{"subject": {"cpr": "0102104321", "name": "Mikkel Sørensen"}}'.encode()
EVENT_ID = "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e"


def _two_domain_ring() -> KeyRing:
    base = new_keyring()
    return KeyRing(
        hmac={"ssp": {1: os.urandom(32)}, "psp": {1: os.urandom(32)}},
        aes=base.aes, ed25519=base.ed25519,
        current={"aes": 1, "ed25519": 1, "hmac:ssp": 1, "hmac:psp": 1},
    )


def _all_key_bytes(ring: KeyRing) -> list[bytes]:
    keys = list(ring.aes.values()) + list(ring.ed25519.values())
    for versions in ring.hmac.values():
        keys += list(versions.values())
    return keys


# -- AES-GCM -------------------------------------------------------------------------------
def test_encrypt_then_decrypt_gives_the_plaintext(cipher: PayloadCipher) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    assert key_id == "aes:1"
    assert PLAINTEXT not in blob
    assert cipher.decrypt(key_id, blob, EVENT_ID, "school") == PLAINTEXT


def test_same_plaintext_encrypts_differently_each_time(cipher: PayloadCipher) -> None:
    _, first = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")
    _, second = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    assert first != second


def test_ciphertext_moved_to_another_event_id_fails(cipher: PayloadCipher) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError):
        cipher.decrypt(key_id, blob, str(uuid.uuid4()), "school")


@pytest.mark.parametrize("other_agency", ["police", "social"])
def test_ciphertext_moved_to_another_agency_fails(cipher: PayloadCipher,
                                                  other_agency: str) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError):
        cipher.decrypt(key_id, blob, EVENT_ID, other_agency)


def test_every_tampered_byte_fails_authentication(cipher: PayloadCipher) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(CryptoError):
            cipher.decrypt(key_id, bytes(tampered), EVENT_ID, "school")


@pytest.mark.parametrize("blob", [b"", b"\x00" * 12, b"\x00" * 13, os.urandom(64)],
                         ids=["empty", "nonce only", "nonce and one byte", "random 64 bytes"])
def test_short_or_random_blobs_fail(cipher: PayloadCipher, blob: bytes) -> None:
    with pytest.raises(CryptoError):
        cipher.decrypt("aes:1", blob, EVENT_ID, "school")




@pytest.mark.parametrize("key_id", [
    "aes:2", "aes:", "aes:x", "hmac:1", "", "1",
    "rsa:1",
])
def test_unknown_key_id_fails(cipher: PayloadCipher, key_id: str) -> None:
    _, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError):
        cipher.decrypt(key_id, blob, EVENT_ID, "school")


def test_another_key_ring_cannot_decrypt(cipher: PayloadCipher) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError):
        PayloadCipher(new_keyring()).decrypt(key_id, blob, EVENT_ID, "school")


def test_rotated_ring_encrypts_with_the_new_key_and_still_decrypts_the_old(
        keyring: KeyRing) -> None:
    old = PayloadCipher(keyring)
    old_id, old_blob = old.encrypt(PLAINTEXT, EVENT_ID, "school")
    rotated = PayloadCipher(KeyRing(
        hmac=keyring.hmac, aes={**keyring.aes, 2: os.urandom(32)}, ed25519=keyring.ed25519,
        current={**keyring.current, "aes": 2},
    ))

    new_id, new_blob = rotated.encrypt(PLAINTEXT, EVENT_ID, "school")

    assert (old_id, new_id) == ("aes:1", "aes:2")
    assert rotated.decrypt(old_id, old_blob, EVENT_ID, "school") == PLAINTEXT
    assert rotated.decrypt(new_id, new_blob, EVENT_ID, "school") == PLAINTEXT


def test_cipher_without_the_newer_key_version_fails_with_crypto_error(
        keyring: KeyRing) -> None:
    rotated = PayloadCipher(KeyRing(
        hmac=keyring.hmac, aes={**keyring.aes, 2: os.urandom(32)}, ed25519=keyring.ed25519,
        current={**keyring.current, "aes": 2},
    ))
    new_id, new_blob = rotated.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError):
        PayloadCipher(keyring).decrypt(new_id, new_blob, EVENT_ID, "school")


def test_crypto_errors_say_nothing_about_the_payload(cipher: PayloadCipher) -> None:
    key_id, blob = cipher.encrypt(PLAINTEXT, EVENT_ID, "school")

    with pytest.raises(CryptoError) as info:
        cipher.decrypt(key_id, blob, EVENT_ID, "police")
    assert "0102104321" not in str(info.value)
    assert blob.hex() not in str(info.value)


# -- pseudonyms ----------------------------------------------------------------------------
def test_pseudonym_is_deterministic_and_versioned(pseudonymiser: Pseudonymiser) -> None:
    first = pseudonymiser("0102104321")

    assert first == pseudonymiser("0102104321")
    assert first.startswith("ssp1:")
    digest = first.removeprefix("ssp1:")
    assert len(digest) == 32  # short and readable: base32 of 160 bits
    assert re.fullmatch(r"[a-z2-7]{32}", digest)
    assert "0102104321" not in first


def test_different_cprs_get_different_pseudonyms(pseudonymiser: Pseudonymiser) -> None:
    assert pseudonymiser("0102104321") != pseudonymiser("0102104322")


def test_pseudonym_differs_under_another_key_ring(pseudonymiser: Pseudonymiser) -> None:
    other = Pseudonymiser(new_keyring(), "ssp")

    assert pseudonymiser("0102104321") != other("0102104321")


def test_same_cpr_has_unrelated_pseudonyms_in_two_domains() -> None:
    ring = _two_domain_ring()
    ssp, psp = Pseudonymiser(ring, "ssp"), Pseudonymiser(ring, "psp")

    in_ssp, in_psp = ssp("0102104321"), psp("0102104321")

    assert in_ssp.startswith("ssp1:")
    assert in_psp.startswith("psp1:")
    assert in_ssp.split(":")[1] != in_psp.split(":")[1]


def test_pseudonym_carries_the_key_version() -> None:
    base = new_keyring()
    ring = KeyRing(hmac={"ssp": {**base.hmac["ssp"], 2: os.urandom(32)}}, aes=base.aes,
                   ed25519=base.ed25519, current={**base.current, "hmac:ssp": 2})

    assert Pseudonymiser(ring, "ssp")("0102104321").startswith("ssp2:")


# -- key ring and key file -----------------------------------------------------------------
def test_new_keyrings_are_random() -> None:
    first, second = new_keyring(), new_keyring()

    assert first.aes[1] != second.aes[1]
    assert first.hmac["ssp"][1] != second.hmac["ssp"][1]
    assert all(len(k) == 32 for k in _all_key_bytes(first))


def test_keyring_repr_holds_no_key_bytes(keyring: KeyRing) -> None:
    shown = repr(keyring) + str(keyring) + f"{keyring}"

    for key in _all_key_bytes(keyring):
        assert base64.b64encode(key).decode() not in shown
        assert base64.urlsafe_b64encode(key).decode() not in shown
        assert key.hex() not in shown
        assert key.hex().upper() not in shown
        assert repr(key) not in shown


def test_file_provider_creates_a_0600_key_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "keys.json"

    ring = FileKeyProvider(path, create=True).load()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["format"] == 1
    again = FileKeyProvider(path, create=False).load()
    assert again.aes == ring.aes
    assert again.hmac == ring.hmac
    assert again.ed25519 == ring.ed25519
    assert again.current == ring.current


def test_file_provider_does_not_overwrite_an_existing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    first = FileKeyProvider(path, create=True).load()

    assert FileKeyProvider(path, create=True).load().aes == first.aes


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_file_provider_refuses_a_key_file_others_can_read(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "keys.json"
    ring = FileKeyProvider(path, create=True).load()
    path.chmod(mode)

    with pytest.raises(KeyFileError) as info:
        FileKeyProvider(path, create=True).load()
    for key in _all_key_bytes(ring):
        assert base64.b64encode(key).decode() not in str(info.value)


def test_file_provider_refuses_a_missing_file_when_it_may_not_create(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"

    with pytest.raises(KeyFileError):
        FileKeyProvider(path, create=False).load()
    assert not path.exists()


@pytest.mark.parametrize("content", [
    "", "not json", "{}", '{"format": 2}', '{"format": 1, "aes": {}}',
    '{"format": 1, "hmac": {"ssp": {"1": "AAAA"}}, "aes": {"1": "AAAA"}, '
    '"ed25519": {"1": "AAAA"}, "current": {"aes": 1, "ed25519": 1, "hmac:ssp": 1}}',
])
def test_file_provider_refuses_a_malformed_key_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)

    with pytest.raises(KeyFileError):
        FileKeyProvider(path, create=False).load()


def test_key_file_is_a_config_error() -> None:
    from core.errors import ConfigError

    assert issubclass(KeyFileError, ConfigError)


def test_production_api_and_worker_refuse_to_start_without_a_key_file(tmp_path: Path) -> None:
    from core.errors import KeyFileError
    from core.settings import Settings
    from hub.api import create_api
    from streams.app import create_stream_app

    settings = Settings(mode="production", data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    with pytest.raises(KeyFileError, match="keys init"):
        create_api(settings)
    with pytest.raises(KeyFileError, match="keys init"):
        create_stream_app(settings)
    assert not settings.resolved_key_file.exists()


def test_api_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    from core.errors import KeyFileError
    from core.settings import Settings
    from hub.api import create_api

    settings = Settings(data_dir=tmp_path, bootstrap_servers="127.0.0.1:1")
    FileKeyProvider(settings.resolved_key_file, create=True).load()
    settings.resolved_key_file.chmod(0o640)
    with pytest.raises(KeyFileError, match="chmod 600"):
        create_api(settings)
