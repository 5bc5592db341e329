"""What a Telegram batch's rows will each ask the store, asked once for the batch.

A chat update is read as it comes (``reads_ahead`` is off: a reading may act), so
its reader asks the store about its sender as it reads it: is she a linked agent,
who is the chat's customer (created on her first message, with the language her
app states), does the chat want a new ticket (its identity row locked), which
ticket is open for her, was this message stored already. Asked a row at a time,
those were most of a Telegram row's statements; here they are asked for the
batch's rows at once, before the first is read, and each row's question finds
its answer kept in the unit of work (``store.chats.KeptChats``, the customers'
and inbound messages' look-ups email and web use).

The answers stay right while the rows are read in order: an agent linked or
unlinked forgets who is an agent; ``/new`` changes the chat's wish as it is
marked; a customer's open ticket is taken by her first row to be threaded (a
later row of hers asks the store, after the batch's rows are written first).
Only rows that will be customers' messages are looked up and have their customer
created: a user who links herself as an agent in the batch is left to her rows'
own questions.

Open tickets are looked up (and locked) only for the customers whose first
message comes before the batch's first reading that acts
(``router.chat_readings.ACTING``, known here: a link is itself one, so the
readings before it are asked with the right agents). An agent's answer or button
locks its ticket as its row is read, so a ticket a later customer's row joins is
locked after it, in row order, as it was before the batch's look-up (no wasted
lock, and no new deadlock between two batches). The lock order of a batch is: its
chats' identities (sorted by address), then those customers' open tickets (by
id), then what each row locks, in row order. A reading that acts forgets what is
kept of the open tickets (what is left then is only a customer's whose row did
not thread, as a copy of a stored message): a reading that acts may one day
change which ticket is open (a close, a merge); none does today.
"""

from __future__ import annotations

from collections.abc import Mapping

from router.chat_readings import ACTING, ChatReading
from router.language_choice import stated_language
from router.vocabulary import Channel
from store.db import UnitOfWork
from workers.runtime.context import Runtime
from workers.steps.ingest_telegram import PreparedUpdate
from workers.steps.ingest_telegram_readings import (
    command_of,
    is_read,
    message_ref,
    reading_of,
    refused_alone,
)

CUSTOMERS = frozenset({ChatReading.MESSAGE, ChatReading.COMMAND})


def look_up_updates(
    runtime: Runtime, uow: UnitOfWork, prepared: Mapping[int, PreparedUpdate | None]
) -> None:
    """Ask, for the batch's updates (by inbox id; None: not pending), what their readers
    will: the senders' agents, the customers' chats (created for their first messages),
    those chats locked (by address), the open tickets of the customers whose first message
    comes before the first row that acts locked (by id: a later row locks its own, in row
    order), and whether a message is stored."""
    updates = [p.update for _, p in sorted(prepared.items()) if p is not None and is_read(p.update)]
    chats = uow.chats
    chats.look_up_users(u.user_id for u in updates if u.user_id)
    readings = [
        (u, reading_of(u, command_of(u), chats.agent_of_user(u.user_id) if u.user_id else None))
        for u in updates
    ]
    linking = {u.user_id for u, reading in readings if reading is ChatReading.LINK}
    customers = [u for u, reading in readings if reading in CUSTOMERS and u.user_id not in linking]
    messages = [
        u
        for u, reading in readings
        if reading is ChatReading.MESSAGE
        and u.user_id not in linking
        and refused_alone(u, u.text) is None
    ]
    acting = next((n for n, (_, reading) in enumerate(readings) if reading in ACTING), None)
    early = {u.chat_id for u, _ in readings[:acting]}  # the chats before it (all: None)
    if not customers:
        return
    uow.customers.look_up(Channel.TELEGRAM, (u.chat_id for u in customers))
    stated: dict[str, str] = {}  # a new customer speaks as her chat's first message states
    for u in messages:
        if (s := stated_language(u.language_code)) is not None:
            stated.setdefault(u.chat_id, s)
    uow.customers.create_missing(
        Channel.TELEGRAM, [(u.chat_id, u.user_name) for u in messages], runtime.now(), stated
    )
    chats.lock_chats(u.chat_id for u in messages)
    known = (
        uow.customers.known(Channel.TELEGRAM, u.chat_id) for u in messages if u.chat_id in early
    )
    chats.look_up_open_tickets(c.id for c in known if c is not None)
    uow.messages.look_up_inbound(message_ref(u) for u in messages)


__all__ = ["look_up_updates"]
