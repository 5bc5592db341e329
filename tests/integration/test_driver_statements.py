"""A one-statement transaction's hot statements on PostgreSQL run on the driver's cursor
(``store.driver_statements``): the same SQL and values SQLAlchemy sends, rows read by the
same type processors, the NUL guard and the statement tally still in the way, a driver's
error raised as SQLAlchemy's and a lost connection replaced with the pool's others; only
a statement built once, from its second run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from psycopg.types.json import Json, Jsonb
from sqlalchemy import Executable, String, TypeDecorator, bindparam, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, StatementError

from router.vocabulary import AuditAction, RowState, SystemActor
from store import driver_statements, outbox_leases, outbox_sent
from store.audit import event_parameters, make_event
from store.db import Database
from store.dialect import table
from store.inbox_statements import BEGIN_ATTEMPTS
from store.models import AuditEvent, OutboxItem
from store.outbox_leases import _claim, _still_held
from store.outbox_sent import _mark_sent, _sent_fencing_next, _with_event

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


@pytest.fixture
def pg(empty_postgres_url: str) -> Iterator[Database]:
    database = Database(empty_postgres_url, pool_size=4)
    yield database
    database.dispose()


def _event(data: dict[str, Any]) -> dict[str, Any]:
    return make_event(
        ticket_id=None,
        actor=SystemActor.DELIVER,
        action=AuditAction.OUTBOX_SENT,
        now=NOW,
        data=data,
        config_version=None,
    )


_rows = count()


def _outbox_row(db: Database, payload: dict[str, Any], state: str = "pending") -> int:
    with db.engine.begin() as conn:
        return int(
            conn.execute(
                table(OutboxItem).insert().returning(table(OutboxItem).c.id),
                {
                    "channel": "email",
                    "kind": "acknowledgement",
                    "automatic": True,
                    "recipient": "jo@example.org",
                    "payload": payload,
                    "message_id": f"<{next(_rows)}@example.org>",
                    "state": state,
                    "attempts": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "available_at": NOW,
                },
            ).scalar_one()
        )


def _hot(ids: list[int]) -> list[tuple[Executable, dict[str, Any]]]:
    """Each statement the hot paths send in ``one_statement``, with its parameters."""
    claim = {"max_attempts": 5, "at": NOW, "lease_until": NOW + LEASE, "token": "t" * 32}
    sent = {"row_id": ids[0], "held_by": "t" * 32, "external_id": "<x@y>", "at": NOW}
    event = _event({"outbox_id": ids[0], "text": "é, 中文"})
    marked = {"outbox_id": ids[0], "external_id": "<x@y>", "now": NOW, "token": "t" * 32}
    return [
        (_claim(False, False, False), {**claim, "row_id": ids[0], "holder": "h"}),
        (
            _claim(True, True, True),
            {**claim, "ids": ids, "holder": None} | {"dead_before": NOW - LEASE, "prefix": "ab"},
        ),
        (_still_held(), {"row_id": ids[0], "held_by": "t" * 32, "lease_until": NOW, "at": NOW}),
        (_mark_sent(True), marked),
        (_with_event(_mark_sent(True), "outbox_id"), {**marked, **event_parameters(event)}),
        (
            _sent_fencing_next(),
            {**sent, "next_id": ids[1], "next_held_by": None, "lease_until": NOW + LEASE},
        ),
        (BEGIN_ATTEMPTS, {"ids": ids, "lease_until": NOW + LEASE, "at": NOW}),
    ]


def test_the_hot_statements_are_sent_as_sqlalchemy_sends_them(pg: Database) -> None:
    ids = [_outbox_row(pg, {"n": 1}), _outbox_row(pg, {"n": 2})]
    engine = pg.read_engine
    sent: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        for statement, values in _hot(ids):
            compiled = driver_statements.compiled_for(
                statement, engine.dialect, tuple(sorted(values))
            )
            assert compiled is not None, statement  # each takes the driver's path
            with engine.connect() as conn:
                conn.execute(statement, values)
            sql, bound = compiled.bound(values)
            assert (sql, _comparable(bound)) == (sent[-1][0], _comparable(sent[-1][1]))
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _comparable(values: Any) -> list[Any]:
    """The values, psycopg's JSON wrappers (equal only to themselves) as what they wrap."""
    return [(type(v).__name__, v.obj) if isinstance(v, Jsonb | Json) else v for v in values]


def test_a_record_runs_on_the_driver_cursor_counted_and_without_sqlalchemy_events(
    pg: Database,
) -> None:
    first, row = _outbox_row(pg, {"n": 1}, state="sending"), _outbox_row(pg, {"n": 2}, "sending")
    with pg.one_statement() as statement:  # (its first run is SQLAlchemy's: seen_before)
        outbox_sent.mark_sent(statement, first, external_id="<x@y>", now=NOW, token=None)
    seen: list[str] = []
    event.listen(pg.read_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    tally = pg.count_statements()
    with pg.one_statement() as statement:
        recorded = outbox_sent.mark_sent(statement, row, external_id="<x@y>", now=NOW, token=None)
    assert recorded and tally.statements == 1 and tally.commits == 0
    assert seen == []  # (SQLAlchemy's execution of it would have told)
    with pg.engine.connect() as conn:  # committed as it ran
        outbox = table(OutboxItem).c
        state = select(outbox.state).where(outbox.id == row)
        assert conn.execute(state).scalar_one() == RowState.DONE.value


def test_the_rows_come_back_through_the_column_types(pg: Database) -> None:
    payload = {"subject": "é 中文", "to": ["a@example.org"], "n": 3}
    row = _outbox_row(pg, payload)
    with pg.one_statement() as statement:
        claimed = outbox_leases.claim(statement, [row], now=NOW, lease=LEASE, holder="h")
    assert claimed[row].payload == payload and claimed[row].recipient == "jo@example.org"
    with pg.one_statement() as statement:  # a time stamp with its zone, read as UTC
        at = statement.execute(select(table(OutboxItem).c.available_at)).all()
    assert at == [(NOW + LEASE,)] and at[0][0].tzinfo is not None


def test_an_event_written_with_the_record_keeps_its_json(pg: Database) -> None:
    row = _outbox_row(pg, {"n": 1}, state="sending")
    data = {"outbox_id": row, "text": "é 中文", "nested": {"list": [1, None, True]}}
    event_ = _event(data)
    with pg.one_statement() as statement:
        assert outbox_sent.mark_sent(
            statement, row, external_id="<x@y>", now=NOW, token=None, event=event_
        )
    with pg.engine.connect() as conn:
        events = table(AuditEvent).c
        stored = conn.execute(select(events.data, events.created_at)).one()
    assert stored == (data, NOW)


def test_a_nul_in_a_value_is_removed_on_the_driver_path(pg: Database) -> None:
    row = _outbox_row(pg, {"n": 1}, state="sending")
    with pg.one_statement() as statement:
        outbox_sent.mark_sent(statement, row, external_id="<a\x00b@y>", now=NOW, token=None)
    with pg.engine.connect() as conn:
        assert conn.execute(select(table(OutboxItem).c.external_id)).scalar_one() == "<ab@y>"


def _terminated(db: Database, pids: list[int]) -> None:
    with db.engine.connect() as other:
        for pid in pids:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        for _ in range(100):  # until they are gone
            alive = other.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": pids}
            ).scalar_one()
            if not alive:
                return
            time.sleep(0.05)


def test_a_driver_error_is_sqlalchemys_and_a_lost_connection_drops_the_pools_others(
    pg: Database,
) -> None:
    row = _outbox_row(pg, {"n": 1})
    with pytest.raises(IntegrityError), pg.one_statement() as statement:  # the same id
        statement.execute(_with_id(), {"id": row, "message_id": "<other@example.org>"})

    def record() -> None:
        with pg.one_statement() as statement:
            assert not outbox_sent.mark_sent(
                statement, row, external_id="<x@y>", now=NOW, token="t"
            )

    record()
    record()  # seen before: on the driver's cursor from now on
    with ExitStack() as held:  # three pooled connections, every one's backend ended
        pooled = [held.enter_context(pg.read_engine.connect()) for _ in range(3)]
        pids = [conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for conn in pooled]
    _terminated(pg, pids)
    lost = 0
    for _ in range(5):  # the first finds its connection lost and the pool's others dropped
        try:
            record()
        except DBAPIError as error:
            assert error.connection_invalidated
            lost += 1
    assert lost == 1


def test_a_driver_connection_closed_in_the_pool_is_sqlalchemys_error(pg: Database) -> None:
    row = _outbox_row(pg, {"n": 1})
    for _ in range(2):  # seen before: the driver's path
        with pg.one_statement() as statement:
            outbox_sent.mark_sent(statement, row, external_id="<x@y>", now=NOW, token="t")
    with pg.read_engine.connect() as conn:  # the pool's one connection
        raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.close()  # closed while idle in the pool
    with pytest.raises(OperationalError) as raised, pg.one_statement() as statement:
        outbox_sent.mark_sent(statement, row, external_id="<x@y>", now=NOW, token="t")
    assert raised.value.connection_invalidated
    with pg.one_statement() as statement:  # a new connection in its place
        assert not outbox_sent.mark_sent(statement, row, external_id="<x@y>", now=NOW, token="t")


class _Refused(TypeDecorator[str]):
    """A type whose bind processor refuses every value."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str:
        raise ValueError(f"refused: {value}")


_REFUSED = select(bindparam("value", type_=_Refused()))


def test_a_bind_processors_error_is_a_statement_error_on_both_paths(pg: Database) -> None:
    for _ in range(2):  # through SQLAlchemy, then on the driver's cursor
        with pytest.raises(StatementError) as raised, pg.one_statement() as statement:
            statement.execute(_REFUSED, {"value": "x"})
        assert isinstance(raised.value.orig, ValueError)
    dialect = pg.read_engine.dialect
    assert driver_statements.compiled_for(_REFUSED, dialect, ("value",)) is not None


_RETURNING = text("UPDATE outbox SET attempts = attempts + 1 RETURNING id, attempts")


def test_a_text_statements_rows_come_back_on_the_driver_path(pg: Database) -> None:
    row = _outbox_row(pg, {"n": 1})
    for attempts in (1, 2, 3):  # the first through SQLAlchemy, then the driver's cursor
        with pg.one_statement() as statement:
            assert list(statement.execute(_RETURNING).all()) == [(row, attempts)]
    assert driver_statements.compiled_for(_RETURNING, pg.read_engine.dialect, ()) is not None


def test_a_statement_built_at_each_call_is_never_compiled_by_the_driver_path(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = _outbox_row(pg, {"n": 1})
    compiled: list[Executable] = []
    compile_ = driver_statements._compiled

    def counted(statement: Executable, *rest: Any) -> Any:
        compiled.append(statement)
        return compile_(statement, *rest)

    monkeypatch.setattr(driver_statements, "_compiled", counted)
    outbox = table(OutboxItem).c
    for _ in range(3):
        with pg.one_statement() as statement:
            built = select(outbox.id).where(outbox.id == row)  # a new object at each call
            assert statement.execute(built).all() == [(row,)]
    assert compiled == []
    once = select(outbox.state).where(outbox.id == bindparam("row_id"))
    for _ in range(3):
        with pg.one_statement() as statement:
            assert statement.execute(once, {"row_id": row}).all() == [("pending",)]
    assert compiled == [once]  # at its second run, once


def _with_id() -> Executable:
    outbox = table(OutboxItem)
    return outbox.insert().values(
        channel="email",
        kind="acknowledgement",
        automatic=True,
        recipient="jo@example.org",
        payload={},
        state="pending",
        attempts=0,
        created_at=NOW,
        updated_at=NOW,
        available_at=NOW,
    )
