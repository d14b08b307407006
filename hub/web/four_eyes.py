"""Four-eyes re-identification in the web UI (:mod:`hub.reidentification`): what the joint
view shows about requests (the consultant's own, and others' that they may decide), the
list of requests waiting for the consultant (``/ui/godkendelser``), and the approve/refuse
form (``POST /ui/godkendelser/{request_id}``, CSRF-checked like every form)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from core.policy.evaluator import Policy
from core.store import Principal, Store
from hub.reidentification import PENDING, decidable, decide, may_decide, need, status_of
from hub.web.pages import ConsultantUser, form_of, render, see_other, store_of, web_state
from hub.web.texts import TEXTS

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


@router.post("/ui/godkendelser/{request_id}")
async def decide_page(request: Request, user: ConsultantUser, request_id: str) -> Response:
    """Approve or refuse; back to the person's joint view, with the outcome or the error
    (and the reason as typed)."""
    # Imported here: consultant.py's joint view shows this module's boxes.
    from hub.web.consultant import joint

    form = await form_of(request, user)
    if form.get("decision") not in ("approve", "refuse"):
        raise HTTPException(422, TEXTS["foureyes"]["error_decision"])
    ctx = web_state(request).ctx
    store = store_of(request)
    typed = form.get("reason") or None
    decided = await decide(request, store, ctx.policy, ctx.freetext, ctx.record,
                           user.principal, request_id, approve=form.get("decision") == "approve",
                           raw_reason=typed)
    if decided.row is None:
        raise HTTPException(decided.status, TEXTS["foureyes"][f"error_{decided.refusal}"])
    pseudonym = decided.row["pseudonym"]
    if decided.refusal is None:
        outcome = "approve" if decided.row["status"] == "approved" else "refuse"
        return see_other(f"/ui/personer/{pseudonym}?afgjort={outcome}")
    response = await joint(request, user, pseudonym, decision_error=decided.refusal,
                           decision_reason=(typed or "")[:2000], decision_for=request_id)
    response.status_code = decided.status
    return response
