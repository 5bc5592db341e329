"""The facts about one message that classification rules match on.

``MessageFacts`` is what a rule sees: the channel and the mailbox, bot or form
it came through, the sender, what is known of the customer, the text, its
language and the custom fields. ``facts_from_message`` reads them off an
``InboundMessage``; the customer's tier and organisation come from the store,
so the caller passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from router.envelopes import InboundMessage
from router.vocabulary import Channel


@dataclass(frozen=True)
class MessageFacts:
    """One message as the rules see it; every fact may be missing (its default)."""

    channel: Channel | None = None
    source: str = ""  # the mailbox, server or form, e.g. "imap:support", "smtp", "web"
    template: str | None = None
    sender_address: str = ""
    customer_tier: str | None = None
    organisation: str | None = None
    subject: str = ""
    body: str = ""
    language: str = ""  # a language tag or a list of them: "de", "pt-BR", "de-DE, en"
    custom_fields: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @cached_property
    def sender_domain(self) -> str:
        """The part of the sender address after the last ``@``, lower case."""
        _, at, domain = self.sender_address.strip().rpartition("@")
        return domain.lower().rstrip(".>") if at else ""

    @cached_property
    def languages(self) -> tuple[str, ...]:
        """The language tags, lower case with ``-``: ``"pt_BR, en;q=0.5"`` -> pt-br, en."""
        return language_tags(self.language)


def language_tags(text: str) -> tuple[str, ...]:
    """Split a Content-Language style list into normalised tags, dropping weights."""
    tags = []
    for part in text.split(","):
        tag = part.split(";", 1)[0].strip().replace("_", "-").lower()
        if tag and tag != "*":
            tags.append(tag)
    return tuple(dict.fromkeys(tags))


def facts_from_message(
    message: InboundMessage,
    *,
    tier: str | None = None,
    organisation: str | None = None,
    template: str | None = None,
) -> MessageFacts:
    """The facts of ``message``; the language is its Content-Language or field "language"."""
    language = _header(message.headers, "Content-Language")
    if not language:
        field_value = message.custom_fields.get("language")
        language = str(field_value) if field_value not in (None, "") else ""
    return MessageFacts(
        channel=message.channel,
        source=message.source,
        template=template,
        sender_address=message.sender_address,
        customer_tier=tier,
        organisation=organisation,
        subject=message.subject,
        body=message.body_text,
        language=language,
        custom_fields=message.custom_fields,
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header's value whatever the case of its stored name ("" when absent)."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), "")
    return value.strip()
