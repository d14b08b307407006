"""The Danish web UI, served by the API process: server-rendered Jinja2 pages, plain HTML
forms, SVG charts drawn on the server; no JavaScript, no build step, no CDN.

* SSP-konsulent: inbox (``/ui/indbakke``), a concern with its case status
  (``/ui/bekymringer/{queue}/{event_id}``), the joint view of one young person with
  re-identification (``/ui/personer/{pseudonym}``).
* Sikkerhedsansvarlig: the disclosure log (``/ui/log``), its integrity
  (``/ui/log/integritet``), rejected disclosures (``/ui/log/afvisninger``), subject access
  (``/ui/indsigt``), policy versions (``/ui/politik``).
* Styregruppe / lokalråd: governance counts with small-count suppression (``/ui/styring``,
  ``/ui/styring.csv``).

Every page that shows a concern writes consultation entries to the disclosure log *before*
it is answered, exactly as the JSON API does. Texts are in ``da.yaml``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.watch import drop_status
from core.ledger.auditlog import (
    AuditLog,
    FilterError,
    check_filters,
    current_key_id,
    key_fingerprint,
    verify_store,
)
from core.logs import get_logger
from core.policy.evaluator import Policy
from core.privacy.crypto import PSEUDONYM_PATTERN
from core.privacy.freetext import FreeText
from core.privacy.keys import KeyRing
from core.settings import Settings
from core.store import Principal, Store, decode_cursor
from hub.auth import readable_queues
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
from hub.web import governance
from hub.web.sessions import (
    LOGIN_COOKIE,
    WEB_ROLES,
    CsrfFailed,
    LoginRequired,
    LoginThrottle,
    WebUser,
    check_password,
    csrf_ok,
    current_user,
    end_session,
    login_token,
    set_login_cookie,
    start_session,
)
from hub.web.texts import TEXTS, found_da
from schemas.cpr import InvalidCpr
from schemas.disclosures import Decision, EntryKind, LogEntry

HERE = Path(__file__).resolve().parent
log = get_logger("hub.web")
LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
STATUSES = ("ny", "under_behandling", "afsluttet")
NOTE_MAX = 500
# Pages hold personal data: never cached, never framed, no scripts, forms post only here.
SECURITY_HEADERS = {
    "Cache-Control": "no-store", "Pragma": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'none'; frame-ancestors 'none'; form-action 'self'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
PAGE_ROLES = {
    "inbox": ("consultant",),
    "log": ("security_officer",),
    "policy": ("security_officer", "admin"),
    "governance": ("consultant", "security_officer", "admin", "governance"),
}
HOME = {"consultant": "/ui/indbakke", "security_officer": "/ui/log", "admin": "/ui/politik",
        "governance": "/ui/styring"}

Reidentify = Callable[[Request, Store, Principal, str, str | None],
                      Awaitable[tuple[int, str | None, str, Any]]]


@dataclass(frozen=True)
class WebContext:
    """What the pages need from the API: built once in :func:`hub.api.create_api`."""

    settings: Settings
    policy: Policy
    ring: KeyRing
    public_keys: dict[str, Any]
    record: Callable[[Request, list[LogEntry]], Awaitable[None]]
    consultations: Callable[[Principal, list[dict[str, Any]], str], list[LogEntry]]
    reidentify: Reidentify
    # The one free-text scrubber (core/privacy/freetext.py); the API passes its own.
    freetext: FreeText = field(default_factory=FreeText)


async def user_dep(request: Request) -> WebUser:
    """The logged-in web user, or :class:`LoginRequired` (→ the login page)."""
    user = await asyncio.to_thread(current_user, request, request.app.state.store,
                                   request.app.state.web_settings)
    request.state.principal = user.name  # for the access log and refusals (hub.refusals)
    return user


UserDep = Annotated[WebUser, Depends(user_dep)]


def local_time(value: dt.datetime | str | None, with_time: bool = True) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(LOCAL_TZ)
    return local.strftime("%d.%m.%Y %H:%M" if with_time else "%d.%m.%Y")


def age_da(item: dict[str, Any]) -> str:
    """A concern's age as its queue was shown it: "14 år", "12–14 år" (the policy's band),
    "Alder ikke vist" (banded, but no band holds the age), or "Områdeniveau" (about an area)."""
    texts = TEXTS["inbox"]
    if isinstance(item.get("age"), int):
        return f"{item['age']} {texts['years']}"
    band = item.get("age_band")
    if isinstance(band, str) and "-" in band:
        low, high = band.split("-", 1)
        return str(texts["age_band"]).format(low=low, high=high)
    if item.get("pseudonym"):
        return str(texts["age_withheld"])
    return str(texts["area_level"])


def year_group_da(year: int | None) -> str:
    """A year group in Danish: "8. årgang"; 0 is børnehaveklassen."""
    if year is None:
        return ""
    texts = TEXTS["concern"]
    return str(texts["year_group_0"]) if year == 0 else str(texts["year_group_n"]).format(n=year)


def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{TEXTS['months'][int(month) - 1]} {year}"


def mount_web(app: FastAPI, ctx: WebContext) -> None:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.globals["t"] = TEXTS
    env.globals["page_roles"] = PAGE_ROLES
    env.filters["local_time"] = local_time
    env.filters["local_date"] = lambda v: local_time(v, with_time=False)
    env.filters["label"] = lambda code, group: TEXTS.get(group, {}).get(code, code)
    env.filters["age_da"] = age_da
    env.filters["year_group_da"] = year_group_da
    policy = ctx.policy
    settings = ctx.settings
    router = APIRouter(include_in_schema=False)
    throttle = LoginThrottle()
    oidc = None
    if settings.oidc_issuer:
        from hub.web.oidc import OidcLogin
        oidc = OidcLogin(settings)
        oidc.install(app, ctx.ring.connector_id_secret())

    def store_of(request: Request) -> Store:
        store: Store = request.app.state.store
        return store

    app.state.web_settings = settings

    def render(request: Request, name: str, user: WebUser | None, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        response = templates.TemplateResponse(
            request, name, {"user": user, "queue_titles": policy.doc.queues, **context},
            status_code=status_code)
        response.headers.update(SECURITY_HEADERS)
        return response

    def allow(user: WebUser, page: str) -> None:
        if user.role not in PAGE_ROLES[page]:
            raise HTTPException(403, TEXTS["errors"]["forbidden"])

    async def form_of(request: Request, user: WebUser) -> dict[str, str]:
        form = await request.form()
        if not csrf_ok(user.csrf, form.get("csrf")):
            raise CsrfFailed()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def see_other(url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        response.headers.update(SECURITY_HEADERS)
        return response

    # -- errors ---------------------------------------------------------------------------
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        query = {"udloebet": "1"} if exc.expired else {}
        return see_other("/ui/login" + (f"?{urlencode(query)}" if query else ""))

    @app.exception_handler(CsrfFailed)
    async def _csrf_failed(request: Request, _exc: CsrfFailed) -> Response:
        return render(request, "error.html", None, status_code=403,
                      message=TEXTS["errors"]["csrf"])

    default_validation_handler = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/ui/"):
            # The field names only: pydantic's ``input`` may hold what the person typed.
            fields = sorted({".".join(str(p) for p in err.get("loc", ()) if p != "body")
                             for err in exc.errors()})
            return render(request, "error.html", None, status_code=422,
                          message=TEXTS["errors"]["invalid"].format(fields=", ".join(fields)))
        if default_validation_handler is None:
            raise exc
        result = default_validation_handler(request, exc)
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]

    default_http_handler = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/ui/") and request.method in ("GET", "POST"):
            message = {403: TEXTS["errors"]["forbidden"], 404: TEXTS["errors"]["not_found"],
                       503: TEXTS["errors"]["unavailable"]}.get(exc.status_code, str(exc.detail))
            try:  # keep the menu (and the logout button) on an error page
                user: WebUser | None = await user_dep(request)
            except LoginRequired:
                user = None
            return render(request, "error.html", user, status_code=exc.status_code,
                          message=message)
        if default_http_handler is not None:
            result = default_http_handler(request, exc)
            return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]
        raise exc

    # -- login ------------------------------------------------------------------------------
    @router.get("/")
    async def root() -> RedirectResponse:
        return see_other("/ui/")

    @router.get("/ui/")
    async def home(request: Request) -> Response:
        try:
            user = await user_dep(request)
        except LoginRequired:
            return see_other("/ui/login")
        return see_other(HOME.get(user.role, "/ui/login"))

    @router.get("/ui/login")
    async def login_page(request: Request) -> Response:
        notice = (TEXTS["login"]["expired"] if request.query_params.get("udloebet")
                  else TEXTS["login"]["logged_out"] if request.query_params.get("ude") else None)
        return login_form(request, notice=notice)

    def login_form(request: Request, status_code: int = 200, **context: Any) -> Response:
        token = login_token(request)
        response = render(request, "login.html", None, status_code=status_code, csrf=token,
                          oidc=oidc is not None, **context)
        set_login_cookie(request, response, settings, token)
        return response

    @router.post("/ui/login")
    async def login(request: Request, username: Annotated[str, Form(max_length=200)] = "",
                    password: Annotated[str, Form(max_length=1000)] = "",
                    csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
        if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), csrf):
            raise CsrfFailed()
        if throttle.blocked(username):
            log.warning("web_login_throttled")
            return login_form(request, status_code=429, error=TEXTS["login"]["throttled"],
                              username=username)
        store = store_of(request)
        principal = await asyncio.to_thread(check_password, store, username, password)
        if principal is None:
            throttle.failed(username)
        else:
            throttle.succeeded(username)
        if principal is None or principal.role not in WEB_ROLES:
            failed = TEXTS["login"]["failed"] if principal is None else \
                TEXTS["login"]["no_ui_role"]
            return login_form(request, status_code=401, error=failed, username=username)
        response = see_other(HOME.get(principal.role, "/ui/"))
        await asyncio.to_thread(start_session, request, response, store, settings, principal)
        return response

    @router.post("/ui/logout")
    async def logout(request: Request, user: UserDep) -> Response:
        await form_of(request, user)
        response = see_other("/ui/login?ude=1")
        await asyncio.to_thread(end_session, request, response, store_of(request))
        return response

    if oidc is not None:
        oidc.mount(router, store_of, render, HOME)

    # -- SSP-konsulent ------------------------------------------------------------------------
    @router.get("/ui/indbakke")
    async def inbox(request: Request, user: UserDep, koe: str | None = None,
                    status: str | None = None, cursor: str | None = None) -> Response:
        allow(user, "inbox")
        mine = readable_queues(user.principal, policy.queues)
        queues = [koe] if koe in mine else list(mine)
        wanted = status if status in STATUSES else None
        if cursor is not None:
            try:
                decode_cursor(cursor)
            except ValueError:
                cursor = None
        page = await asyncio.to_thread(store_of(request).inbox_page, queues=queues,
                                       status=wanted, limit=50, cursor=cursor)
        await ctx.record(request, ctx.consultations(user.principal, page.items, "ui-inbox"))
        more = None
        if page.next_cursor:
            more = "/ui/indbakke?" + urlencode(
                {k: v for k, v in (("koe", koe), ("status", wanted),
                                   ("cursor", page.next_cursor)) if v})
        return render(request, "inbox.html", user, items=page.items, queues=mine,
                      koe=koe if koe in mine else None, status=wanted, statuses=STATUSES,
                      more=more)

    def concern_or_404(store: Store, user: WebUser, queue: str, event_id: str
                       ) -> dict[str, Any]:
        if queue not in readable_queues(user.principal, policy.queues):
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
        store = store_of(request)
        item = await asyncio.to_thread(concern_or_404, store, user, queue, event_id)
        statuses = await asyncio.to_thread(store.statuses, [(event_id, queue)])
        history = await asyncio.to_thread(store.status_history, event_id, queue)
        await ctx.record(request, ctx.consultations(user.principal, [item], "ui-concern"))
        current = statuses.get((event_id, queue), {}).get("status", "ny")
        return render(request, "concern.html", user, status_code=status_code, item=item,
                      status=current, chosen=chosen or current, statuses=STATUSES,
                      history=history, saved=saved, error=error, note=note)

    @router.get("/ui/bekymringer/{queue}/{event_id}")
    async def concern_page(request: Request, user: UserDep, queue: str, event_id: str,
                           gemt: str | None = None, fejl: str | None = None) -> Response:
        allow(user, "inbox")
        return await show_concern(request, user, queue, event_id, saved=bool(gemt),
                                  error=TEXTS["concern"].get(fejl) if fejl else None)

    @router.post("/ui/bekymringer/{queue}/{event_id}/status")
    async def set_status(request: Request, user: UserDep, queue: str, event_id: str
                         ) -> Response:
        allow(user, "inbox")
        form = await form_of(request, user)
        store = store_of(request)
        await asyncio.to_thread(concern_or_404, store, user, queue, event_id)
        base = f"/ui/bekymringer/{queue}/{event_id}"
        status = form.get("status", "")
        typed = form.get("note", "")
        note = " ".join(typed.split()) or None

        def again(error: str) -> Awaitable[Response]:
            # Refused: the page again, with what the person typed; nothing is stored.
            return show_concern(request, user, queue, event_id, status_code=422, error=error,
                                note=typed[:NOTE_MAX * 4], chosen=status)
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
        await asyncio.to_thread(store.set_status, event_id, queue, status, note, user.name,
                                dt.datetime.now(dt.UTC))
        return see_other(f"{base}?gemt=1")

    async def joint(request: Request, user: UserDep, pseudonym: str,
                    identity: Any = None, refusal: str | None = None,
                    reason: str = "") -> Response:
        allow(user, "inbox")
        if PSEUDONYM_PATTERN.fullmatch(pseudonym) is None:
            raise HTTPException(404)
        store = store_of(request)
        queues = readable_queues(user.principal, policy.queues)

        def read() -> list[dict[str, Any]]:
            return store.subject_concerns_page(queues=queues, pseudonyms=store.aliases(pseudonym),
                                               limit=500, cursor=None).items
        items = await asyncio.to_thread(read)
        await ctx.record(request, ctx.consultations(user.principal, items, "ui-joint"))
        # One row per event; the queues it reached (in the caller's queues) listed on it.
        events: dict[str, dict[str, Any]] = {}
        for item in items:
            row = events.setdefault(item["event_id"], {**item, "queues": []})
            row["queues"].append(item["queue"])
        return render(request, "joint.html", user, pseudonym=pseudonym,
                      events=list(events.values()), identity=identity, refusal=refusal,
                      reason=reason)

    @router.get("/ui/personer/{pseudonym}")
    async def joint_page(request: Request, user: UserDep, pseudonym: str) -> Response:
        return await joint(request, user, pseudonym)

    @router.post("/ui/personer/{pseudonym}/identitet")
    async def reidentify(request: Request, user: UserDep, pseudonym: str) -> Response:
        allow(user, "inbox")
        form = await form_of(request, user)
        reason = form.get("reason") or None
        status_code, refusal, _detail, identity = await ctx.reidentify(
            request, store_of(request), user.principal, pseudonym, reason)
        # Refused: the form again with what the person typed (it is theirs; the log holds
        # it scrubbed). Granted: the form is not shown.
        response = await joint(request, user, pseudonym, identity=identity, refusal=refusal,
                               reason=(reason or "")[:2000] if identity is None else "")
        if identity is None:
            response.status_code = status_code
        return response

    # -- Sikkerhedsansvarlig -----------------------------------------------------------------
    @router.get("/ui/log")
    async def log_page(request: Request, user: UserDep) -> Response:
        allow(user, "log")
        q = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
        error = None
        page = None
        try:
            kind, decision, pseudonym = q.get("kind"), q.get("decision"), q.get("pseudonym")
            check_filters(kind=kind, decision=decision, pseudonym=pseudonym)
            start = _parse_day("from", q.get("from"))
            end = _parse_day("to", q.get("to"))
            cursor = q.get("cursor")
            if cursor is not None:
                try:
                    decode_cursor(cursor)
                except ValueError as exc:
                    raise FilterError("cursor", "not one this page issued") from exc
            audit: AuditLog = request.app.state.audit
            page = await asyncio.to_thread(
                audit.page_about, pseudonym, agency=q.get("agency"),
                recipient=q.get("recipient"), kind=kind, decision=decision, start=start,
                end=end, limit=100, cursor=cursor)
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
    async def integrity_page(request: Request, user: UserDep) -> Response:
        allow(user, "log")
        report = await asyncio.to_thread(verify_store, store_of(request), ctx.public_keys)
        kid = current_key_id(ctx.ring)
        return render(request, "integrity.html", user, report=report,
                      checkpoint=report.latest_checkpoint, key_id=kid,
                      fingerprint=key_fingerprint(ctx.public_keys[kid]))

    @router.get("/ui/log/afvisninger")
    async def rejections_page(request: Request, user: UserDep) -> Response:
        allow(user, "log")
        rows = await asyncio.to_thread(store_of(request).log_rejections)
        by_reason = collections.Counter(reason or "-" for _, reason in rows).most_common()
        by_agency = collections.Counter(agency or "-" for agency, _ in rows).most_common()
        drops = await asyncio.to_thread(drop_status, settings.resolved_watch_state_dir)
        return render(request, "rejections.html", user, by_reason=by_reason,
                      by_agency=by_agency, total=len(rows), drops=drops)

    @router.get("/ui/log/afviste-forespoergsler")
    async def refusals_page(request: Request, user: UserDep) -> Response:
        """Refused requests (hub.refusals): the last hour per sender, and the latest rows."""
        allow(user, "log")
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
    async def policy_page(request: Request, user: UserDep) -> Response:
        allow(user, "policy")
        rows = await asyncio.to_thread(store_of(request).policy_decisions)
        return render(request, "policy.html", user, rows=rows, current=policy.version)

    @router.get("/ui/indsigt")
    async def access_form(request: Request, user: UserDep) -> Response:
        allow(user, "log")
        return render(request, "access.html", user, answer=None)

    @router.post("/ui/indsigt")
    async def access(request: Request, user: UserDep) -> Response:
        allow(user, "log")
        form = await form_of(request, user)
        cpr = form.get("cpr", "")[:20]
        include_staff = form.get("include_staff") == "1"
        store = store_of(request)
        try:
            answer = await asyncio.to_thread(answer_subject_access, store, ctx.ring, policy, cpr,
                                             include_staff=include_staff)
        except InvalidCpr:
            return render(request, "access.html", user, answer=None, status_code=422,
                          error=TEXTS["access"]["invalid_cpr"], include_staff=include_staff)
        await ctx.record(request, [subject_access_entry(answer, user.name, user.role, policy)])
        document = render_document_da(answer, municipality_title=municipality_of(policy))
        if form.get("action") == "hent":
            day = answer.generated_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")
            return Response(document, media_type="text/html; charset=utf-8", headers={
                **SECURITY_HEADERS,
                "Content-Disposition": f'attachment; filename="indsigt-{day}.html"'})
        return render(request, "access.html", user, answer=answer, cpr=cpr,
                      include_staff=include_staff)

    @router.post("/ui/indsigt/afgoerelse")
    async def access_decision(request: Request, user: UserDep) -> Response:
        """Withhold an entry from the citizen's copy, or release it to a related person."""
        allow(user, "log")
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
        entry = access_decision_entry(seq, decision, reason, user.name, user.role, policy)
        await ctx.record(request, [entry])
        await asyncio.to_thread(store_decision, store, entry)
        return render(request, "access.html", user, answer=None, cpr=cpr,
                      notice=texts["decision_saved"][decision].format(seq=seq))

    # -- Styregruppe / lokalråd --------------------------------------------------------------
    async def governance_tables(request: Request) -> tuple[list[governance.ShownTable],
                                                           list[str], list[int | None]]:
        """The three suppressed tables, the months they cover (YYYY-MM) and the per-month
        totals (suppressed like the tables' column totals)."""
        rows = await asyncio.to_thread(store_of(request).governance_rows)
        months = _months(rows)
        labels = [month_label(m) for m in months]

        def month(at: dt.datetime) -> str:
            return at.astimezone(LOCAL_TZ).strftime("%Y-%m")
        per_event = {eid: (cat, area, month(at)) for eid, _q, cat, area, at in rows}
        cats = list(TEXTS["category"])
        areas = list(TEXTS["area"])
        queues = list(policy.queues)
        g = TEXTS["governance"]
        tables = [
            governance.crosstab(g["by_category"], ((c, m) for c, _a, m in per_event.values()),
                                cats, [TEXTS["category"][c] for c in cats], months, labels),
            governance.crosstab(g["by_area"], ((a, m) for _c, a, m in per_event.values()),
                                areas, [TEXTS["area"][a] for a in areas], months, labels),
            governance.crosstab(g["by_queue"], ((q, month(at)) for _e, q, _c, _a, at in rows),
                                queues, [policy.doc.queues[q] for q in queues], months, labels),
        ]
        shown = [governance.suppress(t) for t in tables]
        return shown, months, list(shown[0].col_totals)

    @router.get("/ui/styring")
    async def governance_page(request: Request, user: UserDep) -> Response:
        allow(user, "governance")
        tables, months, per_month = await governance_tables(request)
        labels = months
        g = TEXTS["governance"]
        short = [f"{TEXTS['months_short'][int(m[5:]) - 1]} {m[2:4]}" for m in months]
        charts = [governance.monthly_chart_svg(g["per_month"], short, per_month)] if labels \
            else []
        charts += [governance.bar_chart_svg(t.title, list(t.row_labels), list(t.row_totals))
                   for t in tables] if labels else []
        return render(request, "governance.html", user, tables=tables, charts=charts)

    @router.get("/ui/styring.csv")
    async def governance_csv(request: Request, user: UserDep) -> Response:
        allow(user, "governance")
        tables, _labels, _per_month = await governance_tables(request)
        body = governance.to_csv(tables, total_label=TEXTS["governance"]["total"])
        day = dt.datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
        return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="ssp-styring-{day}.csv"'})

    app.include_router(router)
    app.mount("/ui/static", StaticFiles(directory=str(HERE / "static")), name="ui-static")


def _parse_day(name: str, value: str | None) -> dt.datetime | None:
    """A date from a form field (YYYY-MM-DD, local midnight) or an ISO time."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FilterError(name, "not a date") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def _months(rows: list[tuple[str, str, str, str, dt.datetime]], limit: int = 12) -> list[str]:
    """The last ``limit`` calendar months up to the newest concern (or now)."""
    if not rows:
        return []
    newest = max(max(at for *_r, at in rows), dt.datetime.now(dt.UTC)).astimezone(LOCAL_TZ)
    oldest = min(at for *_r, at in rows).astimezone(LOCAL_TZ)
    out: list[str] = []
    year, month = newest.year, newest.month
    while len(out) < limit and (year, month) >= (oldest.year, oldest.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]
