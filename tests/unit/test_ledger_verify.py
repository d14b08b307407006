"""Verification of the live log at scale (core.ledger.auditlog.verify_store streaming in
chunks; core.ledger.verify's incremental pass from the last verified checkpoint)."""

from __future__ import annotations

import pytest

from core.ledger.auditlog import public_keys, verify_store
from core.privacy.keys import KeyRing
from core.store import Store
from tests.unit.test_auditlog import TAMPERING, make_log, run_sql

pytestmark = pytest.mark.timeout(300)



@pytest.mark.parametrize("name", ["untouched", *TAMPERING])
def test_a_full_pass_in_small_chunks_reports_exactly_what_one_chunk_does(
        store: Store, keyring: KeyRing, name: str) -> None:
    make_log(store, keyring, count=20, every=5)
    if name != "untouched":
        TAMPERING[name][0](store)
    run_sql(store, "INSERT INTO disclosure_log_subjects (pseudonym, seq) VALUES ('ssp1:x', 9)")
    keys = public_keys(keyring)

    whole = verify_store(store, keys).as_dict()
    for chunk in (1, 3, 7):
        assert verify_store(store, keys, chunk=chunk).as_dict() == whole
