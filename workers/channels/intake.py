"""The intake every inbound connector calls: commit the inbox row, then enqueue ingest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta

from connectors.ports import Receipt
from router.envelopes import InboundMessage
from router.ticket_views import TicketView
from router.vocabulary import Channel, RowState
from store.db import UnitOfWork
from store.errors import store_errors
from store.inbox import Accepted
from store.models import InboxItem
from workers.channels.commit_groups import CommitGroups
from workers.runtime import desk_metrics
from workers.runtime.context import Runtime

BEHIND_LOOK_S = 0.25


def same_request(stored: dict[str, object], message: InboundMessage) -> bool:
    """Whether a redelivery under one idempotency key carries the same request."""
    new = message.to_payload()
    fields = ("sender_address", "subject", "body_text", "external_id")
    return all(stored.get(f) == new[f] for f in fields)


def _receipt(item: InboxItem, duplicate: bool) -> Receipt:
    return Receipt(
        inbox_id=item.id,
        duplicate=duplicate,
        ticket_number=item.ticket_id,
        state=item.state,
        error=item.error,
        access_key=(item.payload or {}).get("access_key"),
    )


class StoreIntake:
    """Implements ``connectors.ports.Intake`` and ``TicketQueries`` over the store."""

    def __init__(self, runtime: Runtime, *, gather_s: float = 0.0) -> None:
        """``gather_s``: how long a commit may wait for the messages ``expect`` announced."""
        self.runtime = runtime
        self._behind = (-1.0, False)  # (when looked, whether web submissions were behind)
        # messages accepted by many threads at once (SMTP sessions, web requests) share
        # a transaction
        self._groups: CommitGroups[tuple[InboundMessage, bytes | None], Receipt] = CommitGroups(
            self.accept_many, gather_s=gather_s
        )

    def expect(self, messages: int) -> None:
        """How many messages ``accept`` is about to be given (``CommitGroups.expect``)."""
        self._groups.expect(messages)

    async def wait_settled(self, inbox_id: int, timeout: float) -> None:
        """Wait for the signal that ``inbox_id`` was processed, in this process or (on
        PostgreSQL) another; no query while waiting."""
        db = self.runtime.db
        db.listen_for_other_processes()
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(woken.set)

        unsubscribe = db.inbox_signals.subscribe(inbox_id, wake)
        try:
            await asyncio.wait_for(woken.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            unsubscribe()

    def _web_behind(self, uow: UnitOfWork) -> bool:
        """Whether a web submission has waited past ``web.intake_backlog_s`` (looked up at
        most every ``BEHIND_LOOK_S`` per process)."""
        looked, behind = self._behind
        clock = time.monotonic()
        if clock - looked >= BEHIND_LOOK_S:
            waited = timedelta(seconds=self.runtime.settings.web.intake_backlog_s)
            behind = uow.inbox.has_waiting(Channel.WEB, before=self.runtime.now() - waited)
            self._behind = (clock, behind)
        return behind

    def accept(self, message: InboundMessage, *, raw: bytes | None = None) -> Receipt:
        """Commit ``message``, in one transaction with those other threads are accepting
        meanwhile (``commit_groups``); raises as ``accept_many`` for it alone."""
        return self._groups.submit((message, raw), len(raw) if raw else 0)

    def accept_many(self, messages: Sequence[tuple[InboundMessage, bytes | None]]) -> list[Receipt]:
        """Commit every message (with its raw bytes) in one transaction: all or none.

        A connector holding several messages at once (an IMAP FETCH) pays for one
        commit instead of one each. Raises ``TransientError`` when the store is down,
        ``store.errors.RefusedValue`` when it refuses a value of a message.
        """
        runtime = self.runtime
        with store_errors("accepting a message"), runtime.db.unit_of_work() as uow:
            accepted = uow.inbox.accept_many(
                messages, now=runtime.now(), redrive_after=runtime.redrive_after
            )
            return [
                self._receipt_in(uow, message, one)
                for (message, _raw), one in zip(messages, accepted, strict=True)
            ]

    def keep_failed(self, message: InboundMessage, *, raw: bytes | None, reason: str) -> Receipt:
        """Keep a message that is not ingested as a failed inbox row with ``reason`` (for
        ``relaydesk inbox list --state failed``); nothing is enqueued. Idempotent."""
        with store_errors("keeping a failed message"), self.runtime.db.unit_of_work() as uow:
            accepted = uow.inbox.accept(
                message,
                now=self.runtime.now(),
                redrive_after=self.runtime.redrive_after,
                raw=raw,
                state=RowState.FAILED,
                error=reason,
            )
            return Receipt(inbox_id=accepted.inbox_id, duplicate=not accepted.created)

    def _receipt_in(self, uow: UnitOfWork, message: InboundMessage, accepted: Accepted) -> Receipt:
        runtime = self.runtime
        uow.after_commit(
            lambda: desk_metrics.accepted(message.channel.value, created=accepted.created)
        )
        if accepted.created:
            uow.after_commit(lambda: runtime.enqueue_accepted(accepted.inbox_id, message.channel))
            return Receipt(
                inbox_id=accepted.inbox_id,
                duplicate=False,
                access_key=message.access_key,
                behind=message.channel is Channel.WEB and self._web_behind(uow),
            )
        item = uow.inbox.get(accepted.inbox_id)
        assert item is not None
        if not same_request(item.payload or {}, message):
            return Receipt(inbox_id=item.id, duplicate=True, conflict=True)
        return _receipt(item, duplicate=True)

    def receipt(self, inbox_id: int) -> Receipt | None:
        with store_errors(f"reading submission {inbox_id}"), self.runtime.db.unit_of_work() as uow:
            item = uow.inbox.get(inbox_id)
            return _receipt(item, duplicate=False) if item else None

    def ticket(self, number: int) -> TicketView | None:
        with store_errors(f"reading ticket {number}"), self.runtime.db.unit_of_work() as uow:
            return uow.tickets.view(number)
