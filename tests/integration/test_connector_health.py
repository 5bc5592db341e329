"""Connector health in ``relaydesk status`` and on /metrics, on both databases: the
inbound SMTP server's open sessions and last accepted message (smtplib against the real
server), the Telegram poller's last update and last error (the loopback Bot API server,
answering 502 for a while), each IMAP mailbox's last poll as its process said it."""

from __future__ import annotations

import json
import smtplib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from store.db import Database
from store.process_beats import Beating
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.mail_samples import email_bytes
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.mail_connectors import MailConnectors
from workers.cli import main
from workers.runtime.context import Runtime
from workers.runtime.heartbeat import Heartbeat
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration


def _status(runtime: Runtime) -> dict[str, Any]:
    env = {"RELAYDESK_DATABASE_URL": runtime.db.url, "RELAYDESK_BROKER_URL": "stub://"}
    result = CliRunner(env=env).invoke(main, ["status", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _connector(runtime: Runtime, kinds: list[str], name: str) -> dict[str, Any]:
    """Beat once as a connector process would, then read ``name``'s row from the status."""
    Heartbeat(runtime, "connector", kinds).beat()
    rows = [c for c in _status(runtime)["connectors"] if c["name"] == name]
    assert len(rows) == 1, rows
    return rows[0]


def _gauge(runtime: Runtime, name: str) -> float | None:
    with TestClient(make_web_app(runtime)) as client:
        text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    return None


def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


@pytest.fixture
def mail_desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    settings = make_settings(
        database_url,
        relaydesk_email__inbound_smtp__port="0",
        relaydesk_email__inbound_smtp__addresses='["support@desk.test"]',
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
    )
    yield from desk_for(settings)


def test_status_shows_the_smtp_servers_open_sessions_and_its_last_accepted_message(
    mail_desk: Desk,
) -> None:
    runtime = mail_desk.runtime
    health = runtime.connector_health
    mail = MailConnectors(runtime, smtp=True, imap=False)
    lines = mail.start()
    try:
        port = int(next(x for x in lines if "inbound SMTP on" in x).split(":")[1].split()[0])
        before = datetime.now(UTC)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            raw = email_bytes(
                sender="kim@example.org", to="support@desk.test", message_id="<health-1@x.org>"
            )
            client.sendmail("kim@example.org", ["support@desk.test"], raw)
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as second:
                second.ehlo()
                _until(lambda: (health.snapshot() or {})["smtp"]["sessions_open"] == 2)
                row = _connector(runtime, ["smtp"], "smtp")
                assert row["sessions_open"] == 2
                assert datetime.fromisoformat(row["last_success"]) >= before
                assert row["last_error"] is None and row["quiet"] is False
                assert _gauge(runtime, "relaydesk_smtp_sessions_open") == 2
        _until(lambda: (health.snapshot() or {})["smtp"]["sessions_open"] == 0)
        assert _connector(runtime, ["smtp"], "smtp")["sessions_open"] == 0
        assert _gauge(runtime, "relaydesk_smtp_sessions_open") == 0
    finally:
        mail.stop()


def test_status_shows_the_telegram_pollers_last_update_and_its_last_error(chat: Chat) -> None:
    runtime = chat.desk.runtime
    before = datetime.now(UTC)
    chat.says(9201, "Where is my parcel?")
    chat.expect(9201, "[#")
    row = _connector(runtime, ["telegram"], "telegram")
    assert datetime.fromisoformat(row["last_success"]) >= before
    assert row["last_error"] is None
    chat.server.fail_for(3.0, 502)  # the poller's next getUpdates is answered 502
    _until(lambda: (runtime.connector_health.snapshot() or {})["telegram"]["last_error"])
    row = _connector(runtime, ["telegram"], "telegram")
    assert "502" in row["last_error"] or "Bad Gateway" in row["last_error"], row
    assert datetime.fromisoformat(row["error_at"]) >= datetime.fromisoformat(row["last_success"])
    assert row["process"].endswith(f":{Heartbeat(runtime, 'x').me.pid}")


def test_status_and_metrics_show_the_telegram_webhooks_last_update_and_its_errors(
    database_url: str, telegram_server: TelegramServer, tmp_path: Path
) -> None:
    env = telegram_env(
        telegram_server,
        tmp_path,
        relaydesk_telegram__mode="webhook",
        relaydesk_telegram__webhook_url="https://desk.example.com/telegram/webhook",
        relaydesk_telegram__secret_token="s3cret-Token_1",
    )
    right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
    for desk in desk_for(make_settings(database_url, **env)):
        runtime = desk.runtime
        before = datetime.now(UTC)
        body = telegram_server.update(telegram_server.customer_message(9301, "via webhook"))
        with TestClient(make_web_app(runtime)) as client:
            assert client.post("/telegram/webhook", json=body, headers=right).status_code == 200
            Heartbeat(runtime, "web").beat()
            taken = [c for c in _status(runtime)["connectors"] if c["name"] == "telegram webhook"]
            assert client.post("/telegram/webhook", json=body).status_code == 403
            bad = client.post("/telegram/webhook", content=b"{", headers=right)
            assert bad.status_code == 400
            Heartbeat(runtime, "web").beat()
            row = next(c for c in _status(runtime)["connectors"] if c["name"] == "telegram webhook")
            metrics = client.get("/metrics").text

        assert len(taken) == 1 and taken[0]["last_error"] is None
        assert datetime.fromisoformat(taken[0]["last_success"]) >= before
        assert row["last_success"] == taken[0]["last_success"]  # refusals take nothing in
        assert row["last_error"].startswith("webhook: not an update (400)"), row
        assert row["process"].endswith(f":{Heartbeat(runtime, 'x').me.pid}")
        assert 'relaydesk_telegram_webhook_posts_total{outcome="ok"}' in metrics
        assert 'relaydesk_telegram_webhook_posts_total{outcome="forbidden"}' in metrics
        assert 'relaydesk_telegram_webhook_posts_total{outcome="invalid"}' in metrics
        assert (_gauge(runtime, "relaydesk_telegram_last_update_timestamp_seconds") or 0) >= (
            before.timestamp() - 1
        )


def test_a_mailbox_is_shown_as_its_running_poller_said_and_a_quiet_process_as_quiet(
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    polled = (now - timedelta(seconds=3)).isoformat()
    db = Database(database_url)
    try:
        with db.unit_of_work() as uow:
            uow.mailboxes.save("support", 7, 40, now - timedelta(hours=1))
            uow.mailboxes.report("support", "LOGIN failed", now - timedelta(minutes=30))
            uow.mailboxes.save("sales", 9, 3, now - timedelta(hours=2))
            poller = Beating(holder="h1:11:a", kind="connector", host="h1", pid=11)
            told = {"last_success": polled, "last_error": None, "error_at": None}
            uow.process_beats.beat(poller, started_at=now, now=now, health={"imap support": told})
            gone = Beating(holder="h2:12:b", kind="connector", host="h2", pid=12)
            uow.process_beats.beat(
                gone,
                started_at=now - timedelta(hours=1),
                now=now - timedelta(minutes=10),
                health={"telegram": {"last_success": None, "last_error": "401", "error_at": None}},
            )
    finally:
        db.dispose()
    env = {"RELAYDESK_DATABASE_URL": database_url, "RELAYDESK_BROKER_URL": "stub://"}
    result = CliRunner(env=env).invoke(main, ["status", "--json"], catch_exceptions=False)
    rows = {c["name"]: c for c in json.loads(result.output)["connectors"]}
    assert set(rows) == {"imap support", "imap sales", "telegram"}
    assert rows["imap support"]["last_success"] == polled  # the poller's word, not the cursor's
    assert rows["imap support"]["process"] == "h1:11" and rows["imap support"]["last_error"] is None
    assert rows["imap sales"]["process"] is None  # no process speaks for it: its cursor
    assert rows["telegram"]["quiet"] is True and rows["telegram"]["last_error"] == "401"
    text = CliRunner(env=env).invoke(main, ["status"], catch_exceptions=False).output
    assert "h2:12 quiet" in text and "sessions open" in text
