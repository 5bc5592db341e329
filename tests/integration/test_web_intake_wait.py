"""A POST's wait for its ticket costs next to nothing when the desk is behind: it is woken
by the ticket being made (in process, or by PostgreSQL's NOTIFY from another process)
instead of polling, and it does not wait at all behind a backlog."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from connectors.web.app import create_app
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from store.db import Database
from store.models import InboxItem
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.web_fakes import ticket_json
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database

pytestmark = pytest.mark.integration

WAIT_S = "20"  # far longer than any answer below takes unless it waits the whole time


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    """The statements ``db`` executes meanwhile."""
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def stalled(database_url: str) -> Iterator[Runtime]:
    """A desk whose workers do nothing: every submission stays pending."""
    runtime = build_runtime(
        make_settings(
            database_url,
            relaydesk_web__intake_wait_s="3",
            relaydesk_web__intake_backlog_s="0.2",
        )
    )
    prepare_database(runtime)
    yield runtime
    runtime.close()


def web_client(runtime: Runtime) -> TestClient:
    intake = StoreIntake(runtime)
    return TestClient(create_app(intake=intake, tickets=intake, settings=runtime.settings))


def test_behind_a_backlog_a_submission_is_answered_202_at_once_with_one_transaction(
    stalled: Runtime,
) -> None:
    StoreIntake(stalled).accept(
        InboundMessage(
            channel=Channel.WEB, idempotency_key="web:old", sender_address="a@b.co", body_text="x"
        )
    )
    time.sleep(0.3)  # the first submission has now waited past intake_backlog_s
    client = web_client(stalled)

    with counted(stalled.db) as statements:
        started = time.monotonic()
        response = client.post("/api/v1/tickets", json=ticket_json())
        elapsed = time.monotonic() - started

    assert response.status_code == 202
    assert response.headers["location"].startswith("/api/v1/submissions/2?key=")
    assert elapsed < 2.5  # it did not wait intake_wait_s (3 s) for a ticket
    assert len(statements) <= 6, statements  # the accept transaction, nothing after it


def test_a_stalled_desk_costs_a_waiting_submission_a_few_reads_not_one_every_20_ms(
    stalled: Runtime,
) -> None:
    client = web_client(stalled)

    with counted(stalled.db) as statements:
        response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 202
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 9, reads  # one look per 0.5 s of the 3 s wait (polling made 150)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, relaydesk_web__intake_wait_s=WAIT_S))


def test_a_submission_is_woken_by_its_ticket_and_reads_it_once(desk: Desk) -> None:
    client = web_client(desk.runtime)
    client.post("/api/v1/tickets", json=ticket_json())  # the first warms up the desk

    with counted(desk.runtime.db) as statements:
        response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 201
    looks = [s for s in statements if "FROM inbox" in s and "inbox.id = " in s]
    assert len(looks) <= 2, looks


def test_a_web_process_hears_by_notify_that_another_process_made_the_ticket(
    desk: Desk, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("processes share a SQLite desk only in one process (serve)")
    web = build_runtime(desk.runtime.settings)  # its own engine and broker, no worker
    client = web_client(web)
    listener = web.db.listen_for_other_processes()
    assert listener is not None and listener.listening.wait(10)
    answers: list[int] = []
    post = threading.Thread(
        target=lambda: answers.append(
            client.post("/api/v1/tickets", json=ticket_json()).status_code
        )
    )
    post.start()
    inbox_id = None
    for _ in range(200):  # the web process committed it; its own broker has no worker
        with desk.runtime.db.unit_of_work() as uow:
            inbox_id = uow.session.scalar(select(InboxItem.id).order_by(InboxItem.id.desc()))
        if inbox_id is not None:
            break
        time.sleep(0.05)
    assert inbox_id is not None

    desk.runtime.enqueue_ingest(inbox_id, Channel.WEB)  # the worker process takes it
    post.join(timeout=30)

    assert answers == [201]
    assert inbox_id in web.db.inbox_signals._recent  # heard through LISTEN, nothing else
    web.close()
