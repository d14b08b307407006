"""The re-identification vault (issue 3 §3): envelope encryption, one data key per person,
entries bound to their pseudonym, nothing readable in the database file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.errors import CryptoError
from core.privacy.crypto import PayloadCipher, Pseudonymiser
from core.privacy.keys import KeyRing, new_keyring
from core.privacy.vault import EntryErased, Identity, Vault, VaultCipher
from core.store import Store, VaultRow, vault
from streams.pipeline import Pipeline, Routed
from tests.unit.factories import (
    GUARDIAN_CPR,
    GUARDIAN_NAME,
    SUBJECT_CPR,
    SUBJECT_NAME,
    make_event,
    record_for,
)


@pytest.fixture
def the_vault(store: Store, keyring: KeyRing) -> Vault:
    return Vault(store, keyring)


def _identities(pseudonymiser: Pseudonymiser) -> tuple[Identity, Identity]:
    return (Identity(pseudonymiser(SUBJECT_CPR), SUBJECT_CPR, SUBJECT_NAME),
            Identity(pseudonymiser(GUARDIAN_CPR), GUARDIAN_CPR, GUARDIAN_NAME))


def test_identity_round_trips_through_the_vault(the_vault: Vault,
                                                pseudonymiser: Pseudonymiser) -> None:
    subject, guardian = _identities(pseudonymiser)

    assert the_vault.put([subject, guardian]) == 2

    assert the_vault.identity(subject.pseudonym) == Identity(
        subject.pseudonym, SUBJECT_CPR, SUBJECT_NAME)
    assert the_vault.identity(guardian.pseudonym) == Identity(
        guardian.pseudonym, GUARDIAN_CPR, GUARDIAN_NAME)


def test_identity_without_a_name_round_trips(the_vault: Vault,
                                             pseudonymiser: Pseudonymiser) -> None:
    ident = Identity(pseudonymiser(GUARDIAN_CPR), GUARDIAN_CPR, None)
    the_vault.put([ident])

    found = the_vault.identity(ident.pseudonym)

    assert found is not None
    assert (found.cpr, found.name) == (GUARDIAN_CPR, None)


def test_unknown_pseudonym_has_no_identity(the_vault: Vault) -> None:
    assert the_vault.identity("ssp1:" + "0" * 64) is None


def test_put_is_idempotent_and_leaves_an_existing_entry_alone(
        the_vault: Vault, store: Store, pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject, subject])
    first = store.vault_entry(subject.pseudonym)

    assert the_vault.put([subject]) == 0
    assert the_vault.put([Identity(subject.pseudonym, GUARDIAN_CPR, "Someone Else")]) == 0

    assert store.vault_entry(subject.pseudonym) == first
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(vault)).scalar() == 1


def test_every_entry_has_its_own_data_key(the_vault: Vault, store: Store,
                                          pseudonymiser: Pseudonymiser) -> None:
    subject, guardian = _identities(pseudonymiser)
    the_vault.put([subject, guardian])
    a, b = store.vault_entry(subject.pseudonym), store.vault_entry(guardian.pseudonym)
    assert a is not None
    assert b is not None

    assert a.wrapped_dek != b.wrapped_dek
    # The subject's wrapped DEK opens nothing but the subject's entry.
    with pytest.raises(CryptoError):
        the_vault.cipher.open(dataclasses.replace(b, wrapped_dek=a.wrapped_dek))


def test_erasing_one_wrapped_data_key_erases_only_that_person(
        the_vault: Vault, store: Store, pseudonymiser: Pseudonymiser) -> None:
    subject, guardian = _identities(pseudonymiser)
    the_vault.put([subject, guardian])

    assert store.erase_vault_entry(subject.pseudonym) is True

    with pytest.raises(EntryErased):
        the_vault.identity(subject.pseudonym)
    erased = store.vault_entry(subject.pseudonym)
    assert erased is not None
    assert erased.wrapped_dek is None
    with pytest.raises(CryptoError):  # and no key in the ring opens the ciphertext
        the_vault.cipher.open(dataclasses.replace(erased, wrapped_dek=b"\x00" * 60))
    found = the_vault.identity(guardian.pseudonym)
    assert found is not None
    assert found.cpr == GUARDIAN_CPR
    assert store.erase_vault_entry(subject.pseudonym) is False  # nothing left to destroy


def test_an_erased_person_is_not_written_back_by_a_replayed_batch(
        the_vault: Vault, store: Store, pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    the_vault.erase(subject.pseudonym)

    the_vault.put([subject])

    with pytest.raises(EntryErased):
        the_vault.identity(subject.pseudonym)


def test_entry_is_bound_to_its_pseudonym(the_vault: Vault, store: Store,
                                         pseudonymiser: Pseudonymiser) -> None:
    subject, guardian = _identities(pseudonymiser)
    the_vault.put([subject])
    row = store.vault_entry(subject.pseudonym)
    assert row is not None

    # The whole entry copied under another pseudonym does not open there.
    store.put_vault_entries([dataclasses.replace(row, pseudonym=guardian.pseudonym)])

    with pytest.raises(CryptoError):
        the_vault.cipher.open(dataclasses.replace(row, pseudonym=guardian.pseudonym))
    assert the_vault.identity(guardian.pseudonym) is None


@pytest.mark.parametrize("field", ["wrapped_dek", "ciphertext"])
def test_every_tampered_byte_fails_authentication(the_vault: Vault, store: Store,
                                                  pseudonymiser: Pseudonymiser,
                                                  field: str) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    row = store.vault_entry(subject.pseudonym)
    assert row is not None
    blob: bytes = getattr(row, field)

    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        broken = (dataclasses.replace(row, wrapped_dek=bytes(tampered))
                  if field == "wrapped_dek"
                  else dataclasses.replace(row, ciphertext=bytes(tampered)))
        with pytest.raises(CryptoError):
            the_vault.cipher.open(broken)


def test_another_key_ring_cannot_open_the_vault(the_vault: Vault, store: Store,
                                                pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    row = store.vault_entry(subject.pseudonym)
    assert row is not None

    with pytest.raises(CryptoError):
        VaultCipher(new_keyring()).open(row)


def test_entry_records_the_wrapping_key_version(keyring: KeyRing, the_vault: Vault,
                                                store: Store,
                                                pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])

    row = store.vault_entry(subject.pseudonym)

    assert row is not None
    assert row.key_version == keyring.current["aes"]


def test_sealed_entries_do_not_reveal_the_length_of_the_name(keyring: KeyRing) -> None:
    cipher = VaultCipher(keyring)

    short = cipher.seal("ssp1:" + "a" * 64, SUBJECT_CPR, "Bo Ib")
    longer = cipher.seal("ssp1:" + "a" * 64, SUBJECT_CPR, "Bo Ibsen")

    assert len(short.ciphertext) == len(longer.ciphertext)


def test_no_cpr_or_name_in_the_database_file_bytes(the_vault: Vault, store: Store,
                                                   db_path: Path,
                                                   pseudonymiser: Pseudonymiser) -> None:
    subject, guardian = _identities(pseudonymiser)
    the_vault.put([subject, guardian])
    store.close()  # checkpoint the WAL into the main file too

    files = list(db_path.parent.glob("hub.db*"))
    blob = b"".join(f.read_bytes() for f in files)

    assert subject.pseudonym.encode() in blob  # we looked in the right place
    for secret in (SUBJECT_CPR, GUARDIAN_CPR, f"{SUBJECT_CPR[:6]}-{SUBJECT_CPR[6:]}",
                   SUBJECT_NAME, GUARDIAN_NAME, *SUBJECT_NAME.split(), *GUARDIAN_NAME.split()):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in blob, "plaintext identity in the database"


def test_identity_repr_and_vault_row_hold_no_plaintext(the_vault: Vault, store: Store,
                                                       pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    found = the_vault.identity(subject.pseudonym)
    row = store.vault_entry(subject.pseudonym)

    shown = repr(found) + str(found) + repr(row)

    assert SUBJECT_CPR not in shown
    assert SUBJECT_NAME not in shown


def test_crypto_errors_say_nothing_about_the_identity(the_vault: Vault, store: Store,
                                                      pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    row = store.vault_entry(subject.pseudonym)
    assert row is not None

    with pytest.raises(CryptoError) as info:
        VaultCipher(new_keyring()).open(row)

    assert SUBJECT_CPR not in str(info.value)
    assert SUBJECT_NAME not in str(info.value)


def test_vault_row_for_an_unknown_key_version_is_a_crypto_error(
        the_vault: Vault, store: Store, pseudonymiser: Pseudonymiser) -> None:
    subject, _ = _identities(pseudonymiser)
    the_vault.put([subject])
    row = store.vault_entry(subject.pseudonym)
    assert row is not None

    with pytest.raises(CryptoError, match="restart"):
        the_vault.cipher.open(VaultRow(row.pseudonym, 99, row.wrapped_dek, row.ciphertext))


def test_routed_pipeline_identities_go_into_the_vault(pipeline: Pipeline, the_vault: Vault,
                                                      cipher: PayloadCipher) -> None:
    result = pipeline.process(record_for(cipher, make_event("school")))
    assert isinstance(result, Routed)

    assert the_vault.put(result.identities) == len(result.identities) >= 2

    for ident in result.identities:
        found = the_vault.identity(ident.pseudonym)
        assert found is not None
        assert (found.cpr, found.name) == (ident.cpr, ident.name)
