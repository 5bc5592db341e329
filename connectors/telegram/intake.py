"""Hand a raw update to intake: the inbox keeps the JSON; ingest reads it later."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from connectors.ports import Intake, Receipt
from router.envelopes import InboundMessage
from router.vocabulary import Channel


def bot_id(token: str) -> str:
    """The bot's id: the part of its token before the colon (not the secret part)."""
    return token.partition(":")[0] or "bot"


def update_envelope(
    update: dict[str, Any], *, source: str, bot: str = "bot"
) -> tuple[InboundMessage, bytes]:
    """The inbox envelope of a raw update, keyed by the bot and the update id, and the
    raw JSON. (Update ids are per bot, and restart at random after a quiet week; the
    inbox keeps the JSON, so a clash with an old key is told apart by its content.)"""
    if not isinstance(update, dict):
        raise ValueError("an update must be a JSON object")
    try:
        update_id = int(update["update_id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("an update without a numeric update_id") from None
    raw = json.dumps(update, ensure_ascii=False, sort_keys=True).encode()
    message = InboundMessage(
        channel=Channel.TELEGRAM,
        idempotency_key=f"update:{bot}:{update_id}",
        sender_address="",
        body_text="",
        external_id=hashlib.sha256(raw).hexdigest(),  # tells a clashing update id apart
        source=source,
        unparsed=True,
        sequence_key=sequence_key(update),
    )
    return message, raw


def sequence_key(update: dict[str, Any]) -> str | None:
    """``tg:<chat id>``: one chat's updates are read one at a time, in the order they came
    (an answer to ``/new`` before the message it announced). None: no chat to be had."""
    for kind in ("message", "edited_message", "callback_query"):
        item = update.get(kind)
        if not isinstance(item, dict):
            continue
        carrier = item.get("message") if kind == "callback_query" else item
        chat = carrier.get("chat") if isinstance(carrier, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int | str):
            return f"tg:{chat['id']}"[:64]
        sender = item.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int | str):
            return f"tg:{sender['id']}"[:64]  # a button on an inline message: the user's chat
    return None


class UpdateSink:
    """Commit one update to the inbox (raises ``TransientError`` when it cannot)."""

    def __init__(self, intake: Intake, *, source: str, bot: str = "bot") -> None:
        self.intake = intake
        self.source = source
        self.bot = bot

    def __call__(self, update: dict[str, Any]) -> Receipt:
        message, raw = update_envelope(update, source=self.source, bot=self.bot)
        receipt = self.intake.accept(message, raw=raw)
        if receipt.conflict:  # an old update had this id: a different update, keep both
            key = f"{message.idempotency_key}:{message.external_id}"
            receipt = self.intake.accept(replace(message, idempotency_key=key), raw=raw)
        return receipt
