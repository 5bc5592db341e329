"""Who a note mentions: ``@name`` in any channel's text (email, chat, the workspace)."""

from __future__ import annotations

import re

_MENTION = re.compile(r"(?<![\w.@+-])@(?P<name>[A-Za-z0-9_.-]++)(?!@)")


def parse_mentions(text: str) -> tuple[str, ...]:
    """The ``@names`` in a text, lowercased, each once, in order; email addresses are not."""
    names = (m.group("name").rstrip(".").lower() for m in _MENTION.finditer(text))
    return tuple(dict.fromkeys(name for name in names if name))
