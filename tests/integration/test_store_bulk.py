"""core/store/bulk.py on the database the suite runs on (SQLite by default, PostgreSQL with
``--database postgres``, as ``make test-kafka`` runs it): the worker's batch writes keep every
value exactly, skip or update conflicting rows as asked and return exactly the rows they
wrote, whatever the batch size."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.store import Store, bulk
from core.store.engine import STORE_UNAVAILABLE
from core.store.tables import aggregate_events, concerns, events, log_tiles

AWKWARD = 'quote " backslash \\ newline \n tab \t æøå 😀 {"json": [1]} \u200b'


@pytest.fixture
def store(database_url: str | None, tmp_path: Path) -> Iterator[Store]:
    if database_url is None:
        url = f"sqlite:///{tmp_path / 'bulk.db'}"
    else:
        name = f"bulk_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = sa.engine.make_url(database_url).set(database=name).render_as_string(
            hide_password=False)
    opened = Store.open(url)
    try:
        yield opened
    finally:
        opened.close()


def concern_row(event_id: str, queue: str, at: dt.datetime, payload: str = "{}"
                ) -> dict[str, object]:
    return {"event_id": event_id, "queue": queue, "pseudonym": "ssp1:abc",
            "payload": payload, "occurred_at": at, "routed_at": at}


@pytest.mark.parametrize("size", [1, 7, 1200])
def test_insert_returns_exactly_the_new_rows_and_keeps_every_value(store: Store,
                                                                    size: int) -> None:
    at = dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
    ids = [str(uuid.uuid4()) for _ in range(size)]
    with store.engine.begin() as conn:
        bulk.insert(conn, concerns, [concern_row(ids[0], "infohus", at)],
                    keys=["event_id", "queue"])
    rows = [concern_row(e, "infohus", at + dt.timedelta(seconds=i), f"{AWKWARD} {i}")
            for i, e in enumerate(ids)]
    rows.append(concern_row(ids[-1], "infohus", at))  # the same key twice in one batch
    with store.engine.begin() as conn:
        new = bulk.insert(conn, concerns, rows, keys=["event_id", "queue"],
                          returning=[concerns.c.event_id])
    assert sorted(r.event_id for r in new) == sorted(ids[1:])
    with store.engine.connect() as conn:
        stored = {r.event_id: r for r in conn.execute(sa.select(concerns))}
    assert len(stored) == size
    for i, event_id in enumerate(ids[1:], start=1):
        assert stored[event_id].payload == f"{AWKWARD} {i}"
        when = stored[event_id].occurred_at
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        assert when == at + dt.timedelta(seconds=i)


def test_update_where_changes_only_the_rows_it_allows(store: Store) -> None:
    first = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    later = first + dt.timedelta(hours=1)

    def mark(ids: list[str], when: dt.datetime) -> set[str]:
        with store.engine.begin() as conn:
            return {r.event_id for r in bulk.insert(
                conn, aggregate_events,
                [{"event_id": e, "first_routed_at": when, "routed": False, "accepted_at": None}
                 for e in ids],
                keys=["event_id"],
                update=lambda ins: {"first_routed_at": ins.excluded.first_routed_at},
                where=lambda _ins: aggregate_events.c.first_routed_at.is_(None),
                returning=[aggregate_events.c.event_id])}

    assert mark(["a", "b"], first) == {"a", "b"}
    assert mark(["a", "b", "c"], later) == {"c"}  # a and b had theirs: left alone
    with store.engine.connect() as conn:
        got = {r.event_id: r.first_routed_at for r in conn.execute(sa.select(aggregate_events))}
    assert {k: (v if v.tzinfo else v.replace(tzinfo=dt.UTC)) for k, v in got.items()} == {
        "a": first, "b": first, "c": later}


def test_bytes_round_trip_and_among_finds_exactly_the_listed(store: Store) -> None:
    blobs = [bytes([i % 256, 0, 255, 92, 34]) * (i % 40 + 1) for i in range(300)]
    with store.engine.begin() as conn:
        bulk.insert(conn, log_tiles, [{"level": 1, "idx": i, "hash": b}
                                      for i, b in enumerate(blobs)])
    with store.engine.connect() as conn:
        stored = {r.idx: bytes(r.hash) for r in conn.execute(sa.select(log_tiles))}
    assert stored == dict(enumerate(blobs))

    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    ids = [f"id-{i}" for i in range(50)] + ['odd "id" \\ ,{}']
    with store.engine.begin() as conn:
        bulk.insert(conn, concerns, [concern_row(e, "q", at) for e in ids],
                    keys=["event_id", "queue"])
        wanted = [*ids[::7], "never-stored"]
        found = {r.event_id for r in conn.execute(
            sa.select(concerns.c.event_id).where(bulk.among(conn, concerns.c.event_id, wanted)))}
    assert found == set(ids[::7])


def test_update_sets_each_row_its_own_values(store: Store) -> None:
    at = dt.datetime(2026, 3, 1, 8, 0, 0, 1, tzinfo=dt.UTC)
    ids = [f"e-{i}" for i in range(40)]
    with store.engine.begin() as conn:
        bulk.insert(conn, events, [{"event_id": e, "agency": "school", "status": "pending",
                                    "queues": "[]", "rule_ids": "[]", "accepted_at": at}
                                   for e in ids])
        bulk.update(conn, events, [{"event_id": e, "status": "routed", "reason": AWKWARD + e,
                                    "decided_at": at + dt.timedelta(minutes=i)}
                                   for i, e in enumerate(ids[::2])], key="event_id")
    with store.engine.connect() as conn:
        got = {r.event_id: r for r in conn.execute(sa.select(events))}
    for i, e in enumerate(ids):
        row = got[e]
        if i % 2:
            assert (row.status, row.reason, row.decided_at) == ("pending", None, None)
        else:
            decided = row.decided_at if row.decided_at.tzinfo else \
                row.decided_at.replace(tzinfo=dt.UTC)
            assert (row.status, row.reason) == ("routed", AWKWARD + e)
            assert decided == at + dt.timedelta(minutes=i // 2)


def event_row(event_id: str, at: dt.datetime) -> dict[str, object]:
    return {"event_id": event_id, "agency": "school", "status": "pending", "queues": "[]",
            "rule_ids": "[]", "accepted_at": at}


def test_a_pipelined_transaction_reads_each_result_in_order_and_commits_at_its_end(
        store: Store) -> None:
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    ids = [f"p-{i:02d}" for i in range(30)]
    with store.engine.begin() as conn, bulk.pipelined(conn):
        # Not read: sent without waiting (on PostgreSQL). The statements after it see it.
        bulk.insert(conn, events, [event_row(e, at) for e in ids[:20]], keys=["event_id"])
        new = bulk.insert(conn, events, [event_row(e, at) for e in ids], keys=["event_id"],
                          returning=[events.c.event_id])
        bulk.update(conn, events, [{"event_id": e, "status": "routed"} for e in ids[::3]],
                    key="event_id")
        locked = bulk.select_in(conn, [events.c.event_id, events.c.status],
                                events.c.event_id, [*ids[:6], "never-stored"], lock=True)
        with store.engine.connect() as other:  # another connection: nothing committed yet
            assert other.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0
    assert sorted(r.event_id for r in new) == ids[20:]
    assert [(r.event_id, r.status) for r in locked] == [
        (e, "routed" if i % 3 == 0 else "pending") for i, e in enumerate(ids[:6])]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 30


def test_an_error_in_a_pipelined_transaction_is_sqlalchemys_and_nothing_of_it_stays(
        store: Store) -> None:
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    with store.engine.begin() as conn:
        bulk.insert(conn, events, [event_row("taken", at)])

    def duplicate() -> None:
        with store.engine.begin() as conn, bulk.pipelined(conn):
            bulk.insert(conn, concerns, [concern_row("c-1", "infohus", at)])
            bulk.insert(conn, events, [event_row("taken", at)])  # no ON CONFLICT: a duplicate
            bulk.insert(conn, concerns, [concern_row("c-2", "infohus", at)],
                        returning=[concerns.c.event_id])

    with pytest.raises(sa.exc.IntegrityError):
        duplicate()
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(concerns)).scalar() == 0
        assert conn.execute(sa.select(events.c.event_id)).scalars().all() == ["taken"]


def test_a_connection_lost_in_a_pipelined_transaction_is_store_unavailable(
        store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs the block as it is: no connection to lose")
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)

    def lose_the_connection() -> None:
        with store.engine.begin() as conn, bulk.pipelined(conn):
            bulk.insert(conn, events, [event_row("lost", at)])
            pid = conn.connection.driver_connection.info.backend_pid  # type: ignore[union-attr]
            with store.engine.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            bulk.insert(conn, events, [event_row("lost-too", at)],
                        returning=[events.c.event_id])

    with pytest.raises(STORE_UNAVAILABLE):
        lose_the_connection()
    with store.engine.begin() as conn:  # the pool hands out a working connection again
        bulk.insert(conn, events, [event_row("after", at)])
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(events.c.event_id)).scalars().all() == ["after"]


def test_sqlalchemys_own_execute_is_refused_inside_a_pipelined_transaction(
        store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs the block as it is")

    def select_inside() -> None:
        with store.engine.begin() as conn, bulk.pipelined(conn):
            conn.execute(sa.select(events.c.event_id))  # would read no rows in pipeline mode

    with pytest.raises(RuntimeError, match=r"inside bulk\.pipelined"):
        select_inside()
    with store.engine.connect() as conn:  # the connection went back to the pool usable
        assert conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0


def test_a_batchs_lookups_and_updates_read_the_index_not_the_whole_table(
        store: Store, database_url: str | None) -> None:
    """On PostgreSQL the planner guesses 100 rows for a JSON parameter's set; joined to that
    guess, a table of a few thousand rows was read whole for every batch (a sequential scan
    of 8,764 events, 3.9 ms, for ten ids). Each statement must find its ten rows by index."""
    if database_url is None:
        pytest.skip("PostgreSQL's planner")
    at = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    ids = [f"plan-{i:05d}" for i in range(5000)]
    with store.engine.begin() as conn:
        bulk.insert(conn, events, [event_row(e, at) for e in ids])
        bulk.insert(conn, concerns, [concern_row(e, "q", at) for e in ids])
        conn.exec_driver_sql("ANALYZE events")
        conn.exec_driver_sql("ANALYZE concerns")
    sent: list[tuple[str, dict[str, object]]] = []

    def seen(_conn: object, _cursor: object, statement: str, parameters: object,
             *_rest: object) -> None:
        sent.append((statement, dict(parameters)))  # type: ignore[call-overload]

    wanted = ids[100:5000:490]
    with store.engine.connect() as conn:
        sa.event.listen(conn, "before_cursor_execute", seen)
        with conn.begin():
            bulk.select_in(conn, [events.c.event_id, events.c.status], events.c.event_id,
                           wanted, lock=True)
            bulk.update(conn, events, [{"event_id": e, "status": "routed"} for e in wanted],
                        key="event_id")
            conn.execute(sa.select(concerns.c.event_id).where(
                bulk.among(conn, concerns.c.event_id, wanted))).all()
        sa.event.remove(conn, "before_cursor_execute", seen)
        assert len(sent) == 3
        for statement, parameters in sent:
            plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan
