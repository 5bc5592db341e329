"""A distributed worker process enforces its actors' time limits (dramatiq's TimeLimit),
as the embedded worker does: its watchdog starts when the process boots its actors."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import load_settings
from router.envelopes import InboundMessage
from router.vocabulary import Channel
from tests.support.processes import Background, migrated_env
from tests.support.services import fresh_postgres_database
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
"""


class SilentRelay:
    """An SMTP relay that accepts connections and never says a word: a send hangs."""

    def __init__(self) -> None:
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

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_relay() -> Iterator[SilentRelay]:
    relay = SilentRelay()
    yield relay
    relay.close()


def test_a_send_past_its_time_limit_is_interrupted_in_a_worker_process(
    redis_url: str, tmp_path: Path, silent_relay: SilentRelay
) -> None:
    config = tmp_path / "relaydesk.toml"
    config.write_text(CONFIG.format(port=silent_relay.port, namespace=f"tl{uuid.uuid4().hex[:8]}"))
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(
            config, pg_url, redis_url, RELAYDESK_RETRIES__DELIVER__TIME_LIMIT_MS="1500"
        )
        worker = Background(["worker", "--processes", "1", "--threads", "2"], env)
        try:
            worker.wait_for_output("consuming", timeout=60)
            runtime = build_runtime(load_settings(config, environ=env), pool_size=1)
            try:
                StoreIntake(runtime).accept(
                    InboundMessage(
                        channel=Channel.WEB,
                        idempotency_key="slow-relay",
                        sender_address="jo@example.org",
                        subject="help",
                        body_text="help",
                    )
                )
            finally:
                runtime.close()
            # the acknowledgement's send hangs on the silent relay; 1.5 s on, the watchdog
            # interrupts the thread running it (without the watchdog: 60 s of socket timeout)
            worker.wait_for_output("Time limit exceeded", timeout=30)
        finally:
            worker.stop()
