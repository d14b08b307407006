"""Refused requests on record, for security officers: ``GET /api/v1/refusals`` (the standard
list shape, filters ``principal``, ``reason``, ``from``, ``to``) and ``GET
/api/v1/refusals/summary`` (refusals per principal in a window, with the busiest minute, so
that a scan stands out). The recording itself is :mod:`hub.refusals`."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from core.store import Principal
from hub.api.context import answer, check_cursor, require_role
from hub.api.models import Page, RefusalItem, RefusalSummary
from hub.auth import StoreDep
from hub.refusals import READERS, parse_time, summarise

router = APIRouter()
RefusalReader = Annotated[Principal, Depends(require_role(
    READERS, "role {role} may not read refusals"))]


@router.get("/api/v1/refusals", response_model=Page[RefusalItem],
            summary="Refused requests, newest first (security officers)")
async def list_refusals(
    _reader: RefusalReader, store: StoreDep,
    principal_: Annotated[str | None, Query(alias="principal", max_length=200)] = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50, cursor: str | None = None,
) -> Response:
    """Filters combine with AND; ``from``/``to`` bound the time (``to`` exclusive).
    ``principal`` is a principal's name or ``anonymous``."""
    check_cursor(cursor)
    start, end = parse_time("from", from_), parse_time("to", to)
    page = await asyncio.to_thread(store.refusals_page, principal=principal_, reason=reason,
                                   start=start, end=end, limit=limit, cursor=cursor)
    return answer({"items": page.items, "next_cursor": page.next_cursor})


@router.get("/api/v1/refusals/summary", response_model=RefusalSummary,
            summary="Refusals per principal in a recent window, busiest first "
                    "(security officers)")
async def refusals_summary(
    _reader: RefusalReader, store: StoreDep,
    minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
) -> Response:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)
    rows = await asyncio.to_thread(store.refusal_times, since)
    return answer({"window_minutes": minutes, "since": since, "items": summarise(rows),
                   "next_cursor": None})
