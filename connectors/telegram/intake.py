"""Hand a raw update to intake: the inbox keeps the JSON; ingest reads it later."""

from __future__ import annotations

import json
from typing import Any

from connectors.ports import Intake, Receipt
from router.envelopes import InboundMessage
from router.vocabulary import Channel


def update_envelope(update: dict[str, Any], *, source: str) -> tuple[InboundMessage, bytes]:
    """The inbox envelope of a raw update, keyed by its update id, and the raw JSON."""
    if not isinstance(update, dict):
        raise ValueError("an update must be a JSON object")
    try:
        update_id = int(update["update_id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("an update without a numeric update_id") from None
    raw = json.dumps(update, ensure_ascii=False, sort_keys=True).encode()
    message = InboundMessage(
        channel=Channel.TELEGRAM,
        idempotency_key=f"update:{update_id}",
        sender_address="",
        body_text="",
        source=source,
        unparsed=True,
    )
    return message, raw


class UpdateSink:
    """Commit one update to the inbox (raises ``TransientError`` when it cannot)."""

    def __init__(self, intake: Intake, *, source: str) -> None:
        self.intake = intake
        self.source = source

    def __call__(self, update: dict[str, Any]) -> Receipt:
        message, raw = update_envelope(update, source=self.source)
        return self.intake.accept(message, raw=raw)
