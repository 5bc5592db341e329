"""The outbox: rendered messages waiting to be delivered, each with a stable Message-ID."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, aliased

from router.envelopes import OutboundMessage
from router.storable import is_id
from router.vocabulary import OutboxKind, RowState
from store import outbox_leases, outbox_outcomes, outbox_rows, outbox_sent, retryable_rows
from store.models import OutboxItem
from store.outbox_leases import Claimed, under
from store.outbox_rows import Queued

UNFINISHED = (RowState.PENDING, RowState.SENDING)
_UNFINISHED_STATES = [state.value for state in UNFINISHED]


# how many automatic messages went to each of some recipients since a time (``automatic_since``:
# every ingest batch asks); built once, given its values as parameters (see ``store.dialect``)
_AUTOMATIC_SINCE = (
    select(OutboxItem.recipient, func.count())
    .where(
        OutboxItem.recipient.in_(bindparam("recipients", expanding=True)),
        OutboxItem.created_at >= bindparam("since"),
        OutboxItem.automatic.is_(True),
    )
    .group_by(OutboxItem.recipient)
)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        message: OutboundMessage,
        *,
        kind: OutboxKind,
        ticket_id: int | None,
        now: datetime,
        redrive_after: timedelta,
        dedupe_key: str | None = None,
        agent_id: int | None = None,
        sequence_key: str | None = None,
        confirm_chat_id: str | None = None,
    ) -> int | None:
        """Queue ``message``; None if a row with the same ``dedupe_key`` (or Message-ID)
        already exists.

        ``agent_id``: the agent a notice is for, whichever channel it goes by.
        ``sequence_key``: rows with one key (a chat's messages) are sent one at a time,
        oldest first. ``confirm_chat_id``: the chat of the agent who sent this reply from
        there, told once it is delivered or failed.
        """
        queued = Queued(
            message,
            kind=kind,
            ticket_id=ticket_id,
            dedupe_key=dedupe_key,
            agent_id=agent_id,
            sequence_key=sequence_key,
            confirm_chat_id=confirm_chat_id,
        )
        return self.add_many([queued], now=now, redrive_after=redrive_after)[0]

    def add_many(
        self, queued: Sequence[Queued], *, now: datetime, redrive_after: timedelta
    ) -> list[int | None]:
        """``add`` for many messages, in one statement on PostgreSQL: their ids in the
        order given, None for each queued before (``outbox_rows.insert``)."""
        return outbox_rows.insert(self.session, queued, now=now, redrive_after=redrive_after)

    def keyed(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` some row was queued under."""
        if not keys:
            return set()
        found = self.session.scalars(
            select(OutboxItem.dedupe_key).where(OutboxItem.dedupe_key.in_(list(keys)))
        )
        return {k for k in found if k is not None}

    def get(self, outbox_id: int) -> OutboxItem | None:
        if not is_id(outbox_id):
            return None
        return self.session.get(OutboxItem, outbox_id)

    def claim(
        self,
        outbox_id: int,
        *,
        now: datetime,
        lease: timedelta,
        max_attempts: int = 1_000,
        holder: str | None = None,
        dead_after: timedelta | None = None,
        attempt: str | None = None,
    ) -> Claimed | None:
        """Take a pending row (or one whose previous lease ran out, or whose holder's
        heartbeat stopped ``dead_after`` ago, or that an earlier run of the broker message
        ``attempt`` claimed) for one delivery attempt by ``holder``.

        A row that has used ``max_attempts`` is not taken: the sweep fails it. Each
        claim has a new token: an earlier holder that wakes up has lost the row.
        """
        return self.claim_many(
            [outbox_id],
            now=now,
            lease=lease,
            max_attempts=max_attempts,
            holder=holder,
            dead_after=dead_after,
            attempt=attempt,
        ).get(outbox_id)

    def claim_many(
        self,
        outbox_ids: list[int],
        *,
        now: datetime,
        lease: timedelta,
        max_attempts: int = 1_000,
        holder: str | None = None,
        dead_after: timedelta | None = None,
        attempt: str | None = None,
    ) -> dict[int, Claimed]:
        """``claim`` for many rows in one statement: {id: claimed}, by id; rows another
        attempt holds, that are done, that must wait (``not_before``), or that wait for an
        older unfinished row of their sequence, are left out."""
        return outbox_leases.claim(
            self.session,
            outbox_ids,
            now=now,
            lease=lease,
            max_attempts=max_attempts,
            holder=holder,
            dead_after=dead_after,
            attempt=attempt,
        )

    def still_held(
        self, outbox_id: int, *, token: str | None, now: datetime, lease: timedelta
    ) -> bool:
        """See ``outbox_leases.still_held``: False means do not send."""
        return outbox_leases.still_held(self.session, outbox_id, token=token, now=now, lease=lease)

    def release_dead(
        self, *, now: datetime, dead_after: timedelta, again_after: timedelta, limit: int
    ) -> list[tuple[int, str]]:
        """See ``outbox_leases.release_dead``."""
        return outbox_leases.release_dead(
            self.session, now=now, dead_after=dead_after, again_after=again_after, limit=limit
        )

    def release_holder(self, holder: str, *, now: datetime) -> list[tuple[int, str]]:
        """See ``outbox_leases.release_holder``."""
        return outbox_leases.release_holder(self.session, holder, now=now)

    def release(self, outbox_ids: list[int], *, now: datetime, token: str | None = None) -> None:
        """Give back rows claimed and not tried (a batch stopped short): pending again,
        the claim's attempt not counted. With ``token``, only rows still under it."""
        if outbox_ids:
            self.session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.id.in_(outbox_ids),
                    OutboxItem.state == RowState.SENDING.value,
                    under(token),
                )
                .values(
                    state=RowState.PENDING.value,
                    attempts=OutboxItem.attempts - 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )

    def hold(
        self,
        outbox_id: int,
        *,
        until: datetime,
        reason: str,
        now: datetime,
        redrive_after: timedelta,
        progress: str | None = None,
        token: str | None = None,
    ) -> None:
        """The far side asked to wait: pending again, not sent before ``until``, the
        attempt not counted (a flood is no failure), re-driven after ``until`` if the
        message that should come back for it is lost. ``progress`` as for
        ``mark_failed_attempt``."""
        values: dict[str, Any] = {
            "state": RowState.PENDING.value,
            "attempts": OutboxItem.attempts - 1,
            "not_before": until,
            "available_at": until + redrive_after,
            "error": reason[:4000],
            "updated_at": now,
        }
        if progress:
            values["external_id"] = progress[:255]
        self.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == outbox_id,
                OutboxItem.state == RowState.SENDING.value,
                under(token),
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )

    def next_in_sequence(self, outbox_id: int) -> tuple[int, str] | None:
        """The oldest unfinished row of ``outbox_id``'s sequence after it (whose turn it
        is once ``outbox_id`` is done) as (id, channel), or None."""
        mine = aliased(OutboxItem)
        row = self.session.execute(
            select(OutboxItem.id, OutboxItem.channel)
            .where(
                OutboxItem.sequence_key
                == select(mine.sequence_key).where(mine.id == outbox_id).scalar_subquery(),
                OutboxItem.state.in_(_UNFINISHED_STATES),
                OutboxItem.id != outbox_id,
            )
            .order_by(OutboxItem.id)
            .limit(1)
        ).first()
        return None if row is None else (row[0], row[1])

    def mark_sent(
        self,
        outbox_id: int,
        *,
        external_id: str,
        now: datetime,
        token: str | None = None,
        event: dict[str, Any] | None = None,
    ) -> bool:
        """Done; False if ``token`` no longer holds the row (another attempt took it).
        ``event``: the audit event of the record, written with it (``store.outbox_sent``)."""
        return outbox_sent.mark_sent(
            self.session, outbox_id, external_id=external_id, now=now, token=token, event=event
        )

    def mark_sent_fencing_next(
        self,
        outbox_id: int,
        *,
        external_id: str,
        now: datetime,
        token: str | None,
        following: tuple[int, str | None],
        lease: timedelta,
        event: dict[str, Any] | None = None,
    ) -> tuple[bool, bool]:
        """``mark_sent``, and ``still_held`` for the row a batch sends next (``following``:
        its id and token), in one statement: (done, the next one still ours)."""
        return outbox_sent.sent_fencing_next(
            self.session,
            outbox_id,
            external_id=external_id,
            now=now,
            token=token,
            following=following,
            lease=lease,
            event=event,
        )

    def mark_failed_attempt(
        self,
        outbox_id: int,
        *,
        error: str,
        permanent: bool,
        max_attempts: int,
        now: datetime,
        retry_after: timedelta,
        progress: str | None = None,
        token: str | None = None,
    ) -> RowState:
        """Back to pending for a retry, or failed when permanent or out of attempts.

        ``progress``: the parts of a split message delivered before the failure (kept
        as the row's external id, so the retry sends only the rest)."""
        return outbox_outcomes.failed_attempt(
            self.session,
            outbox_id,
            error=error,
            permanent=permanent,
            max_attempts=max_attempts,
            now=now,
            retry_after=retry_after,
            progress=progress,
            token=token,
        )

    def offers_since(self, ticket_id: int, since: datetime) -> set[int]:
        """Claim mode: the agents offered the ticket since ``since`` (by any channel)."""
        rows = self.session.scalars(
            select(OutboxItem.agent_id).where(
                OutboxItem.ticket_id == ticket_id,
                OutboxItem.kind == OutboxKind.OFFER.value,
                OutboxItem.created_at >= since,
                OutboxItem.agent_id.is_not(None),
            )
        )
        return {int(agent_id) for agent_id in rows if agent_id is not None}

    def automatic_since(self, recipients: Iterable[str], since: datetime) -> dict[str, int]:
        """How many automatic messages were queued for each of ``recipients`` since ``since``."""
        wanted = sorted(set(recipients))
        if not wanted:
            return {}
        counts = dict.fromkeys(wanted, 0)
        values = {"recipients": wanted, "since": since}
        for recipient, count in self.session.execute(_AUTOMATIC_SINCE, values):
            counts[recipient] = int(count)
        return counts

    def mark_bounced(
        self, message_id: str, *, reason: str, now: datetime, only_for: Sequence[str] = ()
    ) -> OutboxItem | None:
        """Fail the sent row of ``message_id``: its mail bounced. The row, if it qualifies.

        Only a row already sent, and, when ``only_for`` names addresses, only one
        whose recipient is among them.
        """
        return outbox_outcomes.bounced(
            self.session, message_id, reason=reason, now=now, only_for=only_for
        )

    def retry(self, outbox_id: int, now: datetime) -> bool:
        """Give a failed delivery another full set of attempts (an operator's decision)."""
        return retryable_rows.reopen_failed(self.session, OutboxItem, outbox_id, now)

    def recent(
        self, *, ticket_id: int | None = None, state: RowState | None = None, limit: int = 50
    ) -> list[OutboxItem]:
        query = select(OutboxItem).order_by(OutboxItem.id.desc()).limit(limit)
        if ticket_id is not None:
            query = query.where(OutboxItem.ticket_id == ticket_id)
        if state is not None:
            query = query.where(OutboxItem.state == state.value)
        return list(self.session.scalars(query))

    def give_up_exhausted(
        self, *, now: datetime, max_attempts: int
    ) -> list[tuple[int, int | None, str]]:
        """Fail deliveries that never reported back; returns (id, ticket id, recipient)."""
        rows = retryable_rows.fail_exhausted(
            self.session,
            OutboxItem,
            UNFINISHED,
            now=now,
            max_attempts=max_attempts,
            returning=(OutboxItem.id, OutboxItem.ticket_id, OutboxItem.recipient),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def due_for_redrive(
        self, *, now: datetime, again_after: timedelta, limit: int
    ) -> list[tuple[int, str]]:
        """Pending rows and expired deliveries, moved on and returned as (id, channel)."""
        return retryable_rows.take_due(
            self.session, OutboxItem, UNFINISHED, now=now, again_after=again_after, limit=limit
        )

    def make_all_due(self, now: datetime) -> None:
        retryable_rows.make_due(self.session, OutboxItem, UNFINISHED, now)

    def make_recent_due(self, *, since: datetime, now: datetime, redrive_after: timedelta) -> int:
        """See ``retryable_rows.make_recent_due``."""
        return retryable_rows.make_recent_due(
            self.session, OutboxItem, since=since, now=now, redrive_after=redrive_after
        )

    def make_pending_due(self, now: datetime) -> None:
        """Pending rows due at once; rows being sent keep their lease (a broker that
        lost its messages: a live worker may still be sending them)."""
        retryable_rows.make_due(self.session, OutboxItem, (RowState.PENDING,), now)
