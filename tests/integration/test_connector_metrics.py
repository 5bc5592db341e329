"""Connector health and SLA warnings on /metrics, on both databases: the inbound SMTP
server's messages by answer (smtplib against the real server), the Telegram poller's
rounds and last update (against the loopback Bot API server), and the SLA clocks
warned in the last hour."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from store.models import SlaTimer
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.mail_samples import email_bytes
from tests.support.telegram_desk import Chat
from workers.channels.mail_connectors import MailConnectors
from workers.runtime.context import Runtime
from workers.runtime.processes import make_web_app

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(runtime: Runtime) -> Samples:
    with TestClient(make_web_app(runtime)) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


@pytest.fixture
def mail_desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    settings = make_settings(
        database_url,
        relaydesk_email__inbound_smtp__port="0",
        relaydesk_email__inbound_smtp__addresses='["support@desk.test"]',
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
    )
    yield from desk_for(settings)


def test_the_inbound_smtp_servers_messages_are_counted_by_their_answer(mail_desk: Desk) -> None:
    accepted = ("relaydesk_smtp_messages_total", (("outcome", "accepted"),))
    before = _scrape(mail_desk.runtime).get(accepted, 0.0)
    mail = MailConnectors(mail_desk.runtime, smtp=True, imap=False)
    lines = mail.start()
    try:
        listening = next(line for line in lines if "inbound SMTP on" in line)
        port = int(listening.split(":")[1].split()[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for n in range(2):
                raw = email_bytes(
                    sender=f"c{n}@example.org",
                    to="support@desk.test",
                    message_id=f"<metrics-{n}@example.org>",
                )
                client.sendmail(f"c{n}@example.org", ["support@desk.test"], raw)
    finally:
        mail.stop()
    assert _scrape(mail_desk.runtime)[accepted] == before + 2


def test_the_telegram_pollers_rounds_and_last_update_are_on_metrics(chat: Chat) -> None:
    runtime = chat.desk.runtime
    updates = ("relaydesk_telegram_updates_total", ())
    before = _scrape(runtime)
    started = time.time()
    chat.says(9101, "My order is late")
    chat.expect(9101, "[#")  # taken in, a ticket, acknowledged
    seen = _scrape(runtime)
    assert seen[updates] >= before.get(updates, 0.0) + 1
    assert seen[("relaydesk_telegram_last_update_timestamp_seconds", ())] >= started
    assert seen[("relaydesk_telegram_polls_total", (("outcome", "ok"),))] >= 1


def test_sla_clocks_warned_in_the_last_hour_are_counted(mail_desk: Desk) -> None:
    desk = mail_desk
    number = desk.submit("sla-warn", sender="kim@example.org")
    assert number
    with desk.runtime.db.unit_of_work() as uow:
        warned = uow.session.execute(  # type: ignore[attr-defined]  # an UPDATE: a CursorResult
            update(SlaTimer)
            .where(SlaTimer.ticket_id == number)
            .values(warned_at=desk.runtime.now())
            .execution_options(synchronize_session=False)
        ).rowcount
    assert warned  # the shipped policies start clocks on a new ticket
    assert _scrape(desk.runtime)[("relaydesk_sla_warnings_last_hour", ())] == warned
