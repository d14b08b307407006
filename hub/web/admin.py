"""The administrator's page (``/ui/admin``): the principals (role, web login, queues,
disabled), the connectors with each watched drop folder's status (the data ``/readyz`` gives
as ``drop_folders``) and the hub's health (broker and store reachable). An administrator can
disable or enable a principal here (CSRF-checked forms); each change is written to the
disclosure log before it is made, as from ``ssp-hub users disable|enable``. Tokens,
passwords and folder paths are never shown."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from connectors.registry import CONNECTORS
from connectors.watch import drop_status
from core.bus import BusError
from hub.administration import Change, admin_entry
from hub.web.pages import WebDep, form_of, page_user, render, see_other, store_of
from hub.web.sessions import WebUser
from hub.web.texts import TEXTS

router = APIRouter(include_in_schema=False)
AdminUser = Annotated[WebUser, Depends(page_user("admin"))]
BROKER_WAIT_S = 3.0


async def health(request: Request) -> dict[str, bool]:
    """Is the store reachable, is the broker? (What ``/readyz`` checks.)"""
    checks: dict[str, bool] = {}
    try:
        await asyncio.to_thread(store_of(request).ping)
        checks["store"] = True
    except Exception:  # any failure of the database is "unreachable" here
        checks["store"] = False
    checks["broker"] = await broker_reachable(request)
    return checks


async def broker_reachable(request: Request) -> bool:
    """The API's producer started (as ``hub.api.context.ensure_producer`` does it; not
    imported, since ``hub.api`` imports this package) and the broker answering it."""
    state = request.app.state
    producer = state.producer
    try:
        if not state.producer_started:
            try:
                await producer.start()
                state.producer_started = True
            except BusError:
                await producer.stop()
                raise
        await asyncio.wait_for(producer.ready(), BROKER_WAIT_S)
    except (BusError, TimeoutError):
        return False
    return True


def connector_rows(drops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per watched drop folder, and one per connector that has none, by name."""
    rows = []
    for name in sorted(CONNECTORS):
        mine = [d for d in drops if d.get("connector") == name]
        base: dict[str, Any] = {"connector": name, "agency": CONNECTORS[name].agency}
        rows += [{**base, "drop": d} for d in mine] or [{**base, "drop": None}]
    return rows


@router.get("/ui/admin")
async def admin_page(request: Request, user: AdminUser, web: WebDep,
                     gemt: str | None = None) -> Response:
    store = store_of(request)
    accounts = await asyncio.to_thread(store.list_principals)
    try:
        drops = await asyncio.to_thread(drop_status, web.ctx.settings.resolved_watch_state_dir)
    except OSError:
        drops = []
    return render(request, "admin.html", user, accounts=accounts, checks=await health(request),
                  connectors=connector_rows(drops),
                  saved=TEXTS["admin"]["saved"].get(gemt) if gemt else None)


async def _set_disabled(request: Request, user: WebUser, web: WebDep, name: str,
                        disabled: bool) -> Response:
    await form_of(request, user)  # the CSRF check
    if disabled and name == user.name:
        raise HTTPException(400, TEXTS["admin"]["not_yourself"])
    store = store_of(request)
    account = await asyncio.to_thread(store.account, name)
    if account is None:
        raise HTTPException(404, TEXTS["errors"]["not_found"])
    if account.disabled != disabled:
        change = Change.disabled if disabled else Change.enabled
        # On record first (the log's sink, as every act of the web UI): no entry, no change.
        await web.ctx.record(request, [admin_entry(change, account.name, account.role,
                                                   account.queues, user.name, user.role)])
        await asyncio.to_thread(store.set_disabled, name, disabled)
    return see_other(f"/ui/admin?gemt={'deaktiveret' if disabled else 'aktiveret'}#brugere")


@router.post("/ui/admin/brugere/{name}/deaktiver")
async def disable(request: Request, user: AdminUser, web: WebDep, name: str) -> Response:
    return await _set_disabled(request, user, web, name, True)


@router.post("/ui/admin/brugere/{name}/aktiver")
async def enable(request: Request, user: AdminUser, web: WebDep, name: str) -> Response:
    return await _set_disabled(request, user, web, name, False)
