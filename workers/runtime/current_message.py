"""The broker message the current worker thread is running, for steps that must know
whether they run the same message again (a claim made by an earlier run of it is theirs
to take back: ``store.outbox_leases``)."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage


def current_message_id() -> str | None:
    """The id of the message this thread runs (the same for its retries and its
    redeliveries), or None outside a worker thread."""
    message = CurrentMessage.get_current_message()
    return None if message is None else str(message.message_id)
