"""A worker process whose relay hangs: a delivery made in the ingesting thread waits for
the relay at most the deliver step's time limit (an interrupt cannot reach a thread blocked
in a socket's read), so the ingest message goes on (its ticket routed, its agent notified,
the next ticket taken) and the row is delivered later by its queue, once."""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from tests.support.processes import Background, migrated_env
from tests.support.services import fresh_postgres_database
from tests.support.smtp_sink import SmtpSink
from workers.channels.intake import StoreIntake
from workers.runtime.build import build_runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {port}
timeout_s = 60

[broker]
namespace = "{namespace}"

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
capacity = 100
status = "online"
"""


class SilentRelay:
    """An SMTP relay whose first connection is accepted and never said a word to (a send
    on it hangs); the later ones are passed to ``sink_port``, a real SMTP server."""

    def __init__(self, sink_port: int) -> None:
        self.sink_port = sink_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.held.append(conn)
            if len(self.held) > 1:
                sink = socket.create_connection(("127.0.0.1", self.sink_port))
                self.held.append(sink)
                for a, b in ((conn, sink), (sink, conn)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


@pytest.fixture
def relay(smtp_sink: SmtpSink) -> Iterator[SilentRelay]:
    relay = SilentRelay(smtp_sink.port)
    yield relay
    relay.close()


def _to(sink: SmtpSink, recipient: str) -> int:
    return sum(1 for m in sink.messages if recipient in m.rcpt_tos)


def _wait(check: object, timeout: float) -> float:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, f"not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_hung_relay_holds_the_ingest_thread_at_most_the_deliver_limit(
    redis_url: str, tmp_path: Path, relay: SilentRelay, smtp_sink: SmtpSink
) -> None:
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=relay.port, namespace=f"tl{uuid.uuid4().hex[:8]}"))
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(
            config, pg_url, redis_url, RELAYDESK_RETRIES__DELIVER__TIME_LIMIT_MS="1500"
        )
        worker = Background(["worker", "--processes", "1", "--threads", "2"], env)
        try:
            worker.wait_for_output("consuming", timeout=60)
            runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
            try:
                for key in ("jo", "kim"):
                    StoreIntake(runtime).accept(
                        InboundMessage(
                            channel=Channel.WEB,
                            idempotency_key=key,
                            sender_address=f"{key}@example.org",
                            subject="help",
                            body_text="help",
                        )
                    )
                    # jo's acknowledgement hangs on the silent connection, in the thread
                    # that ingested it: within its 1.5 s its ingest goes on (routed, ana
                    # notified), as does kim's (60 s of socket timeout before)
                    _wait(lambda key=key: _to(smtp_sink, f"{key}@example.org") == 1, 15)
                _wait(lambda: _to(smtp_sink, "ana@desk.test") == 2, 15)
                time.sleep(2)  # a second delivery would come now: none does
            finally:
                runtime.close()
        finally:
            worker.stop()
    assert _to(smtp_sink, "jo@example.org") == 1
    assert _to(smtp_sink, "kim@example.org") == 1
    assert _to(smtp_sink, "ana@desk.test") == 2
    assert len(smtp_sink.messages) == 4
    # the slow one: given up after the deliver step's 1.5 s, left to its queue
    assert re.search(
        r"delivery of outbox \d+ to jo@example.org failed .*timed out", worker.output()
    )
