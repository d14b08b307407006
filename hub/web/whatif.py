"""Policy what-if (``/ui/politik/hvad-hvis``): the security officer (or an administrator) pastes
or uploads a proposed policy file and sees which of the last days' decisions it would change,
per rule and queue, before the version is released (:mod:`hub.policy_diff`). Counts and event
ids only, never event content. A proposed file that does not load is answered 422 with the
loader's error (it names the field and its line)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from core.errors import HubError
from core.policy.evaluator import parse_policy
from hub.policy_diff import DEFAULT_DAYS, MAX_DAYS, PolicyDiff, policy_diff
from hub.web.pages import PolicyUser, WebDep, render, store_of
from hub.web.sessions import CsrfFailed, WebUser, csrf_ok
from hub.web.texts import TEXTS

router = APIRouter(include_in_schema=False)
PATH = "/ui/politik/hvad-hvis"
# The body cap of the web routes (Settings.max_body_bytes, 64 KB by default) bounds it first.
MAX_POLICY_BYTES = 256 * 1024
SHOWN_IDS = 100  # event ids listed per row on the page; the CLI's --json has them all


class ProposalError(Exception):
    """The form's proposal cannot be replayed; ``key`` names its Danish text."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


@router.get(PATH)
async def whatif_form(request: Request, user: PolicyUser) -> Response:
    return render(request, "whatif.html", user, diff=None, days=DEFAULT_DAYS, text="")


@router.post(PATH)
async def whatif(request: Request, user: PolicyUser, web: WebDep) -> Response:
    form = await request.form()
    if not csrf_ok(user.csrf, form.get("csrf")):
        raise CsrfFailed()
    text = str(form.get("policy") or "")
    try:
        days = _days(str(form.get("days") or DEFAULT_DAYS))
        text = await _proposal(form.get("file"), text)
        proposed = parse_policy(text, TEXTS["whatif"]["source"])
    except HubError as exc:
        return _refused(request, user, text, form, ProposalError("invalid", str(exc)))
    except ProposalError as exc:
        return _refused(request, user, text, form, exc)
    diff = await asyncio.to_thread(policy_diff, store_of(request), web.ctx.policy, proposed,
                                   days=days)
    return render(request, "whatif.html", user, diff=diff, days=days, text=text,
                  view=diff_view(diff, [*web.ctx.policy.doc.rules, *proposed.doc.rules]))


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ProposalError("days") from None
    if not 1 <= days <= MAX_DAYS:
        raise ProposalError("days")
    return days


async def _proposal(upload: Any, pasted: str) -> str:
    """The uploaded file's text if one was chosen, else the pasted text."""
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_POLICY_BYTES + 1)
        if len(raw) > MAX_POLICY_BYTES:
            raise ProposalError("too_large")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProposalError("not_utf8") from None
    if not pasted.strip():
        raise ProposalError("empty")
    if len(pasted.encode("utf-8")) > MAX_POLICY_BYTES:
        raise ProposalError("too_large")
    return pasted


def _refused(request: Request, user: WebUser, text: str, form: Any,
             exc: ProposalError) -> Response:
    return render(request, "whatif.html", user, status_code=422, diff=None,
                  text=text[:MAX_POLICY_BYTES],
                  days=str(form.get("days") or DEFAULT_DAYS)[:6],
                  error=TEXTS["whatif"]["errors"][exc.key], detail=exc.detail)


def diff_view(diff: PolicyDiff, rules: Any) -> dict[str, Any]:
    """What the template shows: each change with at most :data:`SHOWN_IDS` event ids, and the
    rules' Danish descriptions (the last of ``rules`` with an id wins)."""
    described = {rule.id: rule.description for rule in rules}
    return {
        "changes": [{"before": c.before, "after": c.after, "count": len(c.event_ids),
                     "ids": c.event_ids[:SHOWN_IDS], "more": max(0, len(c.event_ids) - SHOWN_IDS)}
                    for c in diff.changes],
        "rules": [{"id": r.rule_id, "description": described.get(r.rule_id, ""),
                   "newly": len(r.newly), "no_longer": len(r.no_longer)} for r in diff.rules],
        "queues": [{"queue": q.queue, "gained": len(q.gained), "lost": len(q.lost)}
                   for q in diff.queues],
    }
