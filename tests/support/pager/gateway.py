"""The pager gateway's protocol IO, as a ``connectors/`` subpackage would hold it.

Inbound: the gateway appends one JSON object per line to ``inbound.jsonl``
(``{"id", "from", "name", "text"}``); ``PagerPoller.poll`` reads the lines it has
not read yet and hands each, as an ``InboundMessage``, to the desk's ``Intake``
(a line is read again only if the intake refused it). Outbound: ``PagerSender``
appends one line per message to ``outbound.jsonl`` and answers with its line number.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from connectors.ports import Intake
from router.envelopes import DeliveryResult, InboundMessage, OutboundMessage
from router.errors import PermanentError
from router.vocabulary import Channel

PAGER = Channel.plug_in("pager")


def normalize(line: str) -> InboundMessage:
    """One gateway line -> the desk's envelope (pure)."""
    data = json.loads(line)
    text = str(data["text"])
    return InboundMessage(
        channel=PAGER,
        idempotency_key=f"pager:{data['id']}",
        sender_address=str(data["from"]),
        sender_name=str(data.get("name") or ""),
        subject=text.splitlines()[0][:80] if text else "Pager message",
        body_text=text,
        external_id=f"pager:{data['id']}",
        source="pager",
    )


class PagerPoller:
    def __init__(self, spool: Path, intake: Intake) -> None:
        self.path = spool / "inbound.jsonl"
        self.intake = intake
        self.read = 0  # lines handed on

    def poll(self) -> int:
        """Hand on the new lines; how many."""
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        for line in lines[self.read :]:
            self.intake.accept(normalize(line))  # raises when the desk cannot keep it
            self.read += 1
        return len(lines)


class PagerSender:
    def __init__(self, spool: Path) -> None:
        self.path = spool / "outbound.jsonl"
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        if not message.recipient.isdigit():
            raise PermanentError(f"not a pager number: {message.recipient!r}")
        line = json.dumps({"to": message.recipient, "text": message.body_text})
        with self._lock, self.path.open("a") as out:
            out.write(line + "\n")
            number = out.tell()
        return DeliveryResult(external_id=f"pager-out:{number}", detail="queued at the gateway")

    def sent(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()]

    def close(self) -> None:
        pass
