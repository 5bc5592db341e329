"""What a message says about the ticket it belongs to: the keys to look up, in order.

1. Message-IDs it answers (In-Reply-To, References; for a bounce, the bounced
   message), looked up among every Message-ID received or sent;
2. the subject tag ``[#1234]``, trusted only when the sender takes part in
   that ticket (the caller checks);
3. a plus-address of one of our addresses, ``support+1234@example.com``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from router.envelopes import InboundMessage
from router.storable import is_id


@dataclass(frozen=True)
class ThreadKeys:
    """Lookup keys, strongest first."""

    message_ids: tuple[str, ...]
    subject_number: int | None
    plus_number: int | None = None


@dataclass(frozen=True)
class OwnAddresses:
    """The addresses and domains that are ours: where plus-addresses point, what loops."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        address = address.strip().lower()
        return address in self.addresses or address.rpartition("@")[2] in self.domains

    def base_of(self, address: str) -> tuple[str, str] | None:
        """``("support@x", "1234")`` for ``support+1234@x`` when the base is ours."""
        local, at, domain = address.strip().lower().rpartition("@")
        base, plus, detail = local.partition("+")
        if not (at and plus and base and detail):
            return None
        candidate = f"{base}@{domain}"
        return (candidate, detail) if candidate in self else None


def subject_tag(number: int, prefix: str = "#") -> str:
    return f"[{prefix}{number}]"


def tag_pattern(prefix: str = "#") -> re.Pattern[str]:
    return re.compile(r"\[" + re.escape(prefix) + r"(\d{1,12})\]")


def plus_address(address: str, number: int) -> str:
    """``support+1234@example.com`` for ``support@example.com`` and ticket 1234."""
    local, _, domain = address.rpartition("@")
    return f"{local}+{number}@{domain}"


def our_address_written_to(
    recipients: Iterable[str], own: OwnAddresses, mailbox_address: str = ""
) -> str | None:
    """The address of ours a customer wrote to, for our answers to come from it.

    ``mailbox_address``: the address of the mailbox the mail was read from, when it
    has one (a mailbox receives its own address, whatever the headers say); else
    the first recipient that is ours, a plus-address counting as its base. None
    when no recipient is ours (a Bcc, a forward, a web form).
    """
    if mailbox_address:
        return mailbox_address.strip().lower()
    for recipient in recipients:
        address = recipient.strip().lower()
        found = own.base_of(address)
        if found is not None:
            return found[0]
        if address in own:
            return address
    return None


def plus_number(recipients: Iterable[str], own: OwnAddresses) -> int | None:
    for recipient in recipients:
        found = own.base_of(recipient)
        if found is not None and found[1].isdigit() and len(found[1]) <= 12:
            number = int(found[1])
            return number if is_id(number) else None
    return None


def thread_keys(
    message: InboundMessage, tag_prefix: str = "#", own: OwnAddresses | None = None
) -> ThreadKeys:
    candidates = list(message.in_reply_to)
    if message.bounce is not None and message.bounce.original_message_id:
        candidates.insert(0, message.bounce.original_message_id)
    ids = tuple(dict.fromkeys(m.strip() for m in candidates if m.strip()))
    match = tag_pattern(tag_prefix).search(message.subject)
    tagged = int(match.group(1)) if match else None
    return ThreadKeys(
        message_ids=ids,
        subject_number=tagged if tagged is not None and is_id(tagged) else None,
        plus_number=plus_number(message.recipients, own) if own is not None else None,
    )


_MESSAGE_ID = re.compile(r"<[^<>\s]{1,994}>")
MAX_REFERENCES = 20  # the first id of a thread and the latest ones (RFC 5322 3.6.4 allows it)


def message_ids_in(header: str) -> list[str]:
    """The Message-IDs in a References or In-Reply-To value, in their order."""
    return _MESSAGE_ID.findall(header or "")


def addresses_in(header: str) -> list[str]:
    """The addresses in a To or Cc value, lowercased."""
    return [address.strip().lower() for _, address in getaddresses([header]) if "@" in address]


def followed_chain(headers: Mapping[str, str]) -> list[str]:
    """The thread a message follows up, oldest first: its References, then In-Reply-To."""
    chain = message_ids_in(headers.get("References", ""))
    return chain + [i for i in message_ids_in(headers.get("In-Reply-To", "")) if i not in chain]


@dataclass(frozen=True)
class SentOn:
    """One message of a ticket's conversation with its requester, as mail threads it."""

    message_id: str
    from_requester: bool


def answer_threading(
    conversation: Sequence[SentOn], earlier: Sequence[str] = ()
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References of a mail the desk sends on a conversation.

    ``conversation``: its messages that have an id, oldest first (the requester's,
    our acknowledgement and replies); ``earlier``: the References the requester's
    first message carried (a follow-up to an older thread). In-Reply-To answers the
    requester's latest message, else our latest mail; References is the whole chain,
    its first id and the latest ones when it is long.
    """
    theirs = [m.message_id for m in conversation if m.from_requester]
    ids = [m.message_id for m in conversation]
    parent = theirs[-1] if theirs else (ids[-1] if ids else None)
    chain = list(dict.fromkeys([*earlier, *ids]))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return parent, tuple(chain)


def chat_message_ref(chat_id: str, message_id: int | None) -> str:
    """A message in a chat, as relaydesk names it (``tg:<chat>:<message>``)."""
    return f"tg:{chat_id}:{message_id}"


def read_chat_message_ref(ref: str) -> tuple[str, int] | None:
    """The chat and message id of a ``chat_message_ref``; None for anything else."""
    parts = ref.split(":")
    if len(parts) != 3 or parts[0] != "tg" or not parts[1] or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])
