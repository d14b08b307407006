"""The security officer's log that explains itself (issue 16): each row's reason, event id,
legal basis and purpose; a detail view of one entry with Danish labels and its inclusion
proof; the filtered log as a CSV file for Danish Excel; Danish labels on the rejections and
policy pages. The browser flow is tests/integration/browser/test_web_officer.py."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from core.ledger import merkle
from core.ledger.auditlog import AuditLog
from hub.web.security import inclusion_status
from hub.web.texts import TEXTS, label, with_code
from tests.unit import test_web
from tests.unit.test_web import Web

web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused


def _rows(html: str) -> int:
    return len(re.findall(r'<tr class="kind-', html))


def _entry(web: Web, kind: str, **wanted: Any) -> dict[str, Any]:
    return next(e for e in web.log_entries(kind) if all(e.get(k) == v for k, v in wanted.items()))


def test_log_rows_show_reason_event_legal_basis_and_purpose_and_link_to_the_entry(
        web: Web) -> None:
    page = web.login("sikkerhed").get("/ui/log", params={"kind": "rejection"}).text
    entry = web.log_entries("rejection")[-1]
    row = page.split(f'<a href="/ui/log/{entry["seq"]}"', 1)[1].split("</tr>", 1)[0]
    assert label(entry["reason_code"], "reason_code") in row
    assert label(entry["legal_basis"], "legal_basis") in row
    assert label(entry["purpose"], "purpose") in row
    assert entry["event_id"][:8] in row
    for header in ("Årsag", "Retsgrundlag og formål", "Hændelse", "Modtager"):
        assert f'<th scope="col">{header}</th>' in page


def test_entry_detail_shows_every_field_in_danish_with_the_code_as_a_hint(web: Web) -> None:
    entry = _entry(web, "disclosure", recipient="infohus")
    page = web.login("sikkerhed").get(f"/ui/log/{entry['seq']}")
    assert page.status_code == 200
    html = page.text
    texts = TEXTS["log_entry"]
    for name in ("principal", "at", "kind", "recipient", "decision", "reason_code",
                 "legal_basis", "purpose", "event_id", "subjects_shown", "leaf_hash", "proof",
                 "fields", "rule_ids"):
        assert f"<dt>{texts[name]}</dt>" in html, name
    title = web.app.state.web.ctx.policy.doc.queues["infohus"]
    assert title in html.split('id="modtager">', 1)[1].split("</dd>", 1)[0]
    assert str(with_code(entry["legal_basis"], "legal_basis")) in html
    why = html.split('id="aarsag">', 1)[1].split("</dd>", 1)[0]
    assert why.startswith(f"{texts['permitted_by']} {label(entry['rule_ids'][0], 'rule')}")
    for rule in entry["rule_ids"]:
        assert str(with_code(rule, "rule")) in html
    for field in entry["fields"]:
        assert str(with_code(field, "field")) in html
    assert f'id="bladhash">{entry["leaf_hash"]}</code>' in html
    assert "Bevist: posten indgår i det signerede kontrolpunkt" in html
    assert web.login("konsulent").get(f"/ui/log/{entry['seq']}").status_code == 403
    missing = web.login("sikkerhed").get("/ui/log/99999999")
    assert missing.status_code == 404


def test_rejection_detail_says_why_in_danish(web: Web) -> None:
    entry = web.log_entries("rejection")[0]
    html = web.login("sikkerhed").get(f"/ui/log/{entry['seq']}").text
    reason = html.split('id="aarsag">', 1)[1].split("</dd>", 1)[0]
    assert reason == str(with_code(entry["reason_code"], "reason_code"))
    assert label(entry["reason_code"], "reason_code") != entry["reason_code"]


def test_inclusion_status_is_proven_pending_or_failed(web: Web) -> None:
    audit = AuditLog(web.store, web.ring)
    keys = web.app.state.web.ctx.public_keys
    cp = audit.latest_checkpoint()
    assert cp is not None
    seq, leaf = audit.entry_rows(0, 0)[0]
    assert inclusion_status(audit, seq, leaf, keys).state == "ok"
    # A leaf that is not the stored one does not prove against the signed root.
    assert inclusion_status(audit, seq, leaf + b" ", keys).state == "failed"
    # Without the signing key the checkpoint is not trusted.
    assert inclusion_status(audit, seq, leaf, {}).state == "bad_signature"
    assert inclusion_status(audit, cp.tree_size + 5, leaf, keys).state == "pending"
    assert merkle.leaf_hash(leaf).hex() == web.log_entries()[0]["leaf_hash"]


def test_csv_export_holds_exactly_the_filtered_rows_of_all_pages(web: Web) -> None:
    client = web.login("sikkerhed")
    params = {"recipient": "Infohus"}
    expected = [e["seq"] for e in reversed(web.log_entries()) if e.get("recipient") == "infohus"]
    assert expected
    page = client.get("/ui/log", params=params).text
    assert 'href="/ui/log.csv?recipient=Infohus"' in page
    resp = client.get("/ui/log.csv", params=params)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.headers["cache-control"] == "no-store"
    assert "attachment;" in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Nr. i loggen", "Hvornår", "Type", "Afgørelse"]
    assert [int(r[0]) for r in body] == expected
    title = web.app.state.web.ctx.policy.doc.queues["infohus"]
    assert {r[header.index("Modtager")] for r in body} == {title}


def test_csv_export_pages_through_more_than_one_batch(web: Web, monkeypatch: Any) -> None:
    from hub.web import security

    monkeypatch.setattr(security, "CSV_BATCH", 7)
    everything = web.log_entries()
    body = web.login("sikkerhed").get("/ui/log.csv").content.decode("utf-8-sig")
    seqs = [int(r[0]) for r in list(csv.reader(io.StringIO(body), delimiter=";"))[1:]]
    assert len(everything) > 7
    assert seqs == sorted((e["seq"] for e in everything), reverse=True)[:len(seqs)]
    assert len(seqs) >= len(everything)  # the log grows as pages are read, never shrinks


def test_a_bad_filter_is_named_in_danish(web: Web) -> None:
    client = web.login("sikkerhed")
    bad = client.get("/ui/log", params={"decision": "måske"})
    assert bad.status_code == 422
    assert "Ugyldigt filter: Afgørelse" in bad.text
    assert client.get("/ui/log.csv", params={"from": "i går"}).status_code == 422


def test_rejections_and_policy_pages_show_danish_labels_with_codes_as_hints(web: Web) -> None:
    client = web.login("sikkerhed")
    page = client.get("/ui/log/afvisninger").text
    for _agency, reason in web.store.log_rejections():
        assert str(with_code(reason, "reason_code")) in page
    policy = client.get("/ui/politik").text
    ctx = web.app.state.web.ctx
    assert ctx.policy.doc.title in policy
    assert f'<small class="kode">{ctx.policy.version}</small>' in policy
    assert "Gældende version" in policy


def test_opening_an_entry_and_the_export_are_logged_as_the_log_page_is(
        web: Web, capfd: Any) -> None:
    """The log page's reads are on record in the access log (who, the route, when; never a
    value): the detail view and the CSV export are too — by route template, so the entry's
    number and the filter values are not in the line."""
    client = web.login("sikkerhed")
    seq = web.log_entries("rejection")[0]["seq"]
    capfd.readouterr()
    for path in ("/ui/log", f"/ui/log/{seq}", "/ui/log.csv?recipient=Infohus"):
        assert client.get(path).status_code == 200
    lines = [line for line in capfd.readouterr().out.splitlines() if "http_request" in line]
    for route in ("/ui/log", "/ui/log/{seq:int}", "/ui/log.csv"):
        assert any(_logged(line, "route", route) and _logged(line, "principal", "sikkerhed")
                   for line in lines), (route, lines)
    assert not any("Infohus" in line for line in lines)


def _logged(line: str, key: str, value: str) -> bool:
    """``key`` has ``value`` in an access-log line, as the console or as JSON renders it."""
    return f"{key}={value}" in line.split() or f'"{key}": "{value}"' in line


def test_labels_of_codes_and_of_a_quarantine_reason_naming_fields() -> None:
    assert label("invalid:subject.cpr:missing,kind:enum", "reason_code") == \
        "Ugyldige felter: CPR-nummer, Type (karantæne)"
    assert label("no_rule_permits", "reason_code") == "Ingen regel tillader videregivelsen"
    assert label("a_code_added_later", "reason_code") == "a_code_added_later"
    assert label(None, "kind") == ""
    assert str(with_code("rpl-115-stk1", "legal_basis")) == \
        'Retsplejelovens § 115, stk. 1 <small class="kode">rpl-115-stk1</small>'
    # A code without a label is shown as a hint alone, escaped like any text.
    assert str(with_code("<b>", "rule")) == '<small class="kode">&lt;b&gt;</small>'


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_inert() -> None:
    from hub.web.security import csv_row

    row = csv_row({"seq": 7, "reason": "=HYPERLINK(\"http://x\")", "unit": "@SUM(A1)",
                   "principal": "-2+3", "recipient": "infohus"}, {"infohus": "Infohus (…)"})
    assert "'=HYPERLINK(\"http://x\")" in row
    assert "'@SUM(A1)" in row
    assert "'-2+3" in row
    assert row[0] == "7"
    assert "Infohus (…)" in row


def test_an_erased_entry_says_so_and_still_proves_against_the_signed_root(web: Web) -> None:
    """Erasing an entry's body (GDPR art. 17) keeps its leaf: the detail view says the content
    is gone and the inclusion proof still holds; a new entry shows as not yet covered."""
    assert web.login("konsulent").get("/ui/indbakke").status_code == 200
    seq = web.log_entries("consultation")[-1]["seq"]
    audit = AuditLog(web.store, web.ring)
    before = web.login("sikkerhed").get(f"/ui/log/{seq}").text
    assert TEXTS["log_entry"]["proof_pending"] in before
    audit.checkpoint(force=True)
    assert audit.erase([seq]).erased == [seq]
    page = web.login("sikkerhed").get(f"/ui/log/{seq}").text
    assert TEXTS["log_entry"]["erased"] in page
    assert "Bevist: posten indgår i det signerede kontrolpunkt" in page
    assert "ui-inbox" not in page  # the body (which view it was) is gone
