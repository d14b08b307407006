"""Four-eyes re-identification in the web UI (:mod:`hub.reidentification`): what the joint
view shows about requests (the consultant's own, and others' that they may decide), and the
list of requests waiting for the consultant (``/ui/godkendelser``). The approve/refuse form
posts to ``/ui/godkendelser/{request_id}`` (:mod:`hub.web.consultant`, beside the joint view
it answers with)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.policy.evaluator import Policy
from core.store import Principal, Store
from hub.reidentification import PENDING, decidable, may_decide, need, status_of
from hub.web.pages import ConsultantUser, render, store_of, web_state

router = APIRouter(include_in_schema=False)


def joint_view(store: Store, policy: Policy, principal: Principal, pseudonym: str,
               items: list[dict[str, Any]], now: dt.datetime) -> dict[str, Any]:
    """For the joint view: whether four eyes apply to this person (``four_eyes``), the
    consultant's newest request about them (``mine``, with its ``state``), and others'
    pending requests they may decide (``theirs``)."""
    rows = store.reidentification_requests_about(store.aliases(pseudonym))
    mine = next((r for r in rows if r["requester"] == principal.name), None)
    theirs = [r for r in rows if r["requester"] != principal.name
              and status_of(r, now) == PENDING and may_decide(store, policy, principal, r)]
    return {"four_eyes": need(policy, items) is not None,
            "mine": None if mine is None else {**mine, "state": status_of(mine, now)},
            "theirs": theirs}


@router.get("/ui/godkendelser")
async def requests_page(request: Request, user: ConsultantUser) -> Response:
    """Requests of other consultants in the user's queues, waiting for a decision."""
    ctx = web_state(request).ctx
    rows = await asyncio.to_thread(decidable, store_of(request), ctx.policy, user.principal,
                                   dt.datetime.now(dt.UTC))
    return render(request, "four_eyes.html", user, requests=rows)
