"""What people see in the chat: plain words for strangers, the commands a customer has,
codes refused as codes, replies signed with their ticket even when split."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from store.models import Ticket
from tests.support.telegram_desk import Chat

pytestmark = pytest.mark.integration

ANA = 5001  # a linked agent's Telegram user (and private chat) id
ANN, BOB = 9001, 9002  # customers


def tickets(chat: Chat) -> list[int]:
    chat.desk.settle()
    with chat.desk.runtime.db.unit_of_work() as uow:
        return list(uow.session.scalars(select(Ticket.id)))


def test_someone_unlinked_pressing_a_button_is_told_plainly_without_an_admin_command(
    chat: Chat,
) -> None:
    chat.says(BOB, "Hello?")
    ack = chat.expect(BOB, "We have opened your request")
    chat.server.callback(BOB, ack["message_id"], "rd:resolve:1", user_id=BOB)
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    answer = chat.server.callback_answers[-1]["text"]
    assert "`" not in answer and "relaydesk" not in answer.lower(), answer
    assert "support team" in answer


def test_a_customers_unknown_command_lists_the_customer_commands_and_opens_nothing(
    chat: Chat,
) -> None:
    chat.says(ANN, "/mine")
    help_text = chat.expect(ANN, "/new")["plain_text"]
    assert "/status" in help_text and "/mine" in help_text  # what was not understood
    chat.says(ANN, "/note please call me back")
    chat.server.wait_until(lambda: len(chat.server.sent(ANN)) == 2)
    assert tickets(chat) == []
    chat.says(ANN, "My order is late")
    chat.expect(ANN, "We have opened your request [#1]")
    assert chat.ticket(1).subject == "My order is late"


def test_a_start_code_of_any_shape_is_a_link_attempt_refused_when_wrong(chat: Chat) -> None:
    for wrong in ("ABC-123", "from-a-deep-link", "7GQ2 KXMT PA"):
        chat.says(BOB, f"/start {wrong}")
    chat.server.wait_until(
        lambda: len([m for m in chat.server.sent(BOB) if "not valid" in m["plain_text"]]) == 3
    )
    assert not [m for m in chat.server.sent(BOB) if "Write your question" in m["plain_text"]]
    chat.says(BOB, "/start")  # no code: a customer's first contact
    chat.expect(BOB, "Write your question here")


def test_a_code_typed_in_lower_case_with_spaces_still_links(chat: Chat) -> None:
    from workers.desk.agents import make_link_code

    code, _ = make_link_code(chat.desk.runtime, "ana")
    typed = f"{code[:4].lower()} {code[4:8].lower()}-{code[8:]}"
    chat.says(ANA, f"/start {typed}", first_name="Ana")
    chat.expect(ANA, "Linked as")


def test_a_reply_split_in_parts_keeps_its_signature_with_the_ticket_tag(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "Tell me everything")
    notice = chat.expect(ANA, "Assigned to you: [#1]")
    essay = "\n\n".join(f"Paragraph {i}: " + "a & b < c " * 60 for i in range(12))
    chat.says(ANA, essay, reply_to=notice["message_id"])
    chat.expect(ANA, "Sent to the customer")
    chat.desk.settle()
    parts = [m["plain_text"] for m in chat.server.sent(ANN)][1:]  # after the acknowledgement
    assert len(parts) >= 2 and "Paragraph 11" in "".join(parts)
    assert parts[-1].rstrip().endswith("— Ana Lima, [#1]"), parts[-1][-60:]


def test_a_telegram_requester_is_shown_via_telegram_never_as_a_chat_id_address(
    chat: Chat,
) -> None:
    from datetime import timedelta

    from workers.steps.sla_sweep import sweep_sla

    chat.link("ana", ANA)
    chat.says(ANN, "Where is my parcel?", first_name="Kim")
    assigned = chat.expect(ANA, "Assigned to you: [#1]")["plain_text"]
    chat.says(ANN, "Any news?", first_name="Kim")
    replied = chat.expect(ANA, "New reply from the customer: [#1]")["plain_text"]
    real = chat.desk.runtime.clock
    chat.desk.runtime.clock = lambda: real() + timedelta(days=30)
    sweep_sla(chat.desk.runtime)
    chat.desk.runtime.clock = real
    warned = chat.expect(ANA, "SLA warning: [#1]")["plain_text"]
    for notice in (assigned, replied, warned):
        assert "Requester: Kim (via Telegram)" in notice, notice
        assert str(ANN) not in notice, notice
    assert chat.ticket(1).messages[0].author == "Kim (via Telegram)"


def test_the_customer_is_told_their_request_was_resolved(chat: Chat) -> None:
    from router.vocabulary import Status
    from workers.desk.ticket_status import set_ticket_status

    chat.says(ANN, "My order is late")
    chat.expect(ANN, "We have opened your request [#1]")
    set_ticket_status(chat.desk.runtime, 1, Status.RESOLVED, reason="shipped")
    told = chat.expect(ANN, "resolved")["plain_text"]
    assert "[#1]" in told and "write here" in told
    chat.says(ANN, "It did not arrive")  # writing again reopens it, as the message says
    chat.wait_messages(1, 2)
    assert chat.ticket(1).status == Status.OPEN.value


def test_buttons_on_older_notices_are_retired_once_the_ticket_is_resolved(chat: Chat) -> None:
    chat.link("ana", ANA)
    chat.says(ANN, "My order is late")
    assigned = chat.expect(ANA, "Assigned to you: [#1]")
    chat.says(ANN, "Any news?")
    replied = chat.expect(ANA, "New reply from the customer: [#1]")
    chat.server.callback(ANA, replied["message_id"], "rd:resolve:1", user_id=ANA)
    chat.server.wait_until(
        lambda: any(e["message_id"] == assigned["message_id"] for e in chat.server.edits)
    )
    chat.desk.settle()
    last = {e["message_id"]: e for e in chat.server.edits}  # each message as it is now
    old = last[assigned["message_id"]]
    assert "Resolved" in old["plain_text"]
    assert all("url" in b for row in old["reply_markup"]["inline_keyboard"] for b in row)
    pressed = last[replied["message_id"]]  # the one pressed offers what comes next
    assert [b["text"] for b in pressed["reply_markup"]["inline_keyboard"][0]] == ["Reopen"]
