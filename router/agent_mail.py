"""What an agent's mail to the desk becomes: a public answer, or an internal note.

Only an answer to a notice about a customer's message (a new ticket assigned or
offered, the customer's reply, an SLA warning about their waiting message) may
reach the customer, and only when the mail proves which notice it answers (the
notice's random Message-ID in In-Reply-To or References): a From line is easy to
forge. Everything else an agent writes about a ticket (an answer to a notice
about an internal note, mail that names the ticket only by its tag or
plus-address, a reply-all to the customer's thread) is an internal note.
"""

from __future__ import annotations

from router.vocabulary import OutboxKind

CUSTOMER_FACING_NOTICES = frozenset(
    {
        OutboxKind.ASSIGNMENT,
        OutboxKind.OFFER,
        OutboxKind.REPLY_NOTICE,
        OutboxKind.SLA_WARNING,
        OutboxKind.SLA_BREACHED,
    }
)


def answers_publicly(notice_kind: str | None) -> bool:
    """Whether an agent's answer to a notice of this kind goes to the customer.

    ``None``: the mail proved no notice (it named the ticket some other way).
    """
    return notice_kind in CUSTOMER_FACING_NOTICES
