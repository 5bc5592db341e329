"""A desk with the Telegram channel on, against the loopback Bot API server, and the
helpers tests use to talk to it as customers and agents would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from router.vocabulary import AgentStatus
from store.models import AuditEvent, InboxItem
from tests.support.desk import Desk, desk_for
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import make_link_code, set_agent_status


@dataclass
class Chat:
    desk: Desk
    server: TelegramServer

    def link(self, name: str, user_id: int) -> None:
        code, _ = make_link_code(self.desk.runtime, name)
        self.server.customer_message(user_id, f"/start {code}", first_name=name)
        self.server.wait_for(lambda m: m["chat_id"] == user_id and "Linked as" in m["plain_text"])

    def says(self, chat_id: int, text: str = "", **kw: Any) -> int:
        """A message into the bot; returns its message id in the chat."""
        update_id = self.server.customer_message(chat_id, text, **kw)
        return int(self.server.update(update_id)["message"]["message_id"])

    def expect(self, chat_id: int, needle: str, timeout: float = 10) -> dict[str, Any]:
        return self.server.wait_for(
            lambda m: m["chat_id"] == chat_id and needle in m["plain_text"], timeout
        )

    def ticket(self, number: int):  # type: ignore[no-untyped-def]
        self.desk.settle()
        return self.desk.ticket(number)

    def wait_messages(self, number: int, count: int, timeout: float = 10) -> None:
        """Updates of one chat are worked in parallel: a test waits for each to land."""
        deadline = time.monotonic() + timeout
        while len(self.ticket(number).messages) < count:
            assert time.monotonic() < deadline, f"#{number} never got {count} messages"
            time.sleep(0.05)

    def emails_to(self, address: str, needle: str, count: int = 1) -> list[Any]:
        """The emails to ``address`` containing ``needle``, once ``count`` have been sent."""
        deadline = time.monotonic() + 10
        while True:
            self.desk.settle()
            found = [m for m in self.desk.sender.to(address) if needle in m.body_text]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def actions(self, number: int) -> list[tuple[str, str]]:
        with self.desk.runtime.db.unit_of_work() as uow:
            rows = uow.session.execute(
                select(AuditEvent.actor, AuditEvent.action)
                .where(AuditEvent.ticket_id == number)
                .order_by(AuditEvent.id)
            ).all()
        return [(r[0], r[1]) for r in rows]


def hold_updates(chat: Chat, monkeypatch: pytest.MonkeyPatch) -> None:
    """Updates from now on are accepted and held (not queued): the test ingests them."""
    runtime = chat.desk.runtime
    monkeypatch.setattr(runtime, "enqueue_accepted", lambda *a, **k: None)
    monkeypatch.setattr(runtime, "enqueue_ingest", lambda *a, **k: None)


def held_rows(chat: Chat, after: int, count: int) -> list[int]:
    """The inbox rows after ``after``, once there are ``count`` (or after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        with chat.desk.runtime.db.unit_of_work() as uow:
            ids = list(
                uow.session.scalars(
                    select(InboxItem.id).where(InboxItem.id > after).order_by(InboxItem.id)
                )
            )
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def telegram_env(server: TelegramServer, tmp_path: Any, **extra: str) -> dict[str, str]:
    return {
        "relaydesk_telegram__enabled": "true",
        "relaydesk_telegram__token": server.token,
        "relaydesk_telegram__base_url": f"{server.url}/bot",
        "relaydesk_telegram__base_file_url": f"{server.url}/file/bot",
        "relaydesk_telegram__poll_timeout_s": "1",
        "relaydesk_telegram__messages_per_chat_s": "50",
        "relaydesk_email__attachments_dir": str(tmp_path / "files"),
        "relaydesk_telegram__web_ticket_url": "https://desk.example.com/tickets/{number}",
        "relaydesk_web__public_url": "https://desk.example.com",
        **extra,
    }


@pytest.fixture
def chat(database_url: str, telegram_server: TelegramServer, tmp_path: Any) -> Iterator[Chat]:
    from tests.conftest import make_settings  # (conftest imports this module)

    settings = make_settings(database_url, **telegram_env(telegram_server, tmp_path))
    for desk in desk_for(settings):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana gets every ticket
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            yield Chat(desk, telegram_server)
        finally:
            connector.stop()
