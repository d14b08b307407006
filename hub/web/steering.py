"""The steering group's and local council's pages: governance counts with small-count
suppression (``/ui/styring``) and the same tables as CSV (``/ui/styring.csv``). Counts only:
nothing here is about one person, so nothing is logged as a disclosure."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping

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


def months_covered(months: Iterable[str], limit: int = 12) -> list[str]:
    """The last ``limit`` calendar months (YYYY-MM) up to the newest month counted (or the
    current one), not before the oldest month counted."""
    counted = set(months)
    if not counted:
        return []
    newest = max(max(counted), dt.datetime.now(LOCAL_TZ).strftime("%Y-%m"))
    oldest = min(counted)
    out: list[str] = []
    year, month = int(newest[:4]), int(newest[5:7])
    while len(out) < limit and f"{year:04d}-{month:02d}" >= oldest:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def tables_from_counts(counts: Mapping[str, Mapping[tuple[str, str], int]], policy: Policy
                       ) -> tuple[list[governance.ShownTable], list[str], list[int | None]]:
    """The three suppressed tables from the governance counts (kind → {(key, month): n}),
    the months they cover (YYYY-MM) and the per-month totals (suppressed like the tables'
    column totals)."""
    months = months_covered(m for table in counts.values() for (_k, m), n in table.items()
                            if n)
    labels = [month_label(m) for m in months]
    cats = list(TEXTS["category"])
    areas = list(TEXTS["area"])
    queues = list(policy.queues)
    g = TEXTS["governance"]
    tables = [
        governance.crosstab(g["by_category"], counts["category"],
                            cats, [TEXTS["category"][c] for c in cats], months, labels),
        governance.crosstab(g["by_area"], counts["area"],
                            areas, [TEXTS["area"][a] for a in areas], months, labels),
        governance.crosstab(g["by_queue"], counts["queue"],
                            queues, [policy.doc.queues[q] for q in queues], months, labels),
    ]
    shown = [governance.suppress(t) for t in tables]
    return shown, months, list(shown[0].col_totals)


async def governance_tables(request: Request, policy: Policy
                            ) -> tuple[list[governance.ShownTable], list[str], list[int | None]]:
    """:func:`tables_from_counts` of the maintained aggregates (core/store/aggregates.py):
    a view reads a few hundred counts, never the concerns."""
    counts = await asyncio.to_thread(store_of(request).governance_counts)
    return tables_from_counts(counts, policy)


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
