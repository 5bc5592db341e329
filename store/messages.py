"""The messages of tickets: adding them, and the look-ups threading needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import (
    BindParameter,
    Executable,
    Integer,
    bindparam,
    case,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from router.batch_threads import BatchThreads, first_thread
from router.envelopes import AttachmentRef
from router.thread_keys import SentOn, addresses_in, followed_chain
from router.vocabulary import Channel, Direction, OutboxKind
from store.dialect import table
from store.message_rows import NewMessage, insert_messages, message_row
from store.models import Attachment, Message, OutboxItem, Ticket

# the mail of ours a requester receives on a ticket (the rest goes to agents)
_CONVERSATION_KINDS = (
    OutboxKind.ACKNOWLEDGEMENT.value,
    OutboxKind.REPLY.value,
    OutboxKind.RESOLVED.value,  # the requester's notices: a reply to one threads too
    OutboxKind.PENDING.value,
    OutboxKind.MERGED.value,
)


# Built once, given their values as parameters (see ``store.dialect``): every ingest
# batch runs the first, every reply the other two.
# which of some external ids a customer sent us already (``look_up_inbound``)
_INBOUND_BY_EXTERNAL_IDS = (
    select(Message.external_id, Message.customer_id, Message.ticket_id)
    .where(
        Message.external_id.in_(bindparam("external_ids", expanding=True)),
        Message.direction == Direction.INBOUND.value,
        Message.customer_id.is_not(None),
    )
    .order_by(Message.id.desc())  # the oldest is written last: it is the one kept
)
# the tickets of Message-IDs we sent, and of those we received (``ticket_of_message_ids``)
_SENT_WITH_IDS = select(OutboxItem.message_id, OutboxItem.ticket_id).where(
    OutboxItem.message_id.in_(bindparam("ids", expanding=True)),
    OutboxItem.ticket_id.is_not(None),
)
_RECEIVED_WITH_IDS = (
    select(Message.external_id, Message.ticket_id)
    .where(Message.external_id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id.desc())
)


@dataclass
class KnownInbound:
    """Inbound messages looked up by external id for a unit of work (a batch asks once)."""

    asked: set[str] = field(default_factory=set)  # the external ids looked up
    tickets: dict[tuple[str, int], int] = field(default_factory=dict)  # (id, customer) -> ticket
    batch: BatchThreads[Ticket] = field(default_factory=BatchThreads)  # decided, not written


class MessageRepository:
    def __init__(self, session: Session, known: KnownInbound | None = None) -> None:
        self.session = session
        self._known = KnownInbound() if known is None else known

    def look_up_inbound(self, external_ids: Iterable[str]) -> None:
        """Look up which of ``external_ids`` some customer sent us already, in one query,
        for ``ticket_with_inbound``; the messages this unit of work adds are counted too."""
        wanted = set(external_ids) - self._known.asked
        if not wanted:
            return
        found = self.session.execute(_INBOUND_BY_EXTERNAL_IDS, {"external_ids": sorted(wanted)})
        for external_id, customer_id, ticket_id in cast("Iterable[tuple[str, int, int]]", found):
            self._known.tickets[(external_id, customer_id)] = ticket_id
        self._known.asked |= wanted

    def add(
        self,
        ticket_id: int,
        *,
        direction: Direction,
        channel: Channel,
        author: str,
        body_text: str,
        now: datetime,
        body_html: str | None = None,
        full_text: str | None = None,
        headers: dict[str, str] | None = None,
        external_id: str | None = None,
        customer_id: int | None = None,
        agent_id: int | None = None,
        inbox_id: int | None = None,
        attachments: Sequence[AttachmentRef] = (),
    ) -> int:
        row = message_row(
            ticket_id,
            direction=direction,
            channel=channel,
            author=author,
            body_text=body_text,
            now=now,
            body_html=body_html,
            full_text=full_text,
            headers=headers,
            external_id=external_id,
            customer_id=customer_id,
            agent_id=agent_id,
            inbox_id=inbox_id,
        )
        return self.add_many([NewMessage(row, attachments)])[0]

    def add_many(self, new: Sequence[NewMessage]) -> list[int]:
        """Write ``new`` (rows made by ``message_row``; one statement for many, and one for
        their files: ``store.message_rows``); their ids, in the order given."""
        ids = insert_messages(self.session, new)
        for one in new:
            row = one.values
            inbound = row["direction"] == Direction.INBOUND.value
            if inbound and row["external_id"] and row["customer_id"] is not None:
                key = (row["external_id"], row["customer_id"])
                self._known.tickets.setdefault(key, row["ticket_id"])
        return ids

    @property
    def batch(self) -> BatchThreads[Ticket]:
        """What the rows of this unit of work's ingest batch decided to write, not written
        yet (``router.batch_threads``)."""
        return self._known.batch

    def latest_inbound_files(self, ticket_id: int) -> tuple[AttachmentRef, ...]:
        """The files of the customer's latest message on the ticket (for its notices)."""
        latest = (
            select(func.max(Message.id))
            .where(Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND.value)
            .scalar_subquery()
        )
        rows = self.session.scalars(
            select(Attachment).where(Attachment.message_id == latest).order_by(Attachment.id)
        )
        return tuple(
            AttachmentRef(
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
                inline=a.inline,
                skipped=a.skipped,
            )
            for a in rows
        )

    def move_merged(self, source: int, target: int) -> int:
        """Move every message of ticket ``source`` to ``target`` (a merge), each marked with
        the ticket it first came from; how many moved."""
        moved = self.session.scalar(
            select(func.count(Message.id)).where(Message.ticket_id == source)
        )
        self.session.execute(
            update(Message)
            .where(Message.ticket_id == source)
            .values(ticket_id=target, merged_from_id=func.coalesce(Message.merged_from_id, source))
            .execution_options(synchronize_session=False)
        )
        return int(moved or 0)

    def attachments(self, message_id: int) -> list[Attachment]:
        query = select(Attachment).where(Attachment.message_id == message_id)
        return list(self.session.scalars(query.order_by(Attachment.id)))

    def ticket_of_message_ids(self, message_ids: Sequence[str]) -> int | None:
        """The ticket a reply answers: the first of ``message_ids`` (In-Reply-To, then
        References newest first) that is known, as a Message-ID we sent, else as the
        oldest message that carried it (a later copy under someone else's ticket, e.g.
        a Message-ID re-used on purpose, never takes the conversation away)."""
        found = first_thread(message_ids, self._stored_threads(message_ids), {})
        return cast("int | None", found)

    def thread_of(self, message_ids: Sequence[str]) -> int | Ticket | None:
        """``ticket_of_message_ids``, and a ticket an earlier row of this unit of work's
        ingest batch writes a message with one of the ids on (``batch``): that ticket
        (opened by the batch: not written yet)."""
        stored = self._stored_threads(message_ids)
        return first_thread(message_ids, stored, self.batch.by_message_id)

    def _stored_threads(self, message_ids: Sequence[str]) -> dict[str, int]:
        """The ticket of each of ``message_ids`` that is stored: of the mail we sent with
        it, else of the oldest message that carried it."""
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        ours: dict[str, int] = {}
        for message_id, ticket_id in self.session.execute(_SENT_WITH_IDS, {"ids": ids}):
            if ticket_id is not None:
                ours[message_id] = ticket_id
        received: dict[str, int] = {}
        for external_id, ticket_id in self.session.execute(_RECEIVED_WITH_IDS, {"ids": ids}):
            if external_id is not None:
                received[external_id] = ticket_id  # the oldest is written last
        return received | ours  # ours first

    def notice_to(self, message_ids: Sequence[str], address: str) -> tuple[int, str] | None:
        """The ticket and kind of the latest message we sent to ``address`` among
        ``message_ids`` (what an agent's mail answers), if any."""
        if not message_ids:
            return None
        row = self.session.execute(
            select(OutboxItem.ticket_id, OutboxItem.kind)
            .where(
                OutboxItem.message_id.in_(list(message_ids)),
                func.lower(OutboxItem.recipient) == address.strip().lower(),
                OutboxItem.ticket_id.is_not(None),
            )
            .order_by(OutboxItem.id.desc())
            .limit(1)
        ).first()
        if row is None or row[0] is None:
            return None
        return int(row[0]), str(row[1])

    def ticket_with_inbound(self, external_id: str, customer_id: int) -> int | None:
        """The ticket already holding this sender's inbound message with this external id."""
        if external_id in self._known.asked:
            return self._known.tickets.get((external_id, customer_id))
        return self.session.scalars(
            select(Message.ticket_id)
            .where(
                Message.external_id == external_id,
                Message.direction == Direction.INBOUND.value,
                Message.customer_id == customer_id,
            )
            .limit(1)
        ).first()

    def latest_answer(self, ticket_id: int) -> tuple[str, datetime] | None:
        """The text of the agents' latest public answer on the ticket, and when."""
        row = self.session.execute(
            select(Message.body_text, Message.created_at)
            .where(
                Message.ticket_id == ticket_id,
                Message.direction == Direction.OUTBOUND.value,
                Message.agent_id.is_not(None),
            )
            .order_by(Message.id.desc())
            .limit(1)
        ).first()
        return (row[0], row[1]) if row is not None else None

    def conversation(self, ticket_id: int) -> tuple[list[SentOn], list[str]]:
        """The ticket's conversation as mail threads it, oldest first: the requester's
        messages and our mail to them (acknowledgement, replies) that have a Message-ID;
        and the References its first message carried (what it followed up). One statement,
        built once (``_CONVERSATION``): in order, and only the first message's headers."""
        first_headers: dict[str, str] | None = None
        seen: set[str] = set()
        conversation = []
        for source, thread_id, direction, headers in self.session.execute(
            _conversation(), {"ticket_id": ticket_id}
        ):
            inbound = source == 0 and direction == Direction.INBOUND.value
            if headers is not None:  # the row the statement marked, wherever time puts it
                first_headers = dict(headers)
            if source == 0 and not (thread_id and thread_id.startswith("<")):
                continue
            if thread_id not in seen:  # a message before the mail it caused at the same time
                seen.add(thread_id)
                conversation.append(SentOn(thread_id, from_requester=inbound))
        return conversation, followed_chain(first_headers or {})

    def latest_inbound_texts(self, ticket_ids: Sequence[int]) -> dict[int, str]:
        """The customer's latest message on each ticket, in one query (for notices)."""
        if not ticket_ids:
            return {}
        latest = (
            select(func.max(Message.id))
            .where(
                Message.ticket_id.in_(list(ticket_ids)),
                Message.direction == Direction.INBOUND.value,
            )
            .group_by(Message.ticket_id)
        )
        rows = self.session.execute(
            select(Message.ticket_id, Message.body_text).where(Message.id.in_(latest))
        )
        return {ticket_id: text for ticket_id, text in rows}

    def is_participant(
        self, ticket_id: int, customer_id: int, *, copied_address: str | None = None
    ) -> bool:
        """Whether the customer is the ticket's requester or has written on it; with
        ``copied_address``, also whether that address was on To or Cc of a message the
        ticket received (a colleague the requester copied). An earlier row of this unit of
        work's ingest batch counts too (``batch``)."""
        if self.batch.took_part(ticket_id, customer_id, copied_address):
            return True
        if self._requester_or_writer(ticket_id, customer_id):
            return True
        if not copied_address:
            return False
        ours = copied_address.strip().lower()
        for headers in self.session.scalars(
            select(Message.headers).where(
                Message.ticket_id == ticket_id, Message.direction == Direction.INBOUND.value
            )
        ):
            for name in ("To", "Cc"):
                if ours in addresses_in((headers or {}).get(name, "")):
                    return True
        return False

    def _requester_or_writer(self, ticket_id: int, customer_id: int) -> bool:
        requester = self.session.scalar(select(Ticket.requester_id).where(Ticket.id == ticket_id))
        if requester is None:
            return False
        if requester == customer_id:
            return True
        return (
            self.session.scalars(
                select(Message.id)
                .where(Message.ticket_id == ticket_id, Message.customer_id == customer_id)
                .limit(1)
            ).first()
            is not None
        )


@cache
def _conversation() -> Executable:
    """``MessageRepository.conversation``'s statement, built once: the ticket's messages
    (internal notes aside) and our mail to its requester, in the order mail threads them
    (by time; a message before the mail it caused at the same time; then by id), each as
    (source: 0 a message, 1 our mail; its Message-ID; its direction; the headers of the
    requester's first message, the inbound one of the lowest id, None on every other row)."""
    messages, outbox = table(Message), table(OutboxItem)
    ticket_id: BindParameter[int] = bindparam("ticket_id", type_=Integer)
    first_inbound = (
        select(func.min(messages.c.id))
        .where(
            messages.c.ticket_id == ticket_id,
            messages.c.direction == Direction.INBOUND.value,
        )
        .scalar_subquery()
    )
    ours = select(
        literal(0).label("source"),
        messages.c.id.label("row_id"),
        messages.c.external_id.label("thread_id"),
        messages.c.direction.label("direction"),
        messages.c.created_at.label("at"),
        case((messages.c.id == first_inbound, messages.c.headers)).label("headers"),
    ).where(
        messages.c.ticket_id == ticket_id,
        messages.c.direction != Direction.INTERNAL.value,
    )
    mails = select(
        literal(1), outbox.c.id, outbox.c.message_id, literal(Direction.OUTBOUND.value),
        outbox.c.created_at, null(),
    ).where(
        outbox.c.ticket_id == ticket_id,
        outbox.c.channel == Channel.EMAIL.value,
        outbox.c.kind.in_(_CONVERSATION_KINDS),
    )  # fmt: skip
    thread = union_all(ours, mails).subquery("thread")
    return select(
        thread.c.source, thread.c.thread_id, thread.c.direction, thread.c.headers
    ).order_by(thread.c.at, thread.c.source, thread.c.row_id)
