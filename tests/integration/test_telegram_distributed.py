"""Telegram in distributed mode: `relaydesk connector telegram` and `relaydesk worker`
processes on Redis and PostgreSQL, against the loopback Bot API server."""

from __future__ import annotations

import itertools
import re
import signal
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.support.processes import Background, migrated_env, run
from tests.support.services import fresh_postgres_database
from tests.support.telegram_server import TelegramServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONFIG = """
[helpdesk]
name = "relaydesk test"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "file"
file_dir = "{outbox}"

[broker]
namespace = "{namespace}"

[telegram]
enabled = true
token_env = "TEST_TELEGRAM_TOKEN"
base_url = "{url}/bot"
base_file_url = "{url}/file/bot"
poll_timeout_s = 1
messages_per_chat_s = 5

[[teams]]
name = "support"

[[agents]]
name = "ana"
email = "ana@desk.test"
teams = ["support"]
status = "online"
"""

ANA, ANN = 5001, 9001


@pytest.fixture
def deployment(
    redis_url: str, tmp_path: Path, telegram_server: TelegramServer
) -> Iterator[tuple[Path, dict[str, str]]]:
    config = tmp_path / "relaydesk.toml"
    config.write_text(
        CONFIG.format(
            url=telegram_server.url,
            outbox=tmp_path / "outbox",
            namespace=f"t{uuid.uuid4().hex[:8]}",
        )
    )
    with fresh_postgres_database() as pg_url:
        env, _ = migrated_env(config, pg_url, redis_url, TEST_TELEGRAM_TOKEN=telegram_server.token)
        yield config, env


def test_connector_and_worker_processes_carry_a_conversation(
    deployment: tuple[Path, dict[str, str]], telegram_server: TelegramServer
) -> None:
    _config, env = deployment
    worker = Background(["worker", "--processes", "2", "--threads", "2"], env)
    connector = Background(["connector", "telegram"], env)
    try:
        worker.wait_for_output("2 processes x 2 threads")
        connector.wait_for_output("Telegram @relaydesk_test_bot: polling")
        linked = run(["agents", "link", "ana"], env)
        assert linked.returncode == 0, linked.stderr
        code = re.search(r"/start (\w+)", linked.stdout)
        assert code is not None, linked.stdout
        telegram_server.customer_message(ANA, f"/start {code.group(1)}", first_name="Ana")
        telegram_server.wait_for(lambda m: m["chat_id"] == ANA and "Linked as" in m["plain_text"])

        telegram_server.customer_message(ANN, "The portal is down")
        telegram_server.wait_for(lambda m: m["chat_id"] == ANN and "[#1]" in m["plain_text"])
        notice = telegram_server.wait_for(
            lambda m: m["chat_id"] == ANA and "Assigned to you: [#1]" in m["plain_text"]
        )
        telegram_server.customer_message(
            ANA, "Back up in five minutes", reply_to=notice["message_id"]
        )
        telegram_server.wait_for(
            lambda m: m["chat_id"] == ANN and "Back up in five minutes" in m["plain_text"]
        )
        shown = run(["tickets", "show", "1"], env)
        assert "telegram" in shown.stdout and "message.replied" in shown.stdout
        assert connector.stop(signal.SIGTERM) == 0
        assert telegram_server.token not in connector.output() + worker.output()
    finally:
        connector.kill_group()
        worker.stop()


def test_webhook_mode_registers_the_webhook_with_its_secret_and_exits(
    deployment: tuple[Path, dict[str, str]], telegram_server: TelegramServer
) -> None:
    _config, env = deployment
    env = {
        **env,
        "RELAYDESK_TELEGRAM__MODE": "webhook",
        "RELAYDESK_TELEGRAM__WEBHOOK_URL": "https://desk.example.com/telegram/webhook",
        "RELAYDESK_TELEGRAM__SECRET_TOKEN_ENV": "TEST_WEBHOOK_SECRET",
        "TEST_WEBHOOK_SECRET": "s3cret",
    }
    done = run(["connector", "telegram"], env)
    assert done.returncode == 0, done.stderr
    assert "webhook https://desk.example.com/telegram/webhook" in done.stdout
    assert telegram_server.webhook == {
        **telegram_server.webhook,  # type: ignore[dict-item]
        "url": "https://desk.example.com/telegram/webhook",
        "secret_token": "s3cret",
    }


def test_worker_processes_keep_a_chats_order_and_wait_out_a_long_flood(
    deployment: tuple[Path, dict[str, str]], telegram_server: TelegramServer
) -> None:
    """Four customers each send /status, /new and a text at once to two worker processes
    of two threads, at Telegram's pace of one message a second a chat; the first
    acknowledgement meets a flood longer than the desk waits in place."""
    _config, env = deployment
    env = {
        **env,
        "RELAYDESK_TELEGRAM__MESSAGES_PER_CHAT_S": "1",
        "RELAYDESK_TELEGRAM__MAX_RETRY_AFTER_S": "0.5",
        "RELAYDESK_RETRIES__DELIVER__MAX_ATTEMPTS": "2",
        "RELAYDESK_RETRIES__DELIVER__MIN_BACKOFF_MS": "100",
    }
    worker = Background(["worker", "--processes", "2", "--threads", "2"], env)
    connector = Background(["connector", "telegram"], env)
    customers = range(ANN, ANN + 4)
    try:
        worker.wait_for_output("2 processes x 2 threads")
        connector.wait_for_output("Telegram @relaydesk_test_bot: polling")
        telegram_server.fail_next("sendMessage", count=3, retry_after=2)
        telegram_server.customer_message(ANN, "First question")
        telegram_server.wait_for(lambda m: m["chat_id"] == ANN, timeout=30)
        for customer in customers:
            for text in ("/status", "/new", "Second question"):
                telegram_server.customer_message(customer, text)
        for customer in customers:
            wanted = 4 if customer == ANN else 3
            telegram_server.wait_until(
                partial(telegram_server.has_sent, customer, wanted), timeout=60
            )
            texts = [m["plain_text"] for m in telegram_server.sent(customer)][-3:]
            assert "requests" in texts[0], texts  # the /status answer
            assert "your next message opens a new request" in texts[1], texts
            assert "We have opened your request" in texts[2], texts
        tries = [
            c
            for c in telegram_server.calls
            if c["method"] == "sendMessage" and c["params"].get("chat_id") == str(ANN)
        ]
        assert [t["status"] for t in tries[:4]] == [429, 429, 429, 200]
        assert all(b["time"] - a["time"] >= 2.0 for a, b in itertools.pairwise(tries[:4]))
        shown = run(["outbox", "list", "--state", "failed"], env)
        assert str(ANN) not in shown.stdout, shown.stdout
    finally:
        connector.kill_group()
        worker.stop()
