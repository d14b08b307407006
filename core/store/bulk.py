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
the rows are encoded by orjson. (psycopg's array parameters were tried first:
their text dumper escapes each element with a Python regex, slower than what it replaced.)
``column = ANY(…)`` does the same for ``IN``. SQLite keeps SQLAlchemy's executemany, which is
cheap there. ``bench.costs`` measures both.

A lookup among the JSON's values, or an ``UPDATE`` joined to its rows, names the keys as
``key = ANY(ARRAY(SELECT … FROM json_…(…)))``: PostgreSQL plans that as an index scan for
a handful of keys. Joined to the set-returning function itself (``key IN (SELECT …)``, ``FROM
json_to_recordset(…) WHERE key = v.key``) the planner takes its fixed guess of 100 rows, and
below ~10,000–20,000 rows in the table a sequential scan is the cheaper plan for 100 keys: on an
events table of 8,764 rows the route stage's locking read of ten events took 3.9 ms instead of
0.3 ms, its update 3.6 ms instead of 0.4 — each batch's cost growing with the table.

:func:`pipelined` sends a whole transaction of these statements in psycopg's pipeline mode: a
statement whose result is not read travels with the next one that is, BEGIN with the first and
COMMIT with the last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, cast

import orjson
import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row
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
        return _pg_insert(conn, table, rows, keys, update, where, returning)
    if conn.dialect.name != "sqlite":  # pragma: no cover - only two dialects are configured
        raise NotImplementedError(conn.dialect.name)
    stmt = _upsert(sqlite.insert(table), keys, update, where, returning)
    result = conn.execute(stmt, list(rows))
    return list(result.all()) if returning else []


def _upsert(ins: Any, keys: Sequence[str], update: Update | None, where: Where | None,
            returning: Sequence[sa.Column[Any]]) -> Any:
    if not keys:
        stmt = ins
    elif update is None:
        stmt = ins.on_conflict_do_nothing(index_elements=list(keys))
    else:
        stmt = ins.on_conflict_do_update(index_elements=list(keys), set_=update(ins),
                                         where=None if where is None else where(ins))
    if returning:
        stmt = stmt.returning(*returning)
    return stmt


# PostgreSQL ``INSERT``s compiled once per shape (table, columns, conflict handling, what they
# return) and sent as SQL text with the rows' one JSON parameter: SQLAlchemy's building,
# cache-key and compile-cache lookup cost ~1 ms a statement, several per batch of the route
# stage's one transaction (``bench.costs``). Values the statement holds as constants (a
# ``True`` in an ``ON CONFLICT … SET``) are kept with its text.
_PG_INSERTS: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}


def _pg_insert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
               keys: Sequence[str], update: Update | None, where: Where | None,
               returning: Sequence[sa.Column[Any]]) -> list[sa.Row[Any]]:
    update_code, where_code = _same_code(update), _same_code(where)
    cacheable = update_code is not None and where_code is not None
    shape = (conn.dialect, table, tuple(rows[0]), tuple(keys), update_code, where_code,
             tuple(returning))
    known = _PG_INSERTS.get(shape) if cacheable else None
    if known is None:
        select = _recordset(conn.dialect, table, list(rows[0]))
        stmt = _upsert(postgresql.insert(table).from_select(list(rows[0]), select),
                       keys, update, where, returning)
        compiled = stmt.compile(dialect=conn.dialect)
        known = (str(compiled), {k: v for k, v in compiled.params.items() if k != "bulk_rows"})
        if cacheable:
            _PG_INSERTS[shape] = known
    sql, constants = known
    return _run(conn, sql, {**constants, "bulk_rows": _json_rows(rows)}, bool(returning))


def _same_code(fn: Callable[..., Any] | None) -> tuple[Any, ...] | None:
    """What makes two ``update``/``where`` callables build the same clause: their code and
    what they close over (module-level tables, say). None (not cacheable) if a closed-over
    value cannot be a dictionary key."""
    if fn is None:
        return ()
    code = getattr(fn, "__code__", None)
    cells = tuple(c.cell_contents for c in (getattr(fn, "__closure__", None) or ()))
    try:
        hash(cells)
    except TypeError:
        return None
    return None if code is None else (code, cells)


def update(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], *,
           key: str) -> None:
    """``UPDATE table SET … WHERE key = …`` for each of ``rows`` (dicts with the same keys,
    ``key`` among them); on PostgreSQL one ``UPDATE … FROM json_to_recordset(…)``."""
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if conn.dialect.name == "postgresql":
        def build() -> Any:
            doc = sa.cast(sa.bindparam("bulk_rows", type_=sa.Text), postgresql.JSON)
            v = sa.func.json_to_recordset(doc).table_valued(
                *[sa.column(c, table.c[c].type) for c in rows[0]]
            ).render_derived(name="v", with_types=True)
            keys = _recordset(conn.dialect, table, [key], alias="k")
            return table.update().where(table.c[key] == v.c[key]).where(
                _any_of(table.c[key], keys)).values({c: v.c[c] for c in columns})
        statement(conn, ("update", table, tuple(rows[0]), key), build,
                  {"bulk_rows": _json_rows(rows)})
        return
    conn.execute(table.update().where(table.c[key] == sa.bindparam(f"b_{key}")),
                 [{f"b_{key}": r[key], **{c: r[c] for c in columns}} for r in rows])


def select_in(conn: sa.Connection, columns: Sequence[sa.Column[Any]], key: sa.Column[Any],
              values: Sequence[str], *, lock: bool = False) -> list[Any]:
    """``SELECT columns … WHERE key IN values ORDER BY key`` (text values; on PostgreSQL
    ``key = ANY(…)`` of one JSON parameter), with ``lock`` ``FOR UPDATE``: the rows, then
    locked for the rest of the transaction in key order."""
    def build(where: Any) -> Any:
        stmt = sa.select(*columns).where(where).order_by(key)
        return stmt.with_for_update() if lock else stmt
    if conn.dialect.name != "postgresql":
        return list(conn.execute(build(key.in_(list(values)))))
    return statement(conn, ("select_in", tuple(columns), key, lock),
                     lambda: build(_any_of(key, _json_values("among"))),
                     {"among": json.dumps(list(values))}, fetch=True)


def statement(conn: sa.Connection, shape: Hashable, build: Callable[[], Any],
              params: dict[str, Any] | None = None, *, fetch: bool = False) -> list[Any]:
    """Run the statement ``build()`` makes (the same one for every call with this ``shape``,
    its bind parameters named as in ``params``); its rows if ``fetch``. On PostgreSQL it is
    compiled once and goes the way of this module's other statements, so it may run inside
    :func:`pipelined`. Values the statement holds itself (a ``LIMIT 1``) are kept with it."""
    if conn.dialect.name != "postgresql":
        result = conn.execute(build(), params or {})
        return list(result.all()) if fetch else []
    cache_key = (conn.dialect, shape)
    known = _PG_STATEMENTS.get(cache_key)
    if known is None:
        compiled = build().compile(dialect=conn.dialect)
        known = _PG_STATEMENTS[cache_key] = (str(compiled), dict(compiled.params))
    sql, constants = known
    return _run(conn, sql, {**constants, **(params or {})}, fetch)


_PG_STATEMENTS: dict[tuple[Any, ...], tuple[str, dict[str, Any]]] = {}

# ``Connection.info`` key: the psycopg connection while :func:`pipelined` runs on it.
_PIPELINE = "ssp_hub.bulk.pipeline"


@contextlib.contextmanager
def pipelined(conn: sa.Connection) -> Iterator[None]:
    """Run the block — the whole of ``conn``'s transaction, this module's statements only —
    in psycopg's pipeline mode on PostgreSQL, and commit it at the end.

    A statement whose result is not read (no ``returning``, :func:`update`) is sent without
    waiting and travels with the next one whose result is read; BEGIN goes with the first,
    COMMIT with the last. The route stage's transaction took eleven round trips; this way, six.
    (SQLAlchemy's own ``execute`` cannot be used inside: it reads a statement's result before
    the server has sent it.) A database error is raised as SQLAlchemy's, the same as outside.
    Elsewhere than on PostgreSQL the block runs as it is."""
    if conn.dialect.name != "postgresql":
        yield
        return
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    conn.info[_PIPELINE] = raw
    sa.event.listen(conn, "before_cursor_execute", _not_in_a_pipeline)
    try:
        with raw.pipeline():
            yield
            raw.commit()  # (SQLAlchemy's own commit then finds nothing left to do)
    except psycopg.Error as exc:
        gone = conn.dialect.is_disconnect(cast(Any, exc), cast(Any, raw), None)
        raise sa.exc.DBAPIError.instance(None, None, exc, psycopg.Error, hide_parameters=True,
                                         connection_invalidated=gone,
                                         dialect=conn.dialect) from exc
    finally:
        sa.event.remove(conn, "before_cursor_execute", _not_in_a_pipeline)
        conn.info.pop(_PIPELINE, None)


def _not_in_a_pipeline(*_args: Any) -> None:
    raise RuntimeError("SQLAlchemy's execute inside bulk.pipelined (it would read no rows): "
                       "use this module's functions there")


def _run(conn: sa.Connection, sql: str, params: dict[str, Any], fetch: bool) -> list[Any]:
    """One statement of this module's (SQL text in the driver's paramstyle): its rows if
    ``fetch``. Inside :func:`pipelined` it goes out on the raw connection's pipeline."""
    raw = conn.info.get(_PIPELINE)
    if raw is None:
        result = conn.exec_driver_sql(sql, params)
        return list(result.all()) if fetch else []
    cur = raw.cursor(row_factory=namedtuple_row)
    cur.execute(sql, params)
    return cur.fetchall() if fetch else []


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    # orjson writes times itself (ISO 8601, as PostgreSQL reads them back) and calls back only
    # for bytes. The standard library's C encoder called back for every time, a Python call
    # each: 80 concern rows took 400 µs there, 48 µs here, the same text.
    return orjson.dumps(rows, default=_json_value).decode("utf-8")


def _recordset(dialect: sa.Dialect, table: sa.Table, columns: Sequence[str], alias: str = "v"
               ) -> Any:  # a Select of as many columns as the rows have
    """``SELECT v.… FROM json_to_recordset(:bulk_rows) AS v(… typed as the table's columns)``;
    the rows are bound when the statement runs."""
    quote = dialect.identifier_preparer.quote_identifier
    typed = ", ".join(f"{quote(c)} {table.c[c].type.compile(dialect=dialect)}"
                      for c in columns)
    source = sa.text(f"json_to_recordset(CAST(:bulk_rows AS json)) AS {alias}({typed})")
    return sa.select(*[sa.literal_column(f"{alias}.{quote(c)}") for c in columns]
                     ).select_from(source)


def _any_of(column: sa.Column[Any], values: Any) -> sa.ColumnElement[bool]:
    """``column = ANY(ARRAY(values))`` for a one-column Select ``values``: an index scan for a
    batch's keys whatever the table's size (the module's docstring says why not ``IN``)."""
    return column == sa.any_(sa.func.array(values.scalar_subquery()))


def _json_value(value: Any) -> Any:
    """A column value JSON has no type for, as PostgreSQL reads it back from JSON text into
    the column's type (the encoder's ``default``)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"no JSON form for a {type(value).__name__} column value")


def among(conn: sa.Connection, column: sa.Column[Any], values: Sequence[str]
          ) -> sa.ColumnElement[bool]:
    """``column IN values`` (text values): on PostgreSQL the values as one JSON parameter."""
    if conn.dialect.name == "postgresql":
        return _any_of(column, _json_values(f"among_{column.name}", values))
    return column.in_(list(values))


def _json_values(name: str, values: Sequence[str] | None = None) -> Any:
    """``SELECT a.value FROM json_array_elements_text(:name)``: text values sent as one JSON
    parameter ``name`` (bound to ``values`` here, if given)."""
    elements = sa.text(f"json_array_elements_text(CAST(:{name} AS json)) AS a(value)")
    if values is not None:
        elements = elements.bindparams(**{name: json.dumps(list(values))})
    return sa.select(sa.literal_column("a.value")).select_from(elements)
