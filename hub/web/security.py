"""The security officer's pages: the disclosure log (``/ui/log``; one entry in full with its
inclusion proof at ``/ui/log/{seq}``; the filtered log as CSV at ``/ui/log.csv``), its integrity
(``/ui/log/integritet``), rejected disclosures (``/ui/log/afvisninger``), refused requests
(``/ui/log/afviste-forespoergsler``), subject access (``/ui/indsigt``) and policy versions
(``/ui/politik``, also for admins)."""

from __future__ import annotations

import asyncio
import collections
import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from connectors.watch import drop_status
from core.ledger import merkle
from core.ledger.auditlog import (
    AuditLog,
    FilterError,
    check_filters,
    current_key_id,
    entry_item,
    key_fingerprint,
    verify_checkpoint,
)
from core.ledger.verify import verify_log
from core.store import decode_cursor
from hub.refusals import summarise
from hub.subject_access import (
    DecisionError,
    access_decision_entry,
    answer_subject_access,
    check_decision,
    municipality_of,
    render_document_da,
    store_decision,
    subject_access_entry,
)
from hub.web.pages import (
    LOCAL_TZ,
    SECURITY_HEADERS,
    LogUser,
    PolicyUser,
    WebDep,
    WebState,
    form_of,
    local_time,
    render,
    store_of,
)
from hub.web.texts import TEXTS, label, labels
from schemas.cpr import InvalidCpr
from schemas.disclosures import ERASABLE_FORMAT_VERSION, Decision, EntryKind

router = APIRouter(include_in_schema=False)


def parse_day(name: str, value: str | None) -> dt.datetime | None:
    """A date from a form field (YYYY-MM-DD, local midnight) or an ISO time."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FilterError(name, "not a date") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def recipient_filter(queues: Mapping[str, str], value: str | None) -> str | None:
    """The recipient a person typed, as the log stores it: a queue's id, its Danish title or
    the title's name before the parenthesis, in any case ("Infohus", "INFOHUS", "Infohus
    (ekstremisme, …)"), is that queue's id; anything else (a staff member's name) is kept
    as typed."""
    if value is None:
        return None
    wanted = value.casefold().strip()
    for queue, title in queues.items():
        if wanted in (queue.casefold(), title.casefold(), title.split(" (")[0].casefold()):
            return queue
    return value


LOG_PAGE_SIZE = 100
CSV_BATCH = 500


def log_filters(request: Request, web: WebState) -> tuple[dict[str, str], dict[str, Any]]:
    """The log page's query as typed (``q``) and as :meth:`AuditLog.page_about` takes it.
    Raises :class:`FilterError` naming the filter (never its value)."""
    q = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    kind, decision, pseudonym = q.get("kind"), q.get("decision"), q.get("pseudonym")
    check_filters(kind=kind, decision=decision, pseudonym=pseudonym)
    cursor = q.get("cursor")
    if cursor is not None:
        try:
            decode_cursor(cursor)
        except ValueError as exc:
            raise FilterError("cursor", "not one this page issued") from exc
    return q, {"pseudonym": pseudonym, "agency": q.get("agency"), "kind": kind,
               "decision": decision, "start": parse_day("from", q.get("from")),
               "end": parse_day("to", q.get("to")),
               "recipient": recipient_filter(web.ctx.policy.doc.queues, q.get("recipient"))}


def audit_of(request: Request) -> AuditLog:
    audit: AuditLog = request.app.state.audit
    return audit


@router.get("/ui/log")
async def log_page(request: Request, user: LogUser, web: WebDep) -> Response:
    q = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    error = None
    page = None
    try:
        q, filters = log_filters(request, web)
        page = await asyncio.to_thread(audit_of(request).page_about, filters.pop("pseudonym"),
                                       limit=LOG_PAGE_SIZE, cursor=q.get("cursor"), **filters)
    except FilterError as exc:
        error = TEXTS["log"]["invalid"].format(detail=filter_label(exc.field))
    more = None
    if page is not None and page.next_cursor:
        more = "/ui/log?" + urlencode({**{k: v for k, v in q.items() if k != "cursor"},
                                       "cursor": page.next_cursor})
    export = "/ui/log.csv" + ("?" + urlencode({k: v for k, v in q.items() if k != "cursor"})
                              if any(k != "cursor" for k in q) else "")
    return render(request, "log.html", user, items=page.items if page else [], q=q,
                  error=error, more=more, export=export, kinds=[k.value for k in EntryKind],
                  decisions=[d.value for d in Decision],
                  status_code=422 if error else 200)


def filter_label(name: str) -> str:
    """A filter's name as the page labels it ("Afgørelse", not "decision")."""
    return str(TEXTS["log"].get(name, name))


@router.get("/ui/log.csv")
async def log_csv(request: Request, user: LogUser, web: WebDep) -> Response:
    """Every entry the log page's filters select (all pages, newest first), streamed as CSV
    for Danish Excel: ``;`` separated, UTF-8 with a BOM, Danish headers and labels. Read
    access is logged as the log page's is (the access log: who, route, when)."""
    try:
        _q, filters = log_filters(request, web)
    except FilterError as exc:
        return render(request, "log.html", user, items=[], q={}, more=None, export=None,
                      error=TEXTS["log"]["invalid"].format(detail=filter_label(exc.field)),
                      kinds=[k.value for k in EntryKind],
                      decisions=[d.value for d in Decision], status_code=422)
    rows = log_csv_lines(audit_of(request), filters, web.ctx.policy.doc.queues)
    day = dt.datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
    name = TEXTS["log_entry"]["csv_name"]
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}-{day}.csv"'})


CSV_COLUMNS = ("seq", "at", "kind", "decision", "agency", "unit", "recipient", "pseudonym",
               "event_id", "legal_basis", "purpose", "reason_code", "reason", "principal",
               "role", "fields", "rule_ids", "policy_version", "leaf_hash")


def log_csv_lines(audit: AuditLog, filters: dict[str, Any], queues: Mapping[str, str]
                  ) -> Iterator[str]:
    """The CSV file a batch of rows at a time (the header with a BOM first), paging through
    the whole selection; one chunk per batch, as each chunk is a hop to a worker thread."""
    filters = dict(filters)
    pseudonym = filters.pop("pseudonym")
    yield "\ufeff" + csv_text([[TEXTS["log_entry"][c] for c in CSV_COLUMNS]])
    cursor = None
    while True:
        page = audit.page_about(pseudonym, limit=CSV_BATCH, cursor=cursor, **filters)
        yield csv_text([csv_row(item, queues) for item in page.items])
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def csv_row(item: Mapping[str, Any], queues: Mapping[str, str]) -> list[str]:
    """One entry as the CSV's cells: Danish labels, local times, codes only where there is no
    label (a pseudonym, an event id, a hash)."""
    groups = {"kind": "kind", "decision": "decision", "agency": "agency",
              "legal_basis": "legal_basis", "purpose": "purpose", "reason_code": "reason_code",
              "role": "roles"}
    cells: list[str] = []
    for column in CSV_COLUMNS:
        value = item.get(column)
        if column == "at":
            cells.append(local_time(value))
        elif column == "recipient":
            cells.append(queues.get(value, value or "") if value else "")
        elif column in groups:
            cells.append(label(value, groups[column]))
        elif column in ("fields", "rule_ids"):
            cells.append(labels(value, "field" if column == "fields" else "rule"))
        else:
            cells.append(inert("" if value is None else str(value)))
    return cells


def inert(text: str) -> str:
    """Free text (a staff member's reason, a unit's name) that a spreadsheet would run as a
    formula ("=HYPERLINK(…)") gets a leading apostrophe, so Excel shows it as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/ui/log/{seq:int}")
async def log_entry_page(request: Request, seq: int, user: LogUser, web: WebDep) -> Response:
    """One entry, every field with a Danish label, its leaf hash and whether it is proven to
    be in the latest signed checkpoint. Read access is logged as the log page's is (the
    access log: who, the route, when)."""
    audit = audit_of(request)
    rows = await asyncio.to_thread(audit.entry_rows_with_bodies, seq, seq)
    if not rows:
        raise HTTPException(404, TEXTS["log_entry"]["not_found"])
    _seq, leaf, body = rows[0]
    item = entry_item(leaf, None, body)
    erased = body is None and item.get("v") == ERASABLE_FORMAT_VERSION
    proof = await asyncio.to_thread(inclusion_status, audit, seq, leaf, web.ctx.public_keys)
    return render(request, "log_entry.html", user, e=item, erased=erased, proof=proof,
                  concerns=[shown_concern(c) for c in item.get("concerns") or []],
                  details=detail_rows(item.get("details") or {}, web.ctx.policy.doc.queues),
                  current_policy=web.ctx.policy.version)


DETAIL_CODES = {"view": "log_view", "identity": "identity_state", "flags": "flag",
                "signal_rule": "rule"}


def detail_rows(details: Mapping[str, Any], queues: Mapping[str, str]) -> list[tuple[str, str]]:
    """An entry's details as (key, Danish value): queues by their Danish names, codes by their
    labels, numbers and times as they are."""
    rows = []
    for key, value in details.items():
        values = value if isinstance(value, list) else [value]
        if key in ("queue", "queues"):
            shown = [queues.get(str(v), str(v)) for v in values]
        elif key in DETAIL_CODES:
            shown = [label(v, DETAIL_CODES[key]) for v in values]
        else:
            shown = [str(v) for v in values]
        rows.append((key, ", ".join(shown)))
    return rows


def shown_concern(concern: str) -> tuple[str, str]:
    """A consultation's '<event_id>:<queue>' as (event id, queue)."""
    event_id, _, queue = concern.partition(":")
    return event_id, queue


@dataclass(frozen=True)
class ProofStatus:
    """Whether an entry is proven to be in the latest signed checkpoint: ``ok``, ``pending``
    (no checkpoint covers it yet), ``failed`` or ``bad_signature``."""

    state: str
    size: int = 0
    issued: str = ""


def inclusion_status(audit: AuditLog, seq: int, leaf: bytes,
                     keys: Mapping[str, Ed25519PublicKey]) -> ProofStatus:
    """Check the entry's leaf (hashed here, from its stored bytes) against the newest signed
    checkpoint's root with the log's inclusion proof (RFC 9162 §2.1.3.2)."""
    cp = audit.latest_checkpoint()
    if cp is None or seq >= cp.tree_size:
        return ProofStatus("pending")
    issued = local_time(cp.issued_at)
    if verify_checkpoint(cp, keys) is not None:
        return ProofStatus("bad_signature", cp.tree_size, issued)
    try:
        path = audit.inclusion_proof(seq, cp.tree_size)
        merkle.verify_inclusion(merkle.leaf_hash(leaf), seq, cp.tree_size, path,
                                bytes.fromhex(cp.root_hash))
    except ValueError:  # merkle.ProofError, or a size the log does not have
        return ProofStatus("failed", cp.tree_size, issued)
    return ProofStatus("ok", cp.tree_size, issued)


@router.get("/ui/log/integritet")
async def integrity_page(request: Request, user: LogUser, web: WebDep) -> Response:
    keys = web.ctx.public_keys
    # A full pass unless asked for the quick one (?trinvis=1: only the entries appended
    # since the last verified checkpoint; the page says which one ran).
    full = request.query_params.get("trinvis") != "1"
    report = await asyncio.to_thread(verify_log, store_of(request), keys, web.ctx.ring,
                                     full=full)
    kid = current_key_id(web.ctx.ring)
    return render(request, "integrity.html", user, report=report,
                  checkpoint=report.latest_checkpoint, key_id=kid,
                  fingerprint=key_fingerprint(keys[kid]))


@router.get("/ui/log/afvisninger")
async def rejections_page(request: Request, user: LogUser, web: WebDep) -> Response:
    rows = await asyncio.to_thread(store_of(request).log_rejections)
    by_reason = collections.Counter(reason or "-" for _, reason in rows).most_common()
    by_agency = collections.Counter(agency or "-" for agency, _ in rows).most_common()
    drops = await asyncio.to_thread(drop_status, web.ctx.settings.resolved_watch_state_dir)
    return render(request, "rejections.html", user, by_reason=by_reason,
                  by_agency=by_agency, total=len(rows), drops=drops)


@router.get("/ui/log/afviste-forespoergsler")
async def refusals_page(request: Request, user: LogUser) -> Response:
    """Refused requests (hub.refusals): the last hour per sender, and the latest rows."""
    q = {k: v.strip() for k, v in request.query_params.items()
         if k in ("principal", "reason", "cursor") and v.strip()}
    error = None
    items: list[dict[str, Any]] = []
    more = None
    store = store_of(request)
    cursor = q.get("cursor")
    try:
        if cursor is not None:
            decode_cursor(cursor)
        page = await asyncio.to_thread(store.refusals_page, principal=q.get("principal"),
                                       reason=q.get("reason"), limit=100, cursor=cursor)
        items = page.items
        if page.next_cursor:
            more = "/ui/log/afviste-forespoergsler?" + urlencode(
                {**{k: v for k, v in q.items() if k != "cursor"},
                 "cursor": page.next_cursor})
    except ValueError:
        error = TEXTS["refusals"]["invalid"].format(detail="cursor")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    summary = summarise(await asyncio.to_thread(store.refusal_times, since))[:20]
    return render(request, "refusals.html", user, items=items, summary=summary, q=q,
                  reasons=sorted(TEXTS["refusal_reason"]), error=error, more=more,
                  status_code=422 if error else 200)


@router.get("/ui/politik")
async def policy_page(request: Request, user: PolicyUser, web: WebDep) -> Response:
    rows = await asyncio.to_thread(store_of(request).policy_decisions)
    policy = web.ctx.policy
    return render(request, "policy.html", user, rows=rows, current=policy.version,
                  title=policy.doc.title)


@router.get("/ui/indsigt")
async def access_form(request: Request, user: LogUser) -> Response:
    return render(request, "access.html", user, answer=None)


@router.post("/ui/indsigt")
async def access(request: Request, user: LogUser, web: WebDep) -> Response:
    ctx = web.ctx
    form = await form_of(request, user)
    cpr = form.get("cpr", "")[:20]
    include_staff = form.get("include_staff") == "1"
    try:
        answer = await asyncio.to_thread(answer_subject_access, store_of(request), ctx.ring,
                                         ctx.policy, cpr, include_staff=include_staff)
    except InvalidCpr:
        return render(request, "access.html", user, answer=None, status_code=422,
                      error=TEXTS["access"]["invalid_cpr"], include_staff=include_staff)
    await ctx.record(request, [subject_access_entry(answer, user.name, user.role, ctx.policy)])
    document = render_document_da(answer, municipality_title=municipality_of(ctx.policy),
                                  dpo_contact=ctx.settings.dpo_contact)
    if form.get("action") == "hent":
        day = answer.generated_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")
        return Response(document, media_type="text/html; charset=utf-8", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="indsigt-{day}.html"'})
    return render(request, "access.html", user, answer=answer, cpr=cpr,
                  include_staff=include_staff)


@router.post("/ui/indsigt/afgoerelse")
async def access_decision(request: Request, user: LogUser, web: WebDep) -> Response:
    """Withhold an entry from the citizen's copy, or release it to a related person."""
    form = await form_of(request, user)
    cpr = form.get("cpr", "")[:20]
    decision, reason = form.get("decision", ""), form.get("reason", "")[:2000]
    store = store_of(request)
    texts = TEXTS["access"]
    try:
        seq = int(form.get("seq", ""))
        await asyncio.to_thread(check_decision, store, seq, decision, reason)
    except (ValueError, DecisionError) as exc:
        field = exc.field if isinstance(exc, DecisionError) else "seq"
        return render(request, "access.html", user, answer=None, cpr=cpr, status_code=422,
                      error=texts["decision_invalid"][field])
    entry = access_decision_entry(seq, decision, reason, user.name, user.role, web.ctx.policy)
    await web.ctx.record(request, [entry])
    await asyncio.to_thread(store_decision, store, entry)
    return render(request, "access.html", user, answer=None, cpr=cpr,
                  notice=texts["decision_saved"][decision].format(seq=seq))
