"""Send outbox rows to Telegram: messages (split when too long), edits, callback answers.

Rate limits are the caller's: ``throttle(chat_id)`` blocks until both the
bot-wide and the chat's budget allow one more message. A 429 answer is
honoured in place (its ``retry_after``) when short, else raised as
``RetryLater`` (a ``Throttled``), so the row waits that long, unspent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from connectors.telegram.bot_api import RetryLater
from connectors.telegram.chat_text import (
    CHAT_LIMIT,
    escape_html,
    html_to_plain,
    split_for_chat,
    utf16_len,
)
from router.envelopes import DeliveryResult, OutboundMessage
from router.errors import PermanentError, Throttled, TransientError
from router.vocabulary import ChatAction

log = logging.getLogger(__name__)

MAX_CHARS = CHAT_LIMIT  # UTF-16 code units in one message
MAX_PARTS = 20  # a chat message longer than this many parts is refused, not flooded
CAPTION_LIMIT = 1024  # UTF-16 code units in a file's caption


class PartlySent(TransientError):
    """A split message failed after its first parts went out: retry only the rest
    (``retry_after``: not before then, when a flood cut it off)."""

    def __init__(self, message: str, sent: list[str], retry_after: float | None = None) -> None:
        super().__init__(f"{message} (after {len(sent)} part(s) were delivered)")
        self.sent = sent
        self.retry_after = retry_after


class ChatApi(Protocol):
    def send_message(
        self,
        chat_id: int | str,
        html: str,
        *,
        buttons: list[list[dict[str, str]]] | None = None,
        reply_to_message_id: int | None = None,
    ) -> int: ...

    def edit_message(
        self,
        chat_id: int | str,
        message_id: int,
        html: str,
        *,
        buttons: list[list[dict[str, str]]] | None = None,
    ) -> None: ...

    def answer_callback(self, callback_query_id: str, text: str) -> None: ...

    def send_document(
        self, chat_id: int | str, data: bytes, filename: str, *, caption_html: str = ""
    ) -> int: ...

    def close(self) -> None: ...


class TelegramSender:
    def __init__(
        self,
        api: ChatApi,
        *,
        throttle: Callable[[str], None],
        max_retry_after_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        read_file: Callable[[str], bytes] | None = None,
    ) -> None:
        """``read_file``: a kept file's bytes by its SHA-256 (for documents)."""
        self.api = api
        self.throttle = throttle
        self.max_retry_after_s = max_retry_after_s
        self.sleep = sleep
        self.read_file = read_file

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        """``timeout_s``: a 429 asking to wait longer is not waited in place but raised
        (the row waits, unspent); the calls' own timeouts are ``BotApi``'s."""
        patience = (
            self.max_retry_after_s if timeout_s is None else min(self.max_retry_after_s, timeout_s)
        )
        action = message.chat_action
        if action == ChatAction.ANSWER_CALLBACK:
            if not message.target_id:
                raise PermanentError("a callback answer without its query id")
            # not a chat message: Telegram's limits do not count it
            self._call(
                lambda: self.api.answer_callback(message.target_id or "", message.body_text),
                patience,
            )
            return DeliveryResult(external_id=f"callback:{message.target_id}")
        buttons = [list(row) for row in message.buttons] or None
        html = message.body_html or escape_html(message.body_text)
        if action == ChatAction.EDIT:
            if not message.target_id:
                raise PermanentError("an edit without the message to edit")
            target = int(message.target_id)
            self.throttle(message.recipient)
            self._call(
                lambda: self.api.edit_message(
                    message.recipient, target, self._fit(html, message), buttons=buttons
                ),
                patience,
            )
            return DeliveryResult(external_id=str(target))
        if action == ChatAction.DOCUMENT:
            return self._document(message, patience)
        if action != ChatAction.SEND:
            raise PermanentError(f"unknown chat action {action!r}")
        parts = [html] if utf16_len(html) <= MAX_CHARS else self._parts(message)
        sent = list(message.sent_parts[: len(parts) - 1])  # a retry: those went out already
        for i, part in enumerate(parts[len(sent) :], start=len(sent)):
            last = i == len(parts) - 1
            self.throttle(message.recipient)
            try:
                sent.append(
                    str(
                        self._call(
                            lambda part=part, last=last: self.api.send_message(  # type: ignore[misc]
                                message.recipient, part, buttons=buttons if last else None
                            ),
                            patience,
                        )
                    )
                )
            except (TransientError, PermanentError) as exc:
                if sent and not isinstance(exc, PermanentError):
                    wait = exc.retry_after if isinstance(exc, Throttled) else None
                    raise PartlySent(str(exc), sent, retry_after=wait) from None
                raise
        return DeliveryResult(external_id=",".join(sent), detail=f"{len(sent)} message(s)")

    def _document(self, message: OutboundMessage, patience: float) -> DeliveryResult:
        """One kept file uploaded into the chat, ``body_html`` its caption."""
        files = [a for a in message.attachments if a.sha256]
        if len(files) != 1 or self.read_file is None:
            raise PermanentError("a document needs one kept file and a place to read it from")
        ref = files[0]
        try:
            data = self.read_file(ref.sha256 or "")
        except (OSError, ValueError) as exc:
            raise PermanentError(f"{ref.filename}: the kept file cannot be read ({exc})") from None
        caption = message.body_html or ""
        if utf16_len(caption) > CAPTION_LIMIT:
            caption = escape_html(split_for_chat(html_to_plain(caption), CAPTION_LIMIT - 1)[0])
        self.throttle(message.recipient)
        sent = self._call(
            lambda: self.api.send_document(
                message.recipient, data, ref.filename, caption_html=caption
            ),
            patience,
        )
        return DeliveryResult(external_id=str(sent), detail=f"{ref.filename}, {len(data)} bytes")

    def _parts(self, message: OutboundMessage) -> list[str]:
        """A text too long for one message: its plain form in pieces, each escaped."""
        chunks = split_for_chat(message.body_text, MAX_CHARS)
        if not chunks:
            raise PermanentError("nothing to send: the message is empty")
        if len(chunks) > MAX_PARTS:
            raise PermanentError(
                f"too long for a chat: {len(chunks)} messages of {MAX_CHARS} characters "
                f"(at most {MAX_PARTS})"
            )
        return [escape_html(c) for c in chunks]

    def _fit(self, html: str, message: OutboundMessage) -> str:
        if utf16_len(html) <= MAX_CHARS:
            return html
        return escape_html(split_for_chat(message.body_text, MAX_CHARS - 1)[0] + "…")

    def _call(self, call: Callable[[], int | None], patience: float) -> int:
        """Run one API call, waiting out 429s up to ``patience`` in place; a longer one (or a
        third in a row) leaves as ``RetryLater``: the message waits that long without
        holding a worker, and without spending an attempt."""
        for _ in range(2):
            try:
                return call() or 0
            except RetryLater as exc:
                if exc.retry_after > patience:
                    raise
                log.info("Telegram rate limit: waiting %.1f s as asked", exc.retry_after)
                self.sleep(exc.retry_after)
        return call() or 0

    def close(self) -> None:
        self.api.close()
