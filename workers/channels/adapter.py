"""One channel's part in the pipeline, as the steps ask for it: the registry's entries.

The steps never ask which channel a message is on; they ask its adapter
(``runtime.channels[channel]``). An adapter overrides only what its channel does
differently from these defaults, as a python-telegram-bot handler overrides
``check_update`` / ``handle_update``:

- queues: ``inbound`` (an ingest queue ``ingest.<channel>``), ``outbound`` (a sender
  and a queue ``outbound.<channel>``);
- ingest: ``prepare`` (before the transaction), ``read`` (an envelope the connector
  kept unparsed), ``takes_answer`` (an agent writing on this channel; whether one
  ``may_take_answer``), ``learn_from`` (what a message says about its sender's
  address), ``thread`` (the ticket a message joins), ``acknowledge`` and
  ``reply_address`` (a new ticket's requester);
- deliver: ``make_sender``, ``records_sent`` and ``record_sent`` (what the far side's
  ids mean),
  ``failed_for_good``;
- people: ``agent_address`` and ``notify_agent`` (an agent reached on it),
  ``answered_on`` and ``answer_customer`` (a requester's answers),
  ``pass_answer_on`` (one that could not be delivered elsewhere), ``tell_pending``,
  ``tell_resolved``, ``tell_merged``, ``after_resolution``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from router.envelopes import AttachmentRef, InboundMessage, OutboundMessage
from router.errors import PermanentError
from router.vocabulary import Channel, OutboxKind, Status

if TYPE_CHECKING:
    from connectors.ports import Sender
    from router.notice_texts import Rendered
    from store.customers import CustomerRef
    from store.db import UnitOfWork
    from store.models import Ticket
    from store.outbox import Claimed
    from workers.desk.agent_notices import AgentContact, TicketBrief
    from workers.desk.outgoing import Gathered
    from workers.runtime.context import Runtime
    from workers.steps.ingest_email import AutoReplyLimit
    from workers.steps.ingest_writes import IngestWrites


class ChannelAdapter:
    channel: Channel
    inbound = True  # its connector writes inbox rows: an ingest queue
    outbound = False  # it sends: a sender and an outbound queue
    batches = True  # a worker with a backlog may take untouched rows of it along
    in_order = False  # one sender's rows are ingested one at a time, in order
    reads_raw = False  # ``read`` wants the row's raw bytes (a batch reads them at once)
    reads_ahead = True  # a batch reads its messages before ingesting any
    auto_reply_limited = False  # acknowledgements count against the auto-reply limit
    answered_on: Channel | None = None  # its requesters are answered on another channel
    agent_preference = 100  # agents are reached on the lowest of the channels they are on

    # -- ingest: before the transaction ----------------------------------------
    def prepare(self, runtime: Runtime, inbox_id: int, along: Sequence[int] = ()) -> Any:
        """Work done before the transaction (e.g. files fetched), handed to ``read``
        (``along``: the rows of its batch, ingested with it in order)."""
        return None

    def prepare_batch(self, runtime: Runtime, inbox_ids: Sequence[int]) -> dict[int, Any]:
        """``prepare`` for a batch's rows, each along the others."""
        return {i: self.prepare(runtime, i, along=inbox_ids) for i in inbox_ids}

    # -- ingest: in the row's transaction ----------------------------------------
    def read(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        inbox_id: int,
        envelope: InboundMessage,
        prepared: Any,
        raw: bytes | None = None,
        earlier: IngestWrites | None = None,
    ) -> InboundMessage | None:
        """The whole message behind an unparsed envelope; None when it was handled here
        (a command, an agent's action: the inbox row is finished then). ``earlier``: the
        rows of a batch decided before it, not written yet (a channel that does not
        ``reads_ahead`` writes them first when its reading acts)."""
        raise PermanentError(f"{self.channel.value}: an unparsed message, and no reader")

    def look_up(self, runtime: Runtime, uow: UnitOfWork, prepared: Mapping[int, Any]) -> None:
        """Ask at once what a batch's rows (by inbox id, as prepared), read as they come
        (not ``reads_ahead``), will each ask the store; kept in the unit of work."""

    def may_take_answer(self, runtime: Runtime, uow: UnitOfWork, message: InboundMessage) -> bool:
        """Whether ``takes_answer`` may take the message (an agent wrote it): an ingest
        batch writes what it decided before, so that the answer finds it in the store."""
        return False

    def takes_answer(
        self, runtime: Runtime, uow: UnitOfWork, message: InboundMessage, inbox_id: int
    ) -> bool:
        """Whether the message is an agent's answer, taken here (the row is done)."""
        return False

    def learn_from(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> None:
        """What the message says about an address (a bounce, a person writing again)."""

    def thread(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        message: InboundMessage,
        customer: CustomerRef | None,
    ) -> Ticket | None:
        """The ticket the message joins, locked; None: it opens a new one."""
        return None

    def reply_address(self, runtime: Runtime, message: InboundMessage) -> str | None:
        """The address of ours the requester wrote to, when our answers come from it."""
        return None

    def acknowledge(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket_id: int,
        message: InboundMessage,
        limit: AutoReplyLimit | None = None,
        gather: Gathered | None = None,
    ) -> None:
        """Tell a new ticket's requester it was received (``limit`` and ``gather``: a
        batch's; an adapter that needs its message's id at once passes ``at_once`` with
        the gather, never queues it beside: a chat's rows leave in the order written)."""

    # -- deliver -------------------------------------------------------------------
    def make_sender(self, runtime: Runtime) -> Sender:
        raise PermanentError(f"no outbound connector for channel {self.channel.value}")

    def records_sent(self, message: OutboundMessage) -> bool:
        """Whether ``record_sent`` writes anything for ``message`` sent whole: if not,
        delivery records the row in one statement (``Database.one_statement``), without
        calling it. By default: whether ``record_sent`` is overridden. An adapter whose
        ``record_sent`` writes for some messages only says which here, beside it (the
        registry refuses a ``record_sent`` overridden below the ``records_sent`` that
        speaks for it: ``unsaid_record``)."""
        return type(self).record_sent is not ChannelAdapter.record_sent

    def record_sent(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        outbox_id: int,
        claimed: Claimed,
        parts: list[str],
        message: OutboundMessage | None = None,
    ) -> None:
        """The far side's ids of what went out (``message``: sent whole, when
        ``records_sent`` says so; else ``parts`` of it went out before a failure or a
        hold)."""

    def failed_for_good(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        outbox_id: int,
        message: OutboundMessage,
        error: BaseException,
    ) -> None:
        """A row of this channel failed for good (in the transaction that says so)."""

    # -- reaching people ------------------------------------------------------------
    def agent_address(self, runtime: Runtime, contact: AgentContact) -> str | None:
        """Where ``contact`` is told things on this channel; None: not on it."""
        return None

    def notify_agent(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        contact: AgentContact,
        brief: TicketBrief,
        *,
        kind: OutboxKind,
        rendered: Rendered,
        dedupe_key: str | None,
        detail: str = "",
        gather: Gathered | None = None,
    ) -> int | None:
        raise PermanentError(f"agents are not told things by {self.channel.value}")

    def answer_customer(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket: Ticket,
        text: str,
        *,
        agent_name: str,
        message_id: str,
        dedupe_key: str | None,
        confirm_chat_id: str | None,
        files: tuple[AttachmentRef, ...] = (),
    ) -> str:
        """Queue an agent's public answer to the ticket's requester, with ``files`` (kept);
        the text sent."""
        raise PermanentError(f"requesters are not answered by {self.channel.value}")

    def pass_answer_on(
        self,
        runtime: Runtime,
        uow: UnitOfWork,
        ticket: Ticket,
        address: str,
        text: str,
        *,
        dedupe_key: str,
        confirm_chat_id: str | None,
    ) -> bool:
        """Queue an answer that could not be delivered on the ticket's channel to the
        requester's ``address`` on this one; False when this channel carries no answers."""
        return False

    def tell_pending(
        self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket, *, asked: str, reminder: bool
    ) -> None:
        """Tell the requester of ``ticket`` it waits for them (``asked``: what was asked)."""

    def tell_resolved(self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket) -> None:
        """Tell the requester of ``ticket`` (of a channel this one answers) it was resolved."""

    def tell_merged(
        self, runtime: Runtime, uow: UnitOfWork, source: Ticket, target: Ticket
    ) -> None:
        """Tell the requester of ``source`` (of a channel this one answers) that it was
        merged into ``target``: their request goes on there."""

    def after_resolution(
        self, runtime: Runtime, uow: UnitOfWork, ticket: Ticket, status: Status
    ) -> None:
        """``ticket`` was just resolved or closed (in this transaction)."""

    def close(self) -> None:
        """Let go of what the adapter holds (a client's connections)."""


def _defined_by(kind: type, name: str) -> type:
    """The class whose own ``name`` instances of ``kind`` use."""
    return next(c for c in kind.__mro__ if name in vars(c))


def unsaid_record(kind: type[ChannelAdapter]) -> bool:
    """Whether ``kind`` overrides ``record_sent`` below the class whose ``records_sent``
    speaks for it (a subclass of an adapter that said when it writes, writing otherwise):
    delivery would go on skipping it wherever that ``records_sent`` says nothing is kept."""
    says = _defined_by(kind, "records_sent")
    writes = _defined_by(kind, "record_sent")
    return says is not ChannelAdapter and writes is not says and issubclass(writes, says)


__all__ = ["ChannelAdapter", "unsaid_record"]
