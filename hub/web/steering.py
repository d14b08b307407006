"""The steering group's and local council's pages: governance counts with small-count
suppression (``/ui/styring``) and the same tables as CSV (``/ui/styring.csv``). Counts only:
nothing here is about one person, so nothing is logged as a disclosure."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

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


def months_covered(months: Iterable[str], limit: int = 12, this_month: str | None = None
                   ) -> list[str]:
    """The last ``limit`` calendar months (YYYY-MM) up to the newest month counted (or the
    current one), not before the oldest month counted."""
    counted = set(months)
    if not counted:
        return []
    newest = max(max(counted), this_month or dt.datetime.now(LOCAL_TZ).strftime("%Y-%m"))
    oldest = min(counted)
    out: list[str] = []
    year, month = int(newest[:4]), int(newest[5:7])
    while len(out) < limit and f"{year:04d}-{month:02d}" >= oldest:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


MAX_MONTHS = 36  # a chosen period: at most three years of columns


@dataclass(frozen=True)
class Period:
    """The months a report covers (YYYY-MM, oldest first), how a person reads it, and the
    query that asks for it again (for the CSV link)."""

    months: tuple[str, ...]
    label: str
    query: dict[str, str]

    @property
    def slug(self) -> str:
        return f"{self.months[0]}_{self.months[-1]}" if self.months else "tom"


def _month_span(first: str, last: str) -> list[str]:
    out: list[str] = []
    year, month = int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last and len(out) <= MAX_MONTHS:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return out


def _period_label(months: Sequence[str]) -> str:
    if not months:
        return str(TEXTS["consult"]["period_none"])
    if len(months) == 1:
        return month_label(months[0])
    return f"{month_label(months[0])} – {month_label(months[-1])}"


def choose_period(counted: Iterable[str], *, year: str = "", start: str = "", end: str = "",
                  this_month: str | None = None) -> tuple[Period, str | None]:
    """The period asked for — a calendar year (``year``) or the months ``start``–``end``
    (YYYY-MM, both included) — or, when none is asked for or the asked one is invalid, the
    last 12 months counted; with a Danish error for an invalid one."""
    now = this_month or dt.datetime.now(LOCAL_TZ).strftime("%Y-%m")
    texts = TEXTS["consult"]
    error = None
    if year:
        if _YEAR.fullmatch(year) and year[:4] <= now[:4]:
            months = _month_span(f"{year}-01", min(f"{year}-12", now))
            return Period(tuple(months), _period_label(months), {"aar": year}), None
        error = texts["period_bad_year"]
    elif start or end:
        if not (_MONTH.fullmatch(start) and _MONTH.fullmatch(end)):
            error = texts["period_bad_month"]
        elif start > end:
            error = texts["period_reversed"]
        elif len(_month_span(start, end)) > MAX_MONTHS:
            error = texts["period_too_long"].format(max=MAX_MONTHS)
        else:
            months = _month_span(start, end)
            return Period(tuple(months), _period_label(months), {"fra": start, "til": end}), None
    months = months_covered(counted, this_month=now)
    return Period(tuple(months), _period_label(months), {}), error


_YEAR = re.compile(r"20\d\d")
_MONTH = re.compile(r"20\d\d-(0[1-9]|1[0-2])")


def tables_from_counts(counts: Mapping[str, Mapping[tuple[str, str], int]], policy: Policy,
                       months: Sequence[str] | None = None
                       ) -> tuple[list[governance.ShownTable], list[str], list[int | None]]:
    """The three suppressed tables from the governance counts (kind → {(key, month): n}) over
    ``months`` (YYYY-MM; by default the last 12 months counted), the months they cover and
    the per-month totals (suppressed like the tables' column totals)."""
    if months is None:
        months = months_covered(m for table in counts.values() for (_k, m), n in table.items()
                                if n)
    months = list(months)
    if not months:
        return [], [], []
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


def _counted_months(counts: Mapping[str, Mapping[tuple[str, str], int]]) -> set[str]:
    return {m for table in counts.values() for (_k, m), n in table.items() if n}


async def governance_report(request: Request, policy: Policy
                            ) -> tuple[Period, str | None, list[str],
                                       list[governance.ShownTable], list[str],
                                       list[int | None]]:
    """The period asked for (query ``aar``, or ``fra`` and ``til``), its error if any, the
    years that can be chosen, and :func:`tables_from_counts` of the maintained aggregates
    (core/store/aggregates.py) over that period: a view reads a few hundred counts, never
    the concerns."""
    counts = await asyncio.to_thread(store_of(request).governance_counts)
    counted = _counted_months(counts)
    q = request.query_params
    period, error = choose_period(counted, year=q.get("aar", "")[:4],
                                  start=q.get("fra", "")[:7], end=q.get("til", "")[:7])
    this_year = dt.datetime.now(LOCAL_TZ).strftime("%Y")
    years = sorted({m[:4] for m in counted} | {this_year}, reverse=True)
    tables, months, per_month = tables_from_counts(counts, policy, period.months)
    return period, error, years, tables, months, per_month


@router.get("/ui/styring")
async def governance_page(request: Request, user: GovernanceUser, web: WebDep) -> Response:
    period, error, years, tables, months, per_month = await governance_report(
        request, web.ctx.policy)
    g = TEXTS["governance"]
    c = TEXTS["consult"]
    short = [f"{TEXTS['months_short'][int(m[5:]) - 1]} {m[2:4]}" for m in months]
    charts = []
    if months:
        charts.append(governance.monthly_chart_svg(g["per_month"], short, per_month))
        charts += [governance.bar_chart_svg(c[key].format(period=period.label),
                                            list(t.row_labels), list(t.row_totals))
                   for key, t in zip(("chart_by_category", "chart_by_area", "chart_by_queue"),
                                     tables, strict=True)]
    csv_link = "/ui/styring.csv" + (f"?{urlencode(period.query)}" if period.query else "")
    return render(request, "governance.html", user, status_code=422 if error else 200,
                  tables=tables, charts=charts, period=period, error=error, years=years,
                  csv_link=csv_link, asked=request.query_params)


@router.get("/ui/styring.csv")
async def governance_csv(request: Request, user: GovernanceUser, web: WebDep) -> Response:
    period, _error, _years, tables, _months, _per_month = await governance_report(
        request, web.ctx.policy)
    c = TEXTS["consult"]
    body = governance.to_csv(tables, total_label=TEXTS["governance"]["total"],
                             share_label=c["share"],
                             heading=[[c["period"], period.label]])
    return Response("\ufeff" + body, media_type="text/csv; charset=utf-8", headers={
        **SECURITY_HEADERS,
        "Content-Disposition": f'attachment; filename="ssp-styring-{period.slug}.csv"'})
