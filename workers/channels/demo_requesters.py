"""How the demo's requesters write in: as each channel's connector hands a message to
intake (a raw mail as the SMTP server takes it, a raw Telegram update, a web form's
submission or a message from the ticket's page), at the made-up clock's time."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from config.settings import Settings
from connectors.telegram.intake import update_envelope
from router.demo_history import DemoRequest, DemoRequester
from router.envelopes import InboundMessage
from router.ratings import RatedVia
from router.vocabulary import Channel
from workers.channels.intake import StoreIntake
from workers.channels.mail_intake import InboundMail
from workers.runtime.context import Runtime


def demo_channels(settings: Settings) -> tuple[Channel, ...]:
    """The channels requesters can write in on this desk: the web always, email and
    Telegram when configured (a Telegram message is read with the bot's token)."""
    channels = [Channel.EMAIL, Channel.WEB]
    if settings.telegram.enabled:
        channels.append(Channel.TELEGRAM)
    return tuple(channels)


def rated_via(channel: Channel) -> RatedVia:
    """Where a requester of ``channel`` rates: the mail's link, the chat's buttons, or
    the ticket's page."""
    return {Channel.EMAIL: RatedVia.EMAIL, Channel.TELEGRAM: RatedVia.TELEGRAM}.get(
        channel, RatedVia.PAGE
    )


class DemoRequesters:
    def __init__(self, runtime: Runtime, clock: Callable[[], datetime], seed: int) -> None:
        self.intake = StoreIntake(runtime)
        self.mail = InboundMail(runtime)
        self.clock = clock
        self.seed = seed
        self.address = runtime.settings.helpdesk.address
        self.sequence = itertools.count(1)  # Telegram update ids, web follow-up keys

    def write(
        self,
        person: DemoRequester,
        request: DemoRequest,
        index: int,
        *,
        number: int | None = None,
        text: str | None = None,
    ) -> int:
        """The request itself (``number`` None), or a message on its ticket ``number``;
        the inbox row's id."""
        body = request.topic.body if text is None else text
        if request.channel is Channel.EMAIL:
            subject = request.subject if number is None else f"Re: [#{number}] {request.subject}"
            raw = self._mail(person, subject, body)
            return self.mail.accept(raw, recipients=(self.address,), source="smtp")
        if request.channel is Channel.TELEGRAM:
            return self._chat(person, body if number else f"{request.subject}\n\n{body}")
        key = f"web:demo:{self.seed}:{index}"
        message = InboundMessage(
            channel=Channel.WEB,
            idempotency_key=key if number is None else f"{key}:{next(self.sequence)}",
            sender_address=person.email,
            sender_name=person.name,
            subject=request.subject,
            body_text=body,
            category_hint=request.topic.category if number is None else None,
            access_key=secrets.token_urlsafe(18),
            source="web" if number is None else "page",
            ticket_number=number,
            language="zh-CN" if person.language == "zh" else "en",
        )
        return self.intake.accept(message).inbox_id

    def _mail(self, person: DemoRequester, subject: str, text: str) -> bytes:
        mail = EmailMessage()
        mail["From"] = f"{person.name} <{person.email}>"
        mail["To"] = self.address
        mail["Subject"] = subject
        mail["Date"] = format_datetime(self.clock())
        mail["Message-ID"] = make_msgid(domain=person.email.partition("@")[2])
        if person.language == "zh":
            mail["Content-Language"] = "zh-CN"
        mail.set_content(text)
        return bytes(mail)

    def _chat(self, person: DemoRequester, text: str) -> int:
        update_id = next(self.sequence)
        first, _, last = person.name.partition(" ")
        sender: dict[str, Any] = {
            "id": person.chat_id,
            "is_bot": False,
            "first_name": first or person.name,
            "language_code": "zh-hans" if person.language == "zh" else "en",
        }
        if last:
            sender["last_name"] = last
        update = {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(self.clock().timestamp()),
                "chat": {"id": person.chat_id, "type": "private"},
                "from": sender,
                "text": text,
            },
        }
        message, raw = update_envelope(update, source="telegram:demo", bot="demo")
        return self.intake.accept(message, raw=raw).inbox_id
