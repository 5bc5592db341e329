"""SIGTERM drains a worker process: it finishes the send in hand, gives back the rest of
its batch at once (pending, the attempt not counted, sent again on the broker) and
exits; another worker then delivers the rest, each once, long before a lease (120 s)
or a re-drive (60 s) would have. What a process still holds when its grace period
ends is released and sent again (on both databases)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from config import load_settings
from router.envelopes import OutboundMessage
from router.vocabulary import Channel, OutboxKind
from store.db import Database
from store.migrate import upgrade
from store.models import OutboxItem
from tests.conftest import make_settings
from tests.support.desk import desk_for
from tests.support.processes import Background, relaydesk_env
from tests.support.services import fresh_postgres_database
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.shutdown import give_back_held

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEND_S = 1.5  # each mail takes the relay this long: a batch of ten outlasts the 10 s grace
ROWS = 10

CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}

[broker]
namespace = "{namespace}"

[[teams]]
name = "support"
"""


class SlowRelay:
    """An SMTP relay that takes ``SEND_S`` to accept each message and counts them."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.started = threading.Event()  # a first message is being taken
        with socket.create_server(("127.0.0.1", 0)) as probe:
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.started.set()
        await asyncio.sleep(SEND_S)
        content = envelope.original_content or b""
        subject = next(
            (line for line in content.decode().splitlines() if line.startswith("Subject:")), ""
        )
        self.received.append(subject.removeprefix("Subject: "))
        return "250 OK"

    def close(self) -> None:
        self.controller.stop()


@pytest.fixture
def slow_relay() -> Iterator[SlowRelay]:
    relay = SlowRelay()
    yield relay
    relay.close()


def _rows(runtime: Runtime) -> dict[str, tuple[str, int]]:
    """Each row's subject -> (state, attempts)."""
    with runtime.db.unit_of_work() as uow:
        found = uow.session.execute(
            select(OutboxItem.payload, OutboxItem.state, OutboxItem.attempts)
        ).all()
    return {payload["subject"]: (state, attempts) for payload, state, attempts in found}


def _queue_rows(runtime: Runtime) -> list[int]:
    ids = []
    with runtime.db.unit_of_work() as uow:
        for n in range(ROWS):
            outbox_id = uow.outbox.add(
                OutboundMessage(
                    channel=Channel.EMAIL,
                    recipient=f"agent{n}@desk.test",
                    subject=f"drain {n}",
                    body_text="a ticket for you",
                    message_id=f"<drain-{n}@desk.test>",
                ),
                kind=OutboxKind.ASSIGNMENT,
                ticket_id=None,
                now=runtime.now(),
                redrive_after=timedelta(hours=1),  # only the broker may carry them on
            )
            assert outbox_id is not None
            ids.append(outbox_id)
    return ids


def test_sigterm_gives_back_the_rest_of_a_batch_and_exits_within_the_grace_period(
    redis_url: str, tmp_path: Path, slow_relay: SlowRelay
) -> None:
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=slow_relay.port, namespace=f"dr{uuid.uuid4().hex[:8]}"))
    with fresh_postgres_database() as pg_url:
        env = relaydesk_env(config, RELAYDESK_DATABASE_URL=pg_url, RELAYDESK_BROKER_URL=redis_url)
        db = Database(pg_url)
        upgrade(db)  # (in this process: a migrate process takes long on a busy machine)
        db.dispose()
        runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
        first = Background(["worker", "--processes", "1", "--threads", "1"], env)
        second = None
        try:
            first.wait_for_output("consuming", timeout=60)
            runtime.deliver_actors[Channel.EMAIL].send(_queue_rows(runtime))  # one batch
            assert slow_relay.started.wait(30)
            code = first.stop(signal.SIGTERM, timeout=60)
            assert code == 0, first.output()
            # the send in hand finished, no further one began (the whole batch would
            # outlast the grace period) and the rest was given back
            after_stop = _rows(runtime)
            sent = len(slow_relay.received)
            assert 1 <= sent < ROWS
            states = sorted(state for state, _ in after_stop.values())
            assert states == ["done"] * sent + ["pending"] * (ROWS - sent), first.output()
            given_back = [a for s, a in after_stop.values() if s == "pending"]
            assert given_back == [0] * (ROWS - sent)  # their attempt was not counted
            second = Background(["worker", "--processes", "1", "--threads", "2"], env)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if {s for s, _ in _rows(runtime).values()} == {"done"}:
                    break
                time.sleep(0.2)
            # each once: the rest was sent again on the broker, not left for a re-drive
            assert sorted(slow_relay.received) == sorted(f"drain {n}" for n in range(ROWS))
            assert {s for s, _ in _rows(runtime).values()} == {"done"}
        finally:
            runtime.close()
            first.stop()
            if second is not None:
                second.stop()


def test_rows_still_held_when_the_grace_period_ends_are_given_back_and_sent_again(
    database_url: str,
) -> None:
    """A send that outlasted the grace period: the process releases what it still holds
    before it exits, and the broker carries the rows on (here the in-process worker)."""
    for desk in desk_for(make_settings(database_url)):
        runtime = desk.runtime
        ids = _queue_rows(runtime)
        other = dataclasses.replace(runtime)  # another process: its holds are not ours
        with runtime.db.unit_of_work() as uow:
            mine = uow.outbox.claim_many(
                ids[:4], now=runtime.now(), lease=runtime.send_lease, holder=runtime.holder
            )
            theirs = uow.outbox.claim_many(
                ids[4:], now=runtime.now(), lease=runtime.send_lease, holder=other.holder
            )
        assert (len(mine), len(theirs)) == (4, ROWS - 4)
        assert give_back_held(runtime)
        done = [f"drain {n}" for n in range(4)]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if sorted(n for n, (s, _) in _rows(runtime).items() if s == "done") == done:
                break
            time.sleep(0.05)
        assert sorted(m.subject for m in desk.sender.sent) == done  # each once
        rows = _rows(runtime)
        assert sorted(n for n, (s, _) in rows.items() if s == "done") == done
        # another process's rows are left to it
        assert sorted(n for n, (s, _) in rows.items() if s == "sending") == [
            f"drain {n}" for n in range(4, ROWS)
        ]
