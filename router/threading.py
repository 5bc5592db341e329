"""What a message says about the ticket it belongs to: the keys to look up, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.envelopes import InboundMessage


@dataclass(frozen=True)
class ThreadKeys:
    """Lookup keys, strongest first: referenced Message-IDs, then the subject tag."""

    message_ids: tuple[str, ...]
    subject_number: int | None


def subject_tag(number: int, prefix: str = "#") -> str:
    return f"[{prefix}{number}]"


def tag_pattern(prefix: str = "#") -> re.Pattern[str]:
    return re.compile(r"\[" + re.escape(prefix) + r"(\d{1,12})\]")


def thread_keys(message: InboundMessage, tag_prefix: str = "#") -> ThreadKeys:
    ids = tuple(dict.fromkeys(m.strip() for m in message.in_reply_to if m.strip()))
    match = tag_pattern(tag_prefix).search(message.subject)
    return ThreadKeys(message_ids=ids, subject_number=int(match.group(1)) if match else None)
