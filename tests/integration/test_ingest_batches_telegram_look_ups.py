"""A Telegram batch asks once for its rows what each row's reading asks the store (the
sender's agent, the chat's customer, its lock and wish for a new ticket, the open
ticket, a copy of the message): its statements are counted, and what a row does to a
later row's answer (an agent linked in the batch) is checked."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from router.vocabulary import Channel
from store.models import Customer, CustomerIdentity, Message
from tests.support.telegram_desk import Chat, held_rows, hold_updates
from workers.desk.agents import make_link_code
from workers.steps.ingest import ingest_together

pytestmark = pytest.mark.integration


@contextmanager
def _counted(chat: Chat) -> Iterator[tuple[Counter[str], list[int]]]:
    """This thread's statements while the block runs, by their first word and table
    (``SELECT customer_identities``), and its commits (one number)."""
    engine, mine = chat.desk.runtime.db.engine, threading.get_ident()
    seen: Counter[str] = Counter()
    commits = [0]

    def statement(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        if threading.get_ident() == mine:
            table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql)
            seen[f"{sql.split()[0]} {table.group(1) if table else ''}".strip()] += 1

    def commit(_conn: object) -> None:
        if threading.get_ident() == mine:
            commits[0] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen, commits
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def _ingested(chat: Chat, ids: list[int]) -> tuple[Counter[str], int]:
    with _counted(chat) as (seen, commits):
        assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    return seen, commits[0]


def _tickets(chat: Chat) -> dict[int, list[str]]:
    with chat.desk.runtime.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Message.ticket_id, Message.body_text).order_by(Message.id)
        ).all()
    found: dict[int, list[str]] = {}
    for number, body in rows:
        found.setdefault(number, []).append(body)
    return found


# what a row asked the store on its own before (each a statement a row): asked once now
ASKED_ONCE = (
    "SELECT agents",  # a linked agent? (and in the update's own short transaction, for files)
    "SELECT messages",  # the same message stored already?
    "SELECT tickets",  # the customer's open ticket (none here)
    "SELECT customers",  # the chat's customer (its language with it)
    "SELECT customer_identities",  # the chat locked, and whether it wants a new ticket
    "SELECT teams",  # the new ticket's team (a process asks once, after a commit)
)


def test_twenty_chats_first_messages_ask_the_store_once_for_the_batch(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty new customers' first messages: one short transaction reads the batch's
    updates, one ingests them, one hands their chats on (22 before: a transaction each
    to read and one to hand on); the rows' look-ups, their customers and identities are
    a statement or two for the batch (9.5 statements a row on PostgreSQL before)."""
    hold_updates(chat, monkeypatch)
    chats = [9100 + n for n in range(20)]
    for chat_id in chats:
        chat.says(chat_id, f"question {chat_id}")
    ids = held_rows(chat, 0, 20)
    assert len(ids) == 20
    seen, commits = _ingested(chat, ids)
    assert sorted(_tickets(chat).values()) == sorted([f"question {c}"] for c in chats)
    assert commits == 3
    for asked in ASKED_ONCE:
        assert seen[asked] == 1, (asked, seen)
    assert seen["INSERT customer_identities"] == 1, seen
    assert seen["UPDATE customers"] == 0, seen  # (their language given as they are made)
    assert seen["SELECT inbox"] <= 4, seen  # read, out of turn (twice), the chats' next
    # PostgreSQL 20 statements in all; SQLite inserts a customer, a clock and an outbox row
    # at a time (the email and web rows too)
    sqlite = chat.desk.runtime.db.engine.dialect.name == "sqlite"
    assert sum(seen.values()) <= (100 if sqlite else 20), seen


def test_ten_chats_two_messages_each_ask_the_store_once_for_their_first(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat's second message writes the batch's rows before it and asks for its open
    ticket (the one its first opened); the rest is asked once for the batch (11.30
    statements a row on PostgreSQL before, 22 commits)."""
    hold_updates(chat, monkeypatch)
    chats = [9200 + n for n in range(10)]
    for chat_id in chats:
        chat.says(chat_id, f"question {chat_id}")
        chat.says(chat_id, f"more {chat_id}")
    ids = held_rows(chat, 0, 20)
    assert len(ids) == 20
    seen, commits = _ingested(chat, ids)
    assert sorted(_tickets(chat).values()) == sorted([f"question {c}", f"more {c}"] for c in chats)
    assert commits == 3
    assert seen["SELECT agents"] == 1 and seen["SELECT messages"] == 1, seen
    assert seen["SELECT customers"] == 1 and seen["SELECT customer_identities"] == 1, seen
    assert seen["SELECT tickets"] == 1 + 2 * 10, seen  # once, then the second messages'
    sqlite = chat.desk.runtime.db.engine.dialect.name == "sqlite"
    assert sum(seen.values()) <= (118 if sqlite else 96), seen


def test_a_user_who_links_herself_in_the_batch_writes_her_next_message_as_an_agent(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch asks who is an agent before its first row is read: a ``/start <code>``
    in it links one, and her message after it is an agent's (no customer made for her),
    while a customer's message beside them opens a ticket."""
    hold_updates(chat, monkeypatch)
    code, _ = make_link_code(chat.desk.runtime, "ana")
    chat.server.customer_message(5001, f"/start {code}", first_name="ana")
    chat.says(5001, "hello, desk")
    chat.says(9001, "My printer is on fire")
    ids = held_rows(chat, 0, 3)
    assert len(ids) == 3
    assert ingest_together(chat.desk.runtime, ids, Channel.TELEGRAM).ok
    with chat.desk.runtime.db.unit_of_work() as uow:
        customers = list(uow.session.scalars(select(CustomerIdentity.address)))
    assert customers == ["9001"]
    assert list(_tickets(chat).values()) == [["My printer is on fire"]]
    chat.desk.settle()
    chat.expect(5001, "Linked as")


def test_a_new_customer_is_made_speaking_as_her_chats_first_message_states(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new customer is made once for the batch, with the language her first message's
    app states (as a row at a time made her on that message); each later message that
    states another changes it as it comes (made with her last message's, her first
    message's row changed it back and her last's once more: two updates for one)."""
    hold_updates(chat, monkeypatch)
    chat.server.customer_message(9301, "打印机坏了", first_name="李雷", language_code="zh-hans")
    chat.server.customer_message(9301, "and it jams", first_name="李雷", language_code="en")
    chat.server.customer_message(9302, "hello", first_name="Ann", language_code="")
    chat.server.customer_message(9302, "你好", first_name="Ann", language_code="zh-hans")
    ids = held_rows(chat, 0, 4)
    assert len(ids) == 4
    seen, _ = _ingested(chat, ids)
    with chat.desk.runtime.db.unit_of_work() as uow:
        spoken = dict(
            uow.session.execute(
                select(CustomerIdentity.address, Customer.language).join(
                    Customer, Customer.id == CustomerIdentity.customer_id
                )
            ).all()
        )
    assert spoken == {"9301": "en", "9302": "zh_CN"}  # what each last stated
    assert seen["UPDATE customers"] == 1, seen  # 9301's second message's
