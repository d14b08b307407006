"""The security officer's pages: the disclosure log (``/ui/log``), its integrity
(``/ui/log/integritet``), rejected disclosures (``/ui/log/afvisninger``), refused requests
(``/ui/log/afviste-forespoergsler``), subject access (``/ui/indsigt``) and policy versions
(``/ui/politik``, also for admins)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.watch import drop_status
from core.ledger.auditlog import (
    AuditLog,
    FilterError,
    check_filters,
    current_key_id,
    key_fingerprint,
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
    form_of,
    render,
    store_of,
)
from hub.web.texts import TEXTS
from schemas.cpr import InvalidCpr
from schemas.disclosures import Decision, EntryKind

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


@router.get("/ui/log")
async def log_page(request: Request, user: LogUser, web: WebDep) -> Response:
    q = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    error = None
    page = None
    try:
        kind, decision, pseudonym = q.get("kind"), q.get("decision"), q.get("pseudonym")
        check_filters(kind=kind, decision=decision, pseudonym=pseudonym)
        start = parse_day("from", q.get("from"))
        end = parse_day("to", q.get("to"))
        cursor = q.get("cursor")
        if cursor is not None:
            try:
                decode_cursor(cursor)
            except ValueError as exc:
                raise FilterError("cursor", "not one this page issued") from exc
        audit: AuditLog = request.app.state.audit
        recipient = recipient_filter(web.ctx.policy.doc.queues, q.get("recipient"))
        page = await asyncio.to_thread(
            audit.page_about, pseudonym, agency=q.get("agency"), recipient=recipient,
            kind=kind, decision=decision, start=start, end=end, limit=100, cursor=cursor)
    except FilterError as exc:
        error = TEXTS["log"]["invalid"].format(detail=exc.field)
    more = None
    if page is not None and page.next_cursor:
        more = "/ui/log?" + urlencode({**{k: v for k, v in q.items() if k != "cursor"},
                                       "cursor": page.next_cursor})
    return render(request, "log.html", user, items=page.items if page else [], q=q,
                  error=error, more=more, kinds=[k.value for k in EntryKind],
                  decisions=[d.value for d in Decision],
                  status_code=422 if error else 200)


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
    return render(request, "policy.html", user, rows=rows, current=web.ctx.policy.version)


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
