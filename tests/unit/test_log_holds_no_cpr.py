"""The disclosure log never holds a CPR number, in any writing (issue 13 §9), and no log line
does either, whoever writes it (issue 13 §11: library logs through the redaction step)."""

from __future__ import annotations

import datetime as dt
import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.ledger.auditlog import AuditLog, public_keys, verify_store
from core.ledger.entries import random_entry_id
from core.logs import configure
from core.privacy.keys import KeyRing
from core.store import Store
from hub.audit_export import canonical_json, export_log, verify_export
from schemas.cpr import contains_cpr_like, mask_cpr_like
from schemas.disclosures import STORED, EntryKind, LogEntry

AT = dt.datetime(2026, 3, 2, 13, 5, tzinfo=dt.UTC)
WRITINGS = ["0102104321", "010210-4321", "15.06.11-4123", "15 06 11 41 23", "150611/4123",
            "150611\u200b4123", "15\u200b06\u200b11\u200b41\u200b23", "150611\u20114123",
            "150611 \u2060-4123", "15.06.11.4123"]


@pytest.mark.parametrize("writing", WRITINGS)
def test_every_writing_of_a_cpr_number_is_found_and_masked(writing: str) -> None:
    text = f"Samtale med far ({writing}) i dag."

    assert contains_cpr_like(text)
    masked = mask_cpr_like(text)
    assert "4123" not in masked
    assert "4321" not in masked


@pytest.mark.parametrize("text", [
    "2026-03-02T14:05:00.000000Z", "tre bekymringer på 14 dage", "telefon 55 36 36 36",
    "sag 2026/0042", "1234567890",  # no date in the first six digits
    "7b0e2f0c-5a3e-4c1b-9d2f-3e8a1b2c4d5e"])
def test_times_ids_and_short_numbers_are_not_cpr_numbers(text: str) -> None:
    assert not contains_cpr_like(text)


@pytest.mark.parametrize("writing", WRITINGS)
@pytest.mark.parametrize("field", ["necessity", "reason", "unit"])
def test_a_log_entry_refuses_a_cpr_number_in_any_writing(field: str, writing: str) -> None:
    with pytest.raises(ValidationError) as info:
        LogEntry(entry_id=random_entry_id(), kind=EntryKind.disclosure, at=AT,
                 **{field: f"Far har nr. {writing} og ringede."})

    assert "4123" not in str(info.value)  # the error never echoes the number


def test_a_log_entry_refuses_a_cpr_number_in_its_details() -> None:
    with pytest.raises(ValidationError):
        LogEntry(entry_id=random_entry_id(), kind=EntryKind.disclosure, at=AT,
                 details={"queues": ["infohus", "15.06.11-4123"]})


def _old_entry_with_a_cpr() -> LogEntry:
    """An entry from before the wider check: it reached the log (as in the outside test)."""
    return LogEntry.model_validate({
        "entry_id": random_entry_id(), "kind": "disclosure", "at": AT, "agency": "school",
        "necessity": "Far (15.06.11-4123) er bekymret.", "pseudonym": "ssp1:" + "a" * 32},
        context=STORED)


def test_hashes_and_ids_in_an_entry_are_not_taken_for_cpr_numbers() -> None:
    from schemas.disclosures import cpr_like_fields

    doc = {"policy_version": "sha256:ab0102104321cd" + "e" * 50,
           "details": {"digest": "ff0102104321" + "a" * 20, "ids": ["7b0e2f0c-0102104321-x"]},
           "necessity": "Far har nr. 0102104321."}

    assert cpr_like_fields(doc) == ["details", "necessity"]  # the UUID-ish text still counts


def test_audit_verify_fails_on_a_cpr_number_naming_the_entry_not_the_number(
        store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring)
    log.integrate([LogEntry(entry_id=random_entry_id(), kind=EntryKind.disclosure, at=AT)])
    log.integrate([_old_entry_with_a_cpr()])
    log.checkpoint(force=True)

    report = verify_store(store, public_keys(keyring))

    assert not report.ok
    assert [(p.where, p.what) for p in report.problems] == [("entry 1", "personal_data")]
    assert "necessity" in report.problems[0].message
    assert "4123" not in report.summary()


def test_an_export_with_a_cpr_number_does_not_verify(store: Store, keyring: KeyRing) -> None:
    log = AuditLog(store, keyring)
    log.integrate([_old_entry_with_a_cpr()])

    report = verify_export(canonical_json(export_log(log, keyring)))

    assert [(p.where, p.what) for p in report.problems] == [("entry 0", "personal_data")]
    assert "4123" not in report.summary()


# -- logs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("library", ["aiokafka", "faust", "sqlalchemy.engine", "uvicorn.error"])
def test_library_log_records_pass_through_the_redaction(
        library: str, caplog: pytest.LogCaptureFixture) -> None:
    configure("info")
    caplog.set_level(logging.INFO)

    logging.getLogger(library).warning("request for %s failed: %r", "15.06.11-4123",
                                       {"cpr": "0102104321"})
    try:
        raise ValueError("bad subject 150611/4123")
    except ValueError:
        logging.getLogger(library).exception("crash in 15 06 11 41 23")

    text = "\n".join(caplog.text.splitlines() + [r.getMessage() for r in caplog.records])
    assert "[cpr]" in text
    for digits in ("4123", "4321"):
        assert digits not in text


def test_uvicorn_access_lines_still_render_with_the_path_masked() -> None:
    from uvicorn.logging import AccessFormatter

    configure("info")
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/x?cpr=0102104321", "1.1", 200), None)

    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                           use_colors=False).format(record)

    assert line == '127.0.0.1:5000 - "GET /api/v1/x?cpr=[cpr] HTTP/1.1" 200 OK'


# -- files -------------------------------------------------------------------------------------
def test_the_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        store.ping()
    finally:
        store.close()

    for f in tmp_path.glob("hub.db*"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    Store.open(f"sqlite:///{path}").close()
    path.chmod(0o644)

    Store.open(f"sqlite:///{path}").close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
