"""Many rows in one statement whose SQL text does not depend on how many there are.

The worker writes its batches (up to a thousand events) into a handful of tables. With
SQLAlchemy's default on PostgreSQL an ``INSERT … RETURNING`` of N rows is rendered as one
VALUES list of N × columns bind parameters, and an ``IN`` of N ids as N parameters: every
batch size is a new SQL text, which psycopg parses again in Python (``_split_query``, several
milliseconds for a thousand rows) and the server plans again; a plain executemany pays a
round of psycopg's pipeline bookkeeping per row. Here, on PostgreSQL, the rows travel as
**one JSON parameter** that the server unpacks:

    INSERT INTO t (a, b) SELECT v."a", v."b"
    FROM json_to_recordset(CAST(%(bulk_rows)s AS json)) AS v("a" TEXT, "b" TIMESTAMPTZ)
    ON CONFLICT (a) DO NOTHING RETURNING t.a

— the same text for every batch (psycopg parses it once and prepares it on the server), and
the rows are encoded by the C JSON encoder. (psycopg's array parameters were tried first:
their text dumper escapes each element with a Python regex, slower than what it replaced.)
``column = ANY(…)`` does the same for ``IN``. SQLite keeps SQLAlchemy's executemany, which is
cheap there. ``bench.costs`` measures both.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

# (the dialect's Insert statement) → the SET clause / WHERE of ``ON CONFLICT DO UPDATE``
Update = Callable[[Any], dict[str, Any]]
Where = Callable[[Any], Any]


def insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *,
           keys: Sequence[str] = (), update: Update | None = None, where: Where | None = None,
           returning: Sequence[sa.Column[Any]] = ()) -> list[sa.Row[Any]]:
    """``INSERT`` of ``rows`` (dicts with the same keys); with ``keys`` ``ON CONFLICT (keys)
    DO NOTHING`` — or ``DO UPDATE SET update(ins) [WHERE where(ins)]``; returning
    ``returning`` of the rows inserted or updated (in no particular order). On PostgreSQL a
    key may appear once only when ``update`` is given (one command cannot update a row
    twice)."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        ins: Any = postgresql.insert(table).from_select(list(rows[0]),
                                                        _recordset(conn, table, rows))
    elif conn.dialect.name == "sqlite":
        ins = sqlite.insert(table)
    else:  # pragma: no cover - only the two supported dialects are configured
        raise NotImplementedError(conn.dialect.name)
    if not keys:
        stmt = ins
    elif update is None:
        stmt = ins.on_conflict_do_nothing(index_elements=list(keys))
    else:
        stmt = ins.on_conflict_do_update(index_elements=list(keys), set_=update(ins),
                                         where=None if where is None else where(ins))
    if returning:
        stmt = stmt.returning(*returning)
    if conn.dialect.name == "postgresql":
        result = conn.execute(stmt)
    else:
        result = conn.execute(stmt, list(rows))
    return list(result.all()) if returning else []


def update(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *,
           key: str) -> None:
    """``UPDATE table SET … WHERE key = …`` for each of ``rows`` (dicts with the same keys,
    ``key`` among them); on PostgreSQL one ``UPDATE … FROM json_to_recordset(…)``."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if conn.dialect.name == "postgresql":
        doc = sa.cast(sa.bindparam("bulk_rows", _json_rows(rows), type_=sa.Text),
                      postgresql.JSON)
        v = sa.func.json_to_recordset(doc).table_valued(
            *[sa.column(c, table.c[c].type) for c in rows[0]]
        ).render_derived(name="v", with_types=True)
        conn.execute(table.update().where(table.c[key] == v.c[key])
                     .values({c: v.c[c] for c in columns}))
        return
    conn.execute(table.update().where(table.c[key] == sa.bindparam(f"b_{key}")),
                 [{f"b_{key}": r[key], **{c: r[c] for c in columns}} for r in rows])


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([{c: _json_value(v) for c, v in r.items()} for r in rows],
                      ensure_ascii=False, separators=(",", ":"))


def _recordset(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]
               ) -> Any:  # a Select of as many columns as the rows have
    """``SELECT v.… FROM json_to_recordset(:bulk_rows) AS v(… typed as the table's columns)``."""
    columns = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote_identifier
    typed = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=conn.dialect)}"
                      for c in columns)
    source = sa.text(f"json_to_recordset(CAST(:bulk_rows AS json)) AS v({typed})").bindparams(
        bulk_rows=_json_rows(rows))
    return sa.select(*[sa.literal_column(f"v.{quote(c)}") for c in columns]).select_from(source)


def _json_value(value: Any) -> Any:
    """A column value as PostgreSQL reads it back from JSON text into the column's type."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return value


def among(conn: sa.Connection, column: sa.Column[Any], values: Sequence[str]
          ) -> sa.ColumnElement[bool]:
    """``column IN values`` (text values): on PostgreSQL the values as one JSON parameter."""
    if conn.dialect.name == "postgresql":
        name = f"among_{column.name}"
        elements = sa.text(f"json_array_elements_text(CAST(:{name} AS json)) AS a(value)")
        return column.in_(sa.select(sa.literal_column("a.value")).select_from(
            elements.bindparams(**{name: json.dumps(list(values))})))
    return column.in_(list(values))
