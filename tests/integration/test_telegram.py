"""The Telegram channel end to end, against a Bot API server of our own on loopback.

python-telegram-bot talks real HTTP+JSON to ``tests.support.telegram_server``;
the desk is the embedded one (real store, real worker threads, the poller).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, update

from connectors.ports import Intake, Receipt
from router.envelopes import InboundMessage
from router.vocabulary import AgentStatus, Channel, Status
from store.models import Attachment, InboxItem, Team
from tests.conftest import make_settings
from tests.support.desk import desk_for
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import make_link_code, set_agent_status

pytestmark = pytest.mark.integration

ANA, BEN = 5001, 5002  # the agents' Telegram user (and private chat) ids
ANN, BOB = 9001, 9002  # customers


def test_a_customer_and_a_linked_agent_talk_through_the_bot(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "My printer <HP-5> is on fire & smoking")
    ack = chat.expect(ANN, "We have opened your request [#1]")
    assert ack["parse_mode"] == "HTML"
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    assert "My printer <HP-5> is on fire & smoking" in notice["plain_text"]  # escaped, intact
    rows = notice["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in rows[0]] == ["Resolve", "Pending"]
    assert rows[1] == [{"text": "Open in web", "url": "https://desk.example.com/tickets/1"}]

    chat.says(ANA, "Unplug it <now> & call us", reply_to=notice["message_id"])
    reply = chat.expect(ANN, "Unplug it <now> & call us")
    assert "Ana Lima" in reply["plain_text"]
    chat.expect(ANA, "Sent to the customer by Telegram on #1")

    chat.says(ANN, "Done, thanks")
    chat.expect(ANA, "New reply from the customer")
    view = chat.ticket(1)
    assert [m.direction for m in view.messages] == ["inbound", "outbound", "inbound"]
    assert view.first_response_at is not None and view.channel == "telegram"

    chat.server.callback(ANA, notice["message_id"], "rd:resolve:1", user_id=ANA)
    chat.server.wait_until(
        lambda: any(a["callback_query_id"] for a in chat.server.callback_answers)
    )
    assert "Resolved: #1" in chat.server.callback_answers[-1]["text"]
    chat.server.wait_until(lambda: bool(chat.server.edits))
    assert "Resolved" in chat.server.edits[-1]["plain_text"]
    assert chat.ticket(1).status == Status.RESOLVED.value
    assert ("agent:ana", "ticket.status") in chat.actions(1)  # as `tickets status` writes it
    assert ("agent:ana", "message.replied") in chat.actions(1)


def test_an_email_customer_gets_the_telegram_agents_reply_by_email_threaded(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.desk.submit(
        "<q1@example.org>",
        sender="jo@example.org",
        channel=Channel.EMAIL,
        subject="Invoice missing",
        body="Where is my invoice?",
        external_id="<q1@example.org>",
    )
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.says(ANA, "It is attached to your account now.", reply_to=notice["message_id"])
    replies = chat.emails_to("jo@example.org", "attached")
    assert len(replies) == 1
    assert replies[0].in_reply_to == "<q1@example.org>"
    assert "[#1]" in replies[0].subject and replies[0].subject.startswith("Re:")


def test_notes_status_and_mine_from_the_chat(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "Cannot log in")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    chat.says(ANA, "/note checked: @ben knows this one", reply_to=notice["message_id"])
    chat.expect(ANA, "Note added to #1")
    chat.says(ANA, "/mine")
    chat.expect(ANA, "Cannot log in")
    chat.says(ANA, "/status away")
    chat.expect(ANA, "Status: online -> away")
    view = chat.ticket(1)
    assert [m.direction for m in view.messages] == ["inbound", "internal"]
    assert not [m for m in chat.server.sent(ANN) if "checked" in m["plain_text"]]  # stays inside
    mentions = chat.emails_to("ben@relaydesk.localhost", "mentioned")
    assert len(mentions) == 1  # ben is not linked: by email
    with chat.desk.runtime.db.unit_of_work() as uow:
        assert uow.agents.by_name("ana").status == "away"  # type: ignore[union-attr]


def test_only_a_valid_one_time_code_links_an_agent(chat: Chat) -> None:
    chat.says(BOB, "/start WRONGCODE1")
    chat.expect(BOB, "not valid")
    code, _ = make_link_code(chat.desk.runtime, "ana")
    chat.says(ANA, f"/start {code}", first_name="Ana")
    chat.expect(ANA, "Linked as")
    chat.says(BOB, f"/start {code}")  # spent
    chat.server.wait_until(
        lambda: len([m for m in chat.server.sent(BOB) if "not valid" in m["plain_text"]]) == 2
    )
    with chat.desk.runtime.db.unit_of_work() as uow:
        ana = uow.agents.by_name("ana")
        assert ana is not None and ana.telegram_user_id == str(ANA) and ana.link_code_hash is None

    # a stranger replying to a message of the bot is a customer, never an agent
    chat.says(BOB, "Hello?")
    ack = chat.expect(BOB, "We have opened your request")
    chat.says(BOB, "/note let me in", reply_to=ack["message_id"])
    chat.desk.settle()
    chat.server.callback(BOB, ack["message_id"], "rd:resolve:1", user_id=BOB)
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    assert "for our support team only" in chat.server.callback_answers[-1]["text"]
    view = chat.ticket(1)
    assert all(m.direction == "inbound" for m in view.messages)
    assert view.status != Status.RESOLVED.value


def test_customer_commands_files_edits_and_stickers(chat: Chat) -> None:
    first = chat.says(ANN, "The app crashes")
    chat.expect(ANN, "[#1]")
    chat.server.edited_message(ANN, first, "The app crashes on start")
    chat.wait_messages(1, 2)
    chat.says(ANN, "screenshot", photo=b"\x89PNG fake image bytes")
    chat.wait_messages(1, 3)
    chat.says(ANN, "", sticker=True)
    chat.expect(ANN, "cannot read stickers")
    chat.says(ANN, "/new")
    chat.expect(ANN, "your next message opens a new request")
    chat.says(ANN, "Second problem: billing")
    chat.expect(ANN, "[#2]")
    chat.says(ANN, "/status")
    listing = chat.expect(ANN, "Your requests")
    assert "[#1]" in listing["plain_text"] and "[#2]" in listing["plain_text"]

    view = chat.ticket(1)
    texts = [m.body_text for m in view.messages]
    assert texts[0] == "The app crashes" and "(edited) The app crashes on start" in texts
    photo = next(m for m in view.messages if m.attachments)
    kept = photo.attachments[0]
    assert kept.kept and kept.size == len(b"\x89PNG fake image bytes")
    with chat.desk.runtime.db.unit_of_work() as uow:
        digest = uow.session.scalars(select(Attachment.sha256)).one()
    assert digest is not None
    assert chat.desk.runtime.files.read(digest) == b"\x89PNG fake image bytes"
    assert len(chat.ticket(2).messages) == 1
    with chat.desk.runtime.db.unit_of_work() as uow:
        states = uow.session.scalars(select(InboxItem.state)).all()
    assert "failed" not in states


def test_a_file_over_the_limit_is_listed_not_kept_and_the_customer_is_told(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> None:
    env = telegram_env(telegram_server, tmp_path, relaydesk_telegram__max_attachment_bytes="100")
    for desk in desk_for(make_settings(database_url, **env)):
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            chat = Chat(desk, telegram_server)
            chat.says(ANN, "log attached", document=b"x" * 500, file_name="big.log")
            chat.expect(ANN, "big.log")
            view = chat.ticket(1)
            attachment = view.messages[0].attachments[0]
            assert not attachment.kept and "too large" in (attachment.note or "")
        finally:
            connector.stop()


def test_the_claim_button_takes_an_offered_ticket_and_tells_the_others(chat: Chat) -> None:
    set_agent_status(chat.desk.runtime, "ben", AgentStatus.ONLINE)
    with chat.desk.runtime.db.unit_of_work() as uow:
        uow.session.execute(update(Team).where(Team.name == "support").values(claim_mode=True))
    chat.link("ana", ANA)
    chat.says(ANN, "Who can help?")
    offer = chat.expect(ANA, "Up for grabs")
    assert [b["text"] for b in offer["reply_markup"]["inline_keyboard"][0]] == ["Claim"]
    chat.server.callback(ANA, offer["message_id"], "rd:claim:1", user_id=ANA)
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    answer = chat.server.callback_answers[-1]["text"]
    assert "Claimed" in answer, (answer, chat.actions(1))
    assert chat.ticket(1).assignee == "ana"
    taken = chat.emails_to("ben@relaydesk.localhost", "claimed by")
    assert len(taken) == 1, (
        chat.desk.sender.sent,
        chat.actions(1),
    )  # ben was offered it by email, and hears it is gone
    chat.server.wait_until(lambda: bool(chat.server.edits))
    edited = chat.server.edits[-1]
    assert [b["text"] for b in edited["reply_markup"]["inline_keyboard"][0]] == [
        "Resolve",
        "Pending",
    ]


def test_a_429_is_honoured_and_long_replies_are_split(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.server.fail_next("sendMessage", retry_after=1)
    chat.says(ANN, "Tell me everything")
    ack = chat.expect(ANN, "[#1]")
    refused = [
        c for c in chat.server.calls if c["method"].lower() == "sendmessage" and c["status"] == 429
    ]
    assert len(refused) == 1
    target = int(refused[0]["params"]["chat_id"])
    first_line = refused[0]["params"]["text"].split("\n")[0].removeprefix("<b>")[:20]
    delivered = chat.expect(target, first_line)  # the same message, once it was let through
    assert delivered["time"] - refused[0]["time"] >= 1.0  # waited as asked
    assert ack
    notice = chat.expect(ANA, "Assigned to you")
    essay = "\n\n".join(f"Paragraph {i}: " + "a & b < c " * 60 for i in range(12))
    chat.says(ANA, essay, reply_to=notice["message_id"])
    chat.server.wait_until(
        lambda: len([m for m in chat.server.sent(ANN) if "Paragraph" in m["plain_text"]]) >= 2
    )
    chat.desk.settle()
    parts = [m["plain_text"] for m in chat.server.sent(ANN) if "Paragraph" in m["plain_text"]]
    assert all(len(p) <= 4096 for p in parts) and len(parts) >= 2
    joined = " ".join(parts)
    assert all(f"Paragraph {i}:" in joined for i in range(12)) and "a & b < c" in joined


def test_the_token_never_reaches_the_logs(chat: Chat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    chat.link("ana", ANA)
    chat.says(ANN, "hello")
    chat.expect(ANA, "Assigned to you")
    chat.server.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    chat.says(ANN, "again")
    chat.desk.settle()
    assert caplog.records
    assert chat.server.token not in caplog.text
    assert chat.server.token.split(":")[1] not in caplog.text


def test_the_webhook_needs_the_secret_token_and_a_redelivery_is_a_no_op(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> None:
    env = telegram_env(
        telegram_server,
        tmp_path,
        relaydesk_telegram__mode="webhook",
        relaydesk_telegram__webhook_url="https://desk.example.com/telegram/webhook",
        relaydesk_telegram__secret_token="s3cret-Token_1",
    )
    from fastapi.testclient import TestClient

    from workers.runtime.processes import make_web_app

    for desk in desk_for(make_settings(database_url, **env)):
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        connector.stop()
        assert telegram_server.webhook is not None
        assert telegram_server.webhook["secret_token"] == "s3cret-Token_1"
        update_id = telegram_server.customer_message(ANN, "via webhook")
        body = telegram_server.update(update_id)
        with TestClient(make_web_app(desk.runtime)) as client:
            assert client.post("/telegram/webhook", json=body).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
            assert client.post("/telegram/webhook", json=body, headers=wrong).status_code == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_1"}
            assert client.post("/telegram/webhook", json=body, headers=right).status_code == 200
            assert client.post("/telegram/webhook", json=body, headers=right).status_code == 200
            bad = client.post("/telegram/webhook", content=b"{", headers=right)
            assert bad.status_code == 400
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            rows = uow.session.scalars(
                select(InboxItem).where(InboxItem.channel == "telegram")
            ).all()
        assert len(rows) == 1 and rows[0].state == "done"
        assert desk.ticket(1).messages[0].body_text == "via webhook"


def _later(clock: Callable[[], datetime], by: timedelta) -> datetime:
    return clock() + by


class FlakyIntake:
    """Commits like the real intake, except the first ``fail`` times (the store is down)."""

    def __init__(self, real: Intake, fail: int) -> None:
        self.real, self.fail = real, fail

    def accept(self, message: InboundMessage, *, raw: bytes | None = None) -> Receipt:
        if self.fail:
            self.fail -= 1
            from router.errors import TransientError

            raise TransientError("store down")
        return self.real.accept(message, raw=raw)

    def receipt(self, inbox_id: int) -> Receipt | None:
        return self.real.receipt(inbox_id)

    async def wait_settled(self, inbox_id: int, timeout: float) -> None:
        await self.real.wait_settled(inbox_id, timeout)


def test_the_offset_advances_only_after_the_inbox_row_is_committed(
    database_url: str, telegram_server: TelegramServer, tmp_path: Any
) -> None:
    from connectors.telegram.intake import UpdateSink
    from connectors.telegram.poller import TelegramPoller
    from workers.channels.telegram_connector import make_bot_api

    settings = make_settings(database_url, **telegram_env(telegram_server, tmp_path))
    for desk in desk_for(settings):
        api = make_bot_api(settings, pool_size=2)
        try:
            poller = TelegramPoller(api, UpdateSink(FlakyIntake(desk.intake, 1), source="test"))
            first = telegram_server.customer_message(ANN, "one")
            with pytest.raises(Exception, match="store down"):
                poller.poll_once(timeout_s=0)
            assert poller.offset is None  # not confirmed: Telegram sends it again
            assert poller.poll_once(timeout_s=0) == 1
            assert poller.offset == first + 1
            poller.offset = None  # a restart before the next poll confirmed it
            assert poller.poll_once(timeout_s=0) == 1  # redelivered ...
            poller.poll_once(timeout_s=0)
            assert telegram_server.offsets[-1] == first + 1
        finally:
            api.close()
        desk.settle()
        with desk.runtime.db.unit_of_work() as uow:
            count = len(uow.session.scalars(select(InboxItem.id)).all())
        assert count == 1  # ... and a no-op
        assert len(desk.ticket(1).messages) == 1


def test_a_customer_reply_reaches_the_assignee_by_email_when_not_linked(chat: Chat) -> None:
    chat.says(ANN, "Need help")
    chat.expect(ANN, "[#1]")
    assert chat.emails_to("ana@relaydesk.localhost", "[#1]")


def test_sla_warnings_reach_a_linked_agent_in_telegram_and_escalate_by_email(
    chat: Chat,
) -> None:
    from workers.steps.sla_sweep import sweep_sla

    chat.link("ana", ANA)
    chat.says(ANN, "Nobody answers")
    chat.expect(ANA, "Assigned to you: [#1]")
    real = chat.desk.runtime.clock
    for days in (30, 31, 32):  # far past every deadline, then each escalation step's delay
        chat.desk.runtime.clock = partial(_later, real, timedelta(days=days))
        sweep_sla(chat.desk.runtime)
    warning = chat.expect(ANA, "SLA warning: [#1]")
    breach = chat.expect(ANA, "SLA breached: [#1]")
    for notice in (warning, breach):
        assert "Nobody answers" in notice["plain_text"]  # the latest message, as in every notice
        buttons = [b["text"] for b in notice["reply_markup"]["inline_keyboard"][0]]
        assert buttons == ["Resolve", "Pending"]
    assert chat.emails_to("sam@relaydesk.localhost", "SLA breached")  # the supervisor: email
    chat.desk.settle()
    assert not [m for m in chat.desk.sender.to("ana@relaydesk.localhost") if "SLA" in m.subject]


def test_what_an_agent_may_not_do_from_the_chat(chat: Chat) -> None:
    set_agent_status(chat.desk.runtime, "ben", AgentStatus.ONLINE)
    set_agent_status(chat.desk.runtime, "ana", AgentStatus.AWAY)
    chat.link("ana", ANA)
    chat.says(BOB, "For ben")  # #1 goes to ben
    chat.expect(BOB, "[#1]")
    assert chat.ticket(1).assignee == "ben"  # routed, not only acknowledged: else ana's team's
    chat.says(ANA, "/note #1 sneaking in")
    chat.expect(ANA, "#1 is not one of your tickets")
    chat.says(ANA, "/mine")
    listing = chat.expect(ANA, "tickets")
    chat.says(ANA, "1 minute and I look at these", reply_to=listing["message_id"])
    chat.expect(ANA, "Not done: reply to a ticket's notification")
    set_agent_status(chat.desk.runtime, "ana", AgentStatus.ONLINE)
    set_agent_status(chat.desk.runtime, "ben", AgentStatus.OFFLINE)
    chat.says(ANN, "For ana")  # #2 goes to ana
    notice = chat.expect(ANA, "Assigned to you: [#2]")
    reply = chat.says(ANA, "First answer", reply_to=notice["message_id"])
    chat.expect(ANN, "First answer")
    chat.server.edited_message(ANA, reply, "First answer, corrected", user_id=ANA)
    chat.expect(ANA, "Edits are not passed on")
    chat.server.callback(ANA, notice["message_id"], "rd:resolve:1", user_id=ANA)  # forged
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    assert "not ours" in chat.server.callback_answers[-1]["text"]
    assert [m.direction for m in chat.ticket(1).messages] == ["inbound"]
    assert chat.ticket(1).status == Status.OPEN.value
    assert not [m for m in chat.server.sent(ANN) if "corrected" in m["plain_text"]]
    assert len([m for m in chat.server.sent(ANN) if "First answer" in m["plain_text"]]) == 1
    assert not [m for m in chat.server.sent(BOB) if "minute" in m["plain_text"]]


def test_groups_are_refused_and_replies_thread_onto_the_ticket_they_answer(chat: Chat) -> None:
    chat.server.push_update(
        {
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": -100, "type": "group", "title": "Office"},
                "from": {"id": ANN, "is_bot": False, "first_name": "Ann"},
                "text": "hello from the group",
            }
        }
    )
    chat.expect(-100, "private chat")
    chat.says(ANN, "Printer jam")
    first_ack = chat.expect(ANN, "[#1]")
    chat.says(ANN, "/new")
    chat.expect(ANN, "your next message opens a new request")
    chat.says(ANN, "Also: VPN down")
    chat.expect(ANN, "[#2]")
    chat.says(ANN, "The jam is on tray 2", reply_to=first_ack["message_id"])
    chat.wait_messages(1, 2)
    assert chat.ticket(1).messages[-1].body_text == "The jam is on tray 2"
    assert len(chat.ticket(2).messages) == 1
    from workers.desk.ticket_status import set_ticket_status

    set_ticket_status(chat.desk.runtime, 2, Status.RESOLVED)
    chat.says(ANN, "VPN broke again")
    chat.wait_messages(2, 2)
    assert chat.ticket(2).status == Status.OPEN.value  # reopened, as an email reply would
    with chat.desk.runtime.db.unit_of_work() as uow:
        assert len(uow.session.scalars(select(InboxItem.id)).all()) == 6
        assert uow.tickets.get(3) is None


def test_an_agent_who_blocked_the_bot_is_told_by_email_and_unlinked(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "Anyone there?")
    chat.expect(ANN, "[#1]")
    chat.expect(ANA, "Assigned to you: [#1]")
    chat.server.fail_next(
        "sendMessage", count=1, status=403, description="Forbidden: bot was blocked by the user"
    )
    chat.says(ANN, "Hello??")  # one message goes out: the reply notice to ana, refused
    mails = chat.emails_to("ana@relaydesk.localhost", "replied on ticket")
    assert len(mails) == 1 and "[#1]" in mails[0].subject and "Hello??" in mails[0].body_text
    with chat.desk.runtime.db.unit_of_work() as uow:
        ana = uow.agents.by_name("ana")
        assert ana is not None and ana.telegram_chat_id is None
    assert ("system:deliver", "agent.unlinked") in chat.actions(1)
