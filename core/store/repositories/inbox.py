"""The consultant's inbox as pages: newest arrival first, narrowed by status and by a search
over what the inbox shows (event id, category, agency, area, queue, status), with the counts
per status and numbered pages both ways."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.store.rows import aware
from core.store.tables import concern_status, concerns


@dataclass(frozen=True)
class InboxSearch:
    """What to match: ``event_id`` as a substring of the id, and the codes (not labels) each
    shown field may have. A concern matches if any one of them matches; an empty search
    matches every concern."""

    event_id: str | None = None
    categories: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.event_id or self.categories or self.agencies or self.areas
                    or self.queues or self.statuses)


@dataclass(frozen=True)
class InboxPage:
    """One numbered page (from 1) of the inbox; ``counts`` per status and ``total`` are over
    the whole search, before the status filter; ``matching`` after it."""

    items: list[dict[str, Any]]
    page: int
    pages: int
    matching: int
    total: int
    counts: dict[str, int] = field(default_factory=dict)


def _payload_field(engine: Engine, *path: str) -> sa.ColumnElement[Any]:
    """A text field inside the concern's JSON payload, in this database's dialect."""
    if engine.dialect.name == "postgresql":
        return sa.func.json_extract_path_text(sa.cast(concerns.c.payload, sa.JSON), *path)
    return sa.func.json_extract(concerns.c.payload, "$." + ".".join(path))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class InboxRepository:
    engine: Engine

    def inbox_search_page(self, *, queues: Sequence[str], status: str | None,
                          search: InboxSearch, page: int, per_page: int) -> InboxPage:
        """Concerns in ``queues`` matching ``search`` (and ``status``), newest arrival first,
        each with ``_status`` (its case status, "ny" when none was set) and ``_received_at``
        (when the hub stored it). A page past the last gives the last."""
        current = sa.func.coalesce(concern_status.c.status, "ny")
        joined = concerns.outerjoin(concern_status, sa.and_(
            concern_status.c.event_id == concerns.c.event_id,
            concern_status.c.queue == concerns.c.queue))
        where: sa.ColumnElement[bool] = concerns.c.queue.in_(list(queues))
        if not search.empty:
            where = where & sa.or_(*self._matches(search, current))
        counted = (sa.select(current.label("status"), sa.func.count().label("n"))
                   .select_from(joined).where(where).group_by(current))
        with self.engine.connect() as conn:
            counts = {str(r.status): int(r.n) for r in conn.execute(counted)}
            matching = counts.get(status, 0) if status is not None else sum(counts.values())
            pages = max(1, -(-matching // per_page))
            page = min(max(page, 1), pages)
            # By the time shown (when the hub stored it), then arrival order within a batch;
            # the page's rows are picked by their keys first, so only those are read whole.
            order = (concerns.c.routed_at.desc(), concerns.c.seq.desc())
            keys = sa.select(concerns.c.seq).select_from(joined).where(where)
            if status is not None:
                keys = keys.where(current == status)
            picked = keys.order_by(*order).limit(per_page).offset((page - 1) * per_page) \
                .subquery()
            stmt = (sa.select(concerns.c.payload, concerns.c.routed_at, current.label("status"))
                    .select_from(joined.join(picked, picked.c.seq == concerns.c.seq))
                    .order_by(*order))
            rows = conn.execute(stmt).all()
        items = [{**json.loads(r.payload), "_status": r.status,
                  "_received_at": aware(r.routed_at)} for r in rows]
        return InboxPage(items=items, page=page, pages=pages, matching=matching,
                         total=sum(counts.values()), counts=counts)

    def _matches(self, search: InboxSearch, current: sa.ColumnElement[Any]
                 ) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if search.event_id:
            found.append(concerns.c.event_id.like(f"%{_escape_like(search.event_id)}%",
                                                  escape="\\"))
        if search.categories:
            found.append(_payload_field(self.engine, "category").in_(search.categories))
        if search.agencies:
            found.append(_payload_field(self.engine, "source", "agency").in_(search.agencies))
        if search.areas:
            found.append(_payload_field(self.engine, "area").in_(search.areas))
        if search.queues:
            found.append(concerns.c.queue.in_(search.queues))
        if search.statuses:
            found.append(current.in_(search.statuses))
        return found
