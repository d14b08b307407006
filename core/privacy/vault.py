"""The re-identification vault: pseudonym → identity (CPR, name), envelope-encrypted.

Each entry is sealed with AES-256-GCM under its own random 256-bit data key (DEK); the DEK is
stored wrapped (AES-256-GCM) under the key ring's current AES key, whose version is recorded.
Destroying one wrapped DEK erases one person; nothing else changes. Both ciphertexts carry
associated data naming the pseudonym, so an entry moved to another pseudonym (or a wrapped DEK
moved to another entry) fails authentication.

Entries live in the queryable store (:mod:`core.store`), never on a topic. Rotation
(:func:`rekey`) walks the vault after ``ssp-hub keys rotate``: each identity gets its
pseudonym under the new key version, a vault entry under it, and alias links both ways, so
the joint view joins concerns from before and after the rotation.

Nothing here logs or raises with a CPR or a name in it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import CryptoError
from core.privacy.crypto import NONCE_BYTES, Pseudonymiser, pseudonym_domain_version
from core.privacy.keys import KEY_BYTES, KeyRing
from core.store import Store, VaultRow

AAD_ENTRY = b"ssp-hub/vault/v1/entry|"
AAD_DEK = b"ssp-hub/vault/v1/dek|"
PAD_TO = 64  # plaintext padded to a multiple of this: the length says little about the name


@dataclass(frozen=True)
class Identity:
    """Who a pseudonym stands for: for the vault only, never for a topic or a log.

    The pipeline hands these over for every routed event; the vault gives them back."""

    pseudonym: str
    cpr: str
    name: str | None

    def __repr__(self) -> str:  # a stray log line must not print the CPR or the name
        return f"Identity(pseudonym={self.pseudonym!r})"


class EntryErased(CryptoError):
    """The entry's data key was destroyed: the identity is gone for good."""


class VaultCipher:
    """Seals and opens vault entries. Key-encryption ciphers are built once per process."""

    def __init__(self, ring: KeyRing) -> None:
        self.version, _ = ring.current_aes()
        self._keks = {version: AESGCM(key) for version, key in ring.aes.items()}

    def seal(self, pseudonym: str, cpr: str, name: str | None) -> VaultRow:
        random = os.urandom(KEY_BYTES + 2 * NONCE_BYTES)  # one system call per entry
        dek = random[:KEY_BYTES]
        nonce = random[KEY_BYTES:KEY_BYTES + NONCE_BYTES]
        wrap_nonce = random[KEY_BYTES + NONCE_BYTES:]
        plain = json.dumps({"cpr": cpr, "name": name}, ensure_ascii=False).encode("utf-8")
        plain += b" " * (-len(plain) % PAD_TO)
        ciphertext = nonce + AESGCM(dek).encrypt(nonce, plain, _aad(AAD_ENTRY, pseudonym))
        wrapped = wrap_nonce + self._keks[self.version].encrypt(
            wrap_nonce, dek, _aad(AAD_DEK, pseudonym))
        return VaultRow(pseudonym, self.version, wrapped, ciphertext)

    def open(self, row: VaultRow) -> Identity:
        if row.wrapped_dek is None:
            raise EntryErased("this vault entry has been erased")
        kek = self._keks.get(row.key_version)
        if kek is None:
            raise CryptoError("vault entry is wrapped under a key version this process lacks; "
                              "restart it after a key rotation")
        try:
            dek = kek.decrypt(row.wrapped_dek[:NONCE_BYTES], row.wrapped_dek[NONCE_BYTES:],
                              _aad(AAD_DEK, row.pseudonym))
            plain = AESGCM(dek).decrypt(row.ciphertext[:NONCE_BYTES],
                                        row.ciphertext[NONCE_BYTES:],
                                        _aad(AAD_ENTRY, row.pseudonym))
            doc = json.loads(plain)
            return Identity(row.pseudonym, str(doc["cpr"]),
                                 None if doc["name"] is None else str(doc["name"]))
        except (InvalidTag, ValueError, KeyError, TypeError) as exc:
            raise CryptoError("vault entry failed authentication") from exc


def _aad(prefix: bytes, pseudonym: str) -> bytes:
    return prefix + pseudonym.encode("utf-8")


class Vault:
    """The vault over a store, with the process's key ring."""

    def __init__(self, store: Store, ring: KeyRing) -> None:
        self.store = store
        self.cipher = VaultCipher(ring)
        # Older pseudonym keys per domain: a person first seen under the current key is
        # linked to any entry they already have under an older one.
        self._older: dict[str, list[Pseudonymiser]] = {
            domain: [Pseudonymiser(ring, domain, v) for v in sorted(versions)
                     if v != ring.current[f"hmac:{domain}"]]
            for domain, versions in ring.hmac.items()
        }

    def put(self, identities: Iterable[Identity]) -> int:
        """Seal and store every identity whose pseudonym has no entry yet. Idempotent.
        Returns how many entries were written."""
        todo: dict[str, Identity] = {}
        for ident in identities:
            todo.setdefault(ident.pseudonym, ident)
        if not todo:
            return 0
        missing = set(todo) - self.store.vault_present(todo)
        if not missing:
            return 0
        rows = [self.cipher.seal(p, todo[p].cpr, todo[p].name) for p in sorted(missing)]
        candidates: list[tuple[str, str]] = []
        for p in missing:
            parsed = pseudonym_domain_version(p)
            for older in self._older.get(parsed[0], []) if parsed else []:
                candidates.append((p, older(todo[p].cpr)))
        links: list[tuple[str, str]] = []
        if candidates:
            known = self.store.vault_present(old for _, old in candidates)
            links = [(p, old) for p, old in candidates if old in known]
        self.store.put_vault_entries(rows, links)
        return len(rows)

    def identity(self, pseudonym: str) -> Identity | None:
        """The identity behind ``pseudonym`` (or, if it has no entry of its own, behind one of
        its aliases). None if there is none; :class:`EntryErased` if it was erased."""
        erased = False
        for name in [pseudonym, *sorted(self.store.aliases(pseudonym) - {pseudonym})]:
            row = self.store.vault_entry(name)
            if row is None:
                continue
            try:
                found = self.cipher.open(row)
            except EntryErased:
                erased = True
                continue
            except CryptoError:
                continue  # e.g. sealed under a newer key than this process has; try an alias
            return Identity(pseudonym, found.cpr, found.name)
        if erased:
            raise EntryErased("this vault entry has been erased")
        return None

    def erase(self, pseudonym: str) -> int:
        """Erase a person: destroy the data key of the entry and of every alias's entry."""
        return sum(self.store.erase_vault_entry(p) for p in self.store.aliases(pseudonym))


@dataclass(frozen=True)
class RekeyReport:
    entries: int  # entries under an older key version, examined
    new_entries: int
    links: int
    skipped: int  # erased, undecryptable, or in a domain the ring no longer holds


def rekey(store: Store, ring: KeyRing, *, page: int = 500) -> RekeyReport:
    """After a rotation: give every vault identity its pseudonym under the current key of its
    domain, an entry under that pseudonym, and alias links both ways. Idempotent."""
    cipher = VaultCipher(ring)
    current = {domain: Pseudonymiser(ring, domain) for domain in ring.hmac}
    entries = new_entries = links = skipped = 0
    after: str | None = None
    while True:
        rows = store.vault_entries(after=after, limit=page)
        if not rows:
            break
        after = rows[-1].pseudonym
        sealed: list[VaultRow] = []
        pairs: list[tuple[str, str]] = []
        for row in rows:
            parsed = pseudonym_domain_version(row.pseudonym)
            pseudonymise = current.get(parsed[0]) if parsed else None
            if pseudonymise is not None and parsed and parsed[1] == pseudonymise.version:
                continue  # already under the current key (written by this or a new worker)
            entries += 1
            try:
                if pseudonymise is None:
                    raise CryptoError("no current key for this pseudonym's domain")
                ident = cipher.open(row)
            except CryptoError:
                skipped += 1
                continue
            new = pseudonymise(ident.cpr)
            sealed.append(cipher.seal(new, ident.cpr, ident.name))
            pairs.append((row.pseudonym, new))
        fresh = {r.pseudonym for r in sealed}
        new_entries += len(fresh - store.vault_present(fresh))
        links += len(pairs)
        store.put_vault_entries(sealed, pairs)
    return RekeyReport(entries, new_entries, links, skipped)
