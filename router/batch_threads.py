"""What the rows of an ingest batch will write, for a later row of it to thread onto.

Ingest decides every row of a batch before it writes any (its new tickets in one
statement, its messages in another): a later row may answer a message an earlier
row of the batch carries (In-Reply-To / References), be a second copy of it (the
same Message-ID from the same sender), or name by its tag a ticket its sender
wrote on earlier in the batch. The store cannot show it those yet: this does,
with a ticket as the caller's ``T`` (a ticket an earlier row opens has no number
until the batch is written).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from router.thread_keys import addresses_in

T = TypeVar("T")


def first_thread(
    message_ids: Sequence[str], stored: Mapping[str, int], batch: Mapping[str, T]
) -> int | T | None:
    """The ticket a reply answers: the first of ``message_ids`` (In-Reply-To, then
    References newest first) that is known. For one Message-ID the stored ticket wins
    (we sent it, or an older message carried it): a later copy never takes the
    conversation away; a batch's row is newer than anything stored."""
    for message_id in dict.fromkeys(message_ids):
        if message_id in stored:
            return stored[message_id]
        if message_id in batch:
            return batch[message_id]
    return None


@dataclass
class BatchThreads(Generic[T]):
    """The messages a batch's decided rows will write: by Message-ID (the first row's
    wins, as the oldest stored one does), by (Message-ID, sender), and who wrote on a
    numbered ticket (with the addresses their mail was sent or copied to)."""

    by_message_id: dict[str, T] = field(default_factory=dict)
    by_inbound: dict[tuple[str, int], T] = field(default_factory=dict)
    writers: set[tuple[int, int]] = field(default_factory=set)  # (ticket number, customer)
    copied: dict[int, list[str]] = field(default_factory=dict)  # ticket number -> To, Cc

    def note(
        self,
        ticket: T,
        *,
        number: int | None,
        external_id: str | None,
        customer_id: int | None,
        recipients: Iterable[str] = (),
    ) -> None:
        """A row will write a customer's message on ``ticket`` (``number``: its number,
        None for a ticket the batch opens); ``recipients``: its To and Cc headers."""
        if external_id:
            self.by_message_id.setdefault(external_id, ticket)
            if customer_id is not None:
                self.by_inbound.setdefault((external_id, customer_id), ticket)
        if number is not None:
            if customer_id is not None:
                self.writers.add((number, customer_id))
            self.copied.setdefault(number, []).extend(r for r in recipients if r)

    def same_message(self, external_id: str, customer_id: int) -> T | None:
        """The ticket an earlier row puts this sender's message with this id on."""
        return self.by_inbound.get((external_id, customer_id))

    def took_part(self, number: int, customer_id: int, copied_address: str | None) -> bool:
        """Whether an earlier row has the customer write on ticket ``number``, or (with
        ``copied_address``) sent or copied a message on it to that address."""
        if (number, customer_id) in self.writers:
            return True
        if not copied_address:
            return False
        wanted = copied_address.strip().lower()
        return any(wanted in addresses_in(value) for value in self.copied.get(number, ()))
