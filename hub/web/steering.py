"""The steering group's and local council's pages: governance counts with small-count
suppression (``/ui/styring``) and the same tables as CSV (``/ui/styring.csv``). Counts only:
nothing here is about one person, so nothing is logged as a disclosure."""

from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.policy.evaluator import Policy
from hub.web import governance
from hub.web.pages import (
    LOCAL_TZ,
    SECURITY_HEADERS,
    GovernanceUser,
    WebDep,
    month_label,
    render,
    store_of,
)
from hub.web.texts import TEXTS

router = APIRouter(include_in_schema=False)


def months_covered(rows: list[tuple[str, str, str, str, dt.datetime]], limit: int = 12
                   ) -> list[str]:
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


async def governance_tables(request: Request, policy: Policy
                            ) -> tuple[list[governance.ShownTable], list[str], list[int | None]]:
    """The three suppressed tables, the months they cover (YYYY-MM) and the per-month
    totals (suppressed like the tables' column totals)."""
    rows = await asyncio.to_thread(store_of(request).governance_rows)
    months = months_covered(rows)
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
async def governance_page(request: Request, user: GovernanceUser, web: WebDep) -> Response:
    tables, months, per_month = await governance_tables(request, web.ctx.policy)
    labels = months
    g = TEXTS["governance"]
    short = [f"{TEXTS['months_short'][int(m[5:]) - 1]} {m[2:4]}" for m in months]
    charts = [governance.monthly_chart_svg(g["per_month"], short, per_month)] if labels \
        else []
    charts += [governance.bar_chart_svg(t.title, list(t.row_labels), list(t.row_totals))
               for t in tables] if labels else []
    return render(request, "governance.html", user, tables=tables, charts=charts)


@router.get("/ui/styring.csv")
async def governance_csv(request: Request, user: GovernanceUser, web: WebDep) -> Response:
    tables, _labels, _per_month = await governance_tables(request, web.ctx.policy)
    body = governance.to_csv(tables, total_label=TEXTS["governance"]["total"])
    day = dt.datetime.now(LOCAL_TZ).strftime("%Y-%m-%d")
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="ssp-styring-{day}.csv"'})
