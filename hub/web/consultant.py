"""The SSP consultant's pages: the inbox (``/ui/indbakke``), a concern with its case status
(``/ui/bekymringer/{queue}/{event_id}``), and the joint view of one young person with
re-identification (``/ui/personer/{pseudonym}``). Every page that shows a concern writes
consultation entries to the disclosure log *before* it is answered."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.exc import SQLAlchemyError

from core.logs import get_logger
from core.privacy.crypto import PSEUDONYM_PATTERN
from core.store import Store
from core.store.repositories.inbox import InboxPage, InboxSearch
from hub.auth import readable_queues
from hub.reidentification import decide
from hub.web.four_eyes import joint_view
from hub.web.pages import (
    ConsultantUser,
    WebContext,
    form_of,
    render,
    see_other,
    store_of,
    web_state,
)
from hub.web.sessions import WebUser, csrf_ok
from hub.web.texts import TEXTS, found_da

log = get_logger("hub.web")
router = APIRouter(include_in_schema=False)
STATUSES = ("ny", "under_behandling", "afsluttet")
NOTE_MAX = 500


def _ctx(request: Request) -> WebContext:
    return web_state(request).ctx


PER_PAGE = 50
# A search that may be (part of) an event id: hex digits and dashes, but never a CPR number.
_ID_FRAGMENT = re.compile(r"[0-9a-f-]{4,36}")
_CPR_LIKE = re.compile(r"\d{6}-?\d{4}")


def inbox_search(text: str, queue_titles: Mapping[str, str]) -> InboxSearch | None:
    """What the inbox's search field asks for: the codes whose Danish label (or code) holds
    ``text``, and ``text`` as part of an event id. An empty text: every concern; a text that
    matches nothing the inbox shows: None (nothing is searched, and the text is not kept)."""
    wanted = " ".join(text.split()).casefold()
    if not wanted:
        return InboxSearch()

    def codes(labels: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(code for code, label in labels.items()
                     if wanted in str(label).casefold() or wanted == code.casefold())
    event_id = wanted if _ID_FRAGMENT.fullmatch(wanted) and not _CPR_LIKE.search(wanted) \
        else None
    found = InboxSearch(event_id=event_id, categories=codes(TEXTS["category"]),
                        agencies=codes(TEXTS["agency"]), areas=codes(TEXTS["area"]),
                        queues=codes(queue_titles), statuses=codes(TEXTS["status"]))
    return None if found.empty else found


def inbox_url(*, koe: str | None = None, status: str | None = None, q: str | None = None,
              side: int = 1) -> str:
    """The inbox with these filters; only the ones set are in the address."""
    query = {k: v for k, v in (("koe", koe), ("status", status), ("q", q),
                               ("side", str(side) if side > 1 else None)) if v}
    return "/ui/indbakke" + (f"?{urlencode(query)}" if query else "")


@router.get("/ui/indbakke")
async def inbox(request: Request, user: ConsultantUser, koe: str | None = None,
                status: str | None = None, q: Annotated[str, Query(max_length=100)] = "",
                side: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    ctx = _ctx(request)
    mine = readable_queues(user.principal, ctx.policy.queues)
    koe = koe if koe in mine else None
    queues = [koe] if koe else list(mine)
    wanted = status if status in STATUSES else None
    search = inbox_search(q, {x: ctx.policy.doc.queues[x] for x in mine})
    shown_q = " ".join(q.split()) if search is not None else ""
    page = await asyncio.to_thread(
        store_of(request).inbox_search_page, queues=queues, status=wanted,
        search=search or InboxSearch(), page=side, per_page=PER_PAGE)
    if search is None:  # nothing the inbox shows matches: no rows, nothing logged
        page = InboxPage(items=[], page=1, pages=1, matching=0, total=0)
    await ctx.record(request, ctx.consultations(user.principal, page.items, "ui-inbox"))

    def link(number: int) -> str | None:
        if not 1 <= number <= page.pages or number == page.page:
            return None
        return inbox_url(koe=koe, status=wanted, q=shown_q or None, side=number)
    return render(request, "inbox.html", user, items=page.items, queues=mine, koe=koe,
                  status=wanted, statuses=STATUSES, q=shown_q, unmatched=search is None,
                  result=page, previous=link(page.page - 1), next=link(page.page + 1),
                  status_links={s: inbox_url(koe=koe, status=s, q=shown_q or None)
                                for s in STATUSES})


def _concern_or_404(store: Store, queues: tuple[str, ...], user: WebUser, queue: str,
                    event_id: str) -> dict[str, Any]:
    if queue not in readable_queues(user.principal, queues):
        raise HTTPException(404)
    item = store.concern(event_id, queue)
    if item is None:
        raise HTTPException(404)
    return item


async def show_concern(request: Request, user: WebUser, queue: str, event_id: str, *,
                       status_code: int = 200, saved: bool = False,
                       error: str | None = None, note: str = "",
                       chosen: str | None = None) -> Response:
    """The concern page; after a refused status form, with the error and what the person
    typed (``note``, ``chosen``) kept in the form."""
    ctx = _ctx(request)
    store = store_of(request)
    item = await asyncio.to_thread(_concern_or_404, store, ctx.policy.queues, user, queue,
                                   event_id)
    statuses = await asyncio.to_thread(store.statuses, [(event_id, queue)])
    history = await asyncio.to_thread(store.status_history, event_id, queue)
    await ctx.record(request, ctx.consultations(user.principal, [item], "ui-concern"))
    current = statuses.get((event_id, queue), {}).get("status", "ny")
    return render(request, "concern.html", user, status_code=status_code, item=item,
                  status=current, chosen=chosen or current, statuses=STATUSES,
                  history=history, saved=saved, error=error, note=note)


@router.get("/ui/bekymringer/{queue}/{event_id}")
async def concern_page(request: Request, user: ConsultantUser, queue: str, event_id: str,
                       gemt: str | None = None, fejl: str | None = None) -> Response:
    return await show_concern(request, user, queue, event_id, saved=bool(gemt),
                              error=TEXTS["concern"].get(fejl) if fejl else None)


@router.post("/ui/bekymringer/{queue}/{event_id}/status")
async def set_status(request: Request, user: ConsultantUser, queue: str, event_id: str
                     ) -> Response:
    """Save a status and note. Whatever goes wrong (an expired form, a note with personal
    data, the store failing), the page comes back with the note as typed and a Danish error;
    nothing is stored then."""
    ctx = _ctx(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    store = store_of(request)
    await asyncio.to_thread(_concern_or_404, store, ctx.policy.queues, user, queue, event_id)
    status = form.get("status", "")
    typed = form.get("note", "")
    note = " ".join(typed.split()) or None

    def again(error: str, status_code: int = 422) -> Awaitable[Response]:
        # Refused: the page again, with what the person typed; nothing is stored.
        return show_concern(request, user, queue, event_id, status_code=status_code,
                            error=error, note=typed[:NOTE_MAX * 4], chosen=status)
    if not csrf_ok(user.csrf, form.get("csrf")):
        # A fresh form (with this session's token) carries the note: save again works.
        return await again(f"{TEXTS['errors']['csrf']} {TEXTS['consult']['note_kept']}", 403)
    if status not in STATUSES:
        return await again(TEXTS["concern"]["status_invalid"])
    if note is not None and len(note) > NOTE_MAX:
        return await again(TEXTS["concern"]["note_too_long"].format(max=NOTE_MAX))
    # The note is shown to every consultant of the queue: no personal data at all. No
    # names from the vault are passed in: a refusal would tell the consultant that a
    # guessed name is the young person's, without a logged re-identification.
    refusal = None if note is None else \
        await asyncio.to_thread(ctx.freetext.refusal, "note", note)
    if refusal is not None:
        log.info("note_refused", kinds=list(refusal.kinds))
        return await again(TEXTS["concern"]["note_personal_data"].format(
            found=found_da(refusal.kinds)))
    try:
        await asyncio.to_thread(store.set_status, event_id, queue, status, note, user.name,
                                dt.datetime.now(dt.UTC))
    except SQLAlchemyError as exc:
        log.warning("status_save_failed", error=type(exc).__name__)
        return await again(TEXTS["consult"]["save_failed"], 503)
    return see_other(f"/ui/bekymringer/{queue}/{event_id}?gemt=1")


async def joint(request: Request, user: WebUser, pseudonym: str,
                identity: Any = None, refusal: str | None = None,
                reason: str = "", **extra: Any) -> Response:
    """The joint view: one row per event, with the queues it reached (the caller's); with
    four eyes, the consultant's own request and others' waiting for them (``extra``: a
    refused decision's error and typed reason, see :mod:`hub.web.four_eyes`)."""
    if PSEUDONYM_PATTERN.fullmatch(pseudonym) is None:
        raise HTTPException(404)
    ctx = _ctx(request)
    store = store_of(request)
    queues = readable_queues(user.principal, ctx.policy.queues)

    def read() -> list[dict[str, Any]]:
        return store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(pseudonym),
                                           limit=500, cursor=None).items
    items = await asyncio.to_thread(read)
    await ctx.record(request, ctx.consultations(user.principal, items, "ui-joint"))
    statuses = await asyncio.to_thread(store.statuses,
                                       [(i["event_id"], i["queue"]) for i in items])
    events: dict[str, dict[str, Any]] = {}
    for item in items:
        row = events.setdefault(item["event_id"], {**item, "queues": [], "statuses": {}})
        row["queues"].append(item["queue"])
        row["statuses"][item["queue"]] = statuses.get(
            (item["event_id"], item["queue"]), {}).get("status", "ny")
    four_eyes = await asyncio.to_thread(joint_view, store, ctx.policy, user.principal,
                                        pseudonym, items, dt.datetime.now(dt.UTC))
    return render(request, "joint.html", user, pseudonym=pseudonym,
                  events=list(events.values()), identity=identity, refusal=refusal,
                  reason=reason, **four_eyes, **extra)


@router.get("/ui/personer/{pseudonym}")
async def joint_page(request: Request, user: ConsultantUser, pseudonym: str,
                     afgjort: str | None = None) -> Response:
    decided = afgjort if afgjort in ("approve", "refuse") else None
    return await joint(request, user, pseudonym, decided=decided)


@router.post("/ui/personer/{pseudonym}/identitet")
async def reidentify(request: Request, user: ConsultantUser, pseudonym: str) -> Response:
    form = await form_of(request, user)
    reason = form.get("reason") or None
    status_code, refusal, _detail, identity = await _ctx(request).reidentify(
        request, store_of(request), user.principal, pseudonym, reason)
    if status_code == 202:  # four eyes: the request waits for a second consultant
        return await joint(request, user, pseudonym, requested=True)
    # Refused: the form again with what the person typed (it is theirs; the log holds
    # it scrubbed). Granted: the form is not shown.
    response = await joint(request, user, pseudonym, identity=identity, refusal=refusal,
                           reason=(reason or "")[:2000] if identity is None else "")
    if identity is None:
        response.status_code = status_code
    return response


@router.post("/ui/godkendelser/{request_id}")
async def decide_request(request: Request, user: ConsultantUser, request_id: str) -> Response:
    """Four eyes: a second consultant approves or refuses (:mod:`hub.reidentification`);
    back to the person's joint view, with the outcome, or the error and the reason as
    typed."""
    form = await form_of(request, user)
    if form.get("decision") not in ("approve", "refuse"):
        raise HTTPException(422, TEXTS["foureyes"]["error_decision"])
    ctx = _ctx(request)
    typed = form.get("reason") or None
    decided = await decide(request, store_of(request), ctx.policy, ctx.freetext, ctx.record,
                           user.principal, request_id, approve=form["decision"] == "approve",
                           raw_reason=typed)
    if decided.row is None:
        raise HTTPException(decided.status, TEXTS["foureyes"][f"error_{decided.refusal}"])
    pseudonym = decided.row["pseudonym"]
    if decided.refusal is None:
        return see_other(f"/ui/personer/{pseudonym}?afgjort={form['decision']}")
    response = await joint(request, user, pseudonym, decision_error=decided.refusal,
                           decision_reason=(typed or "")[:2000], decision_for=request_id)
    response.status_code = decided.status
    return response
