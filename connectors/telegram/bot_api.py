"""A synchronous facade over python-telegram-bot's async ``Bot`` for worker threads and the poller.

One asyncio loop runs in a daemon thread; every call is a coroutine handed to it with
``run_coroutine_threadsafe``, so any number of threads may share one ``BotApi``. Results are
plain Python data, never PTB objects; updates are the raw JSON dicts Telegram sent.

Errors leave as the project's own: ``RetryLater`` (429, with ``retry_after`` seconds),
``TransientError`` (network, timeouts, 5xx, 409 Conflict) and ``PermanentError`` (400, 403,
a rejected token). The token is kept out of logs (``RedactToken``) and out of error texts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from router.errors import PermanentError, RelaydeskError, Throttled, TransientError

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup
    from telegram.error import RetryAfter, TelegramError

# python-telegram-bot (and httpx under it) is imported when a BotApi is made, not with
# this module: every process declares the Telegram channel, few talk to Telegram.

_T = TypeVar("_T")
_Buttons = list[list[dict[str, str]]]  # rows of {"text", "callback_data"} or {"text", "url"}
_LOGGERS = ("httpx", "httpcore", "telegram")
_POLL_MARGIN_S = 10.0  # read timeout of getUpdates beyond the long-poll timeout


class RetryLater(Throttled):
    """Telegram's flood control (429): try again after ``retry_after`` seconds."""


class ChatUnreachable(PermanentError):
    """The chat cannot get messages from the bot: blocked, deactivated or unknown."""


class RedactToken(logging.Filter):
    """Replaces the bot token with ``<token>`` in a record's message and exception text."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def redact(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave its formatting to the handler
            message = str(record.msg)
        if self.token in message:
            record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class BotApi:
    """Telegram's Bot API for synchronous callers; thread-safe; ``close()`` when done."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.telegram.org/bot",
        base_file_url: str = "https://api.telegram.org/file/bot",
        timeout_s: float = 10.0,
        pool_size: int = 8,
    ) -> None:
        from telegram import Bot, LinkPreviewOptions
        from telegram.request import HTTPXRequest

        self._upload_timeout_s = timeout_s
        self._redact = RedactToken(token)
        self._filtered = _install(self._redact)  # before PTB logs its URLs at DEBUG
        # as PTB builds its URLs: the token replaces "{token}" or is appended
        self._file_url = base_file_url.replace("{token}", token)
        if "{token}" not in base_file_url:
            self._file_url += token
        self._request = HTTPXRequest(
            connection_pool_size=pool_size,
            read_timeout=timeout_s,
            write_timeout=timeout_s,
            connect_timeout=timeout_s,
            pool_timeout=timeout_s,
        )
        # PTB adds the long-poll timeout of each call to this read timeout.
        self._updates_request = HTTPXRequest(
            connection_pool_size=2, read_timeout=_POLL_MARGIN_S, connect_timeout=timeout_s
        )
        self._no_preview = LinkPreviewOptions(is_disabled=True)
        self._bot = Bot(
            token,
            base_url=base_url,
            base_file_url=base_file_url,
            request=self._request,
            get_updates_request=self._updates_request,
        )
        self._lock = threading.Lock()
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="telegram-bot-api", daemon=True
        )
        self._thread.start()

    def get_me(self) -> dict[str, Any]:
        me = self._run("getMe", self._bot.get_me())
        return {"id": me.id, "username": me.username, "first_name": me.first_name}

    def get_updates(
        self, offset: int | None, timeout_s: int, allowed_updates: list[str]
    ) -> list[dict[str, Any]]:
        """The pending updates from ``offset`` on, as Telegram's raw JSON dicts."""
        # Bot.get_updates would parse into Update objects; _post returns the JSON untouched.
        params = {"offset": offset, "timeout": timeout_s, "allowed_updates": allowed_updates}
        post = self._bot._post("getUpdates", params, read_timeout=timeout_s + _POLL_MARGIN_S)
        return list(self._run("getUpdates", post))

    def send_message(
        self,
        chat_id: int | str,
        html: str,
        *,
        buttons: _Buttons | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """Send HTML text (link previews off); returns the new message_id."""
        from telegram import ReplyParameters
        from telegram.constants import ParseMode

        reply = None
        if reply_to_message_id is not None:  # the answer matters more than the quote
            reply = ReplyParameters(reply_to_message_id, allow_sending_without_reply=True)
        sent = self._bot.send_message(
            chat_id,
            html,
            parse_mode=ParseMode.HTML,
            link_preview_options=self._no_preview,
            reply_markup=_keyboard(buttons),
            reply_parameters=reply,
        )
        return self._run("sendMessage", sent).message_id

    def send_document(
        self, chat_id: int | str, data: bytes, filename: str, *, caption_html: str = ""
    ) -> int:
        """Upload a file into the chat, with an HTML caption; returns the new message_id."""
        from telegram.constants import ParseMode

        sent = self._bot.send_document(
            chat_id,
            data,
            filename=filename,
            caption=caption_html or None,
            parse_mode=ParseMode.HTML if caption_html else None,
            write_timeout=max(self._upload_timeout_s, len(data) / 250_000),
        )
        return self._run("sendDocument", sent).message_id

    def edit_message(
        self,
        chat_id: int | str,
        message_id: int,
        html: str,
        *,
        buttons: _Buttons | None = None,
    ) -> None:
        """Replace a sent message's text (and keyboard); an unchanged message is success."""
        self._run("editMessageText", self._edit(chat_id, message_id, html, buttons))

    def answer_callback(self, callback_query_id: str, text: str) -> None:
        self._run("answerCallbackQuery", self._bot.answer_callback_query(callback_query_id, text))

    def download(self, file_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A file's bytes and its file_path; PermanentError when it is over ``max_bytes``."""
        return self._run("getFile", self._download(file_id, max_bytes))

    def set_webhook(self, url: str, secret_token: str, allowed_updates: list[str]) -> None:
        webhook = self._bot.set_webhook(
            url, secret_token=secret_token, allowed_updates=allowed_updates
        )
        self._run("setWebhook", webhook)

    def delete_webhook(self) -> None:
        self._run("deleteWebhook", self._bot.delete_webhook())

    def close(self) -> None:
        """Cancel calls in flight, close the HTTP pools and stop the loop thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        try:
            future.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            if not self._thread.is_alive():
                self._loop.close()
            for logger in self._filtered:
                logger.removeFilter(self._redact)

    def __enter__(self) -> BotApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- coroutines run on the loop thread ---

    async def _edit(
        self, chat_id: int | str, message_id: int, html: str, buttons: _Buttons | None
    ) -> None:
        from telegram.constants import ParseMode
        from telegram.error import BadRequest

        try:
            await self._bot.edit_message_text(
                html,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                link_preview_options=self._no_preview,
                reply_markup=_keyboard(buttons),
            )
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    async def _download(self, file_id: str, max_bytes: int) -> tuple[bytes, str]:
        # Bot.get_file would hand back file_path joined to the URL with the token in it.
        info = await self._bot._post("getFile", {"file_id": file_id})
        size, path = info.get("file_size"), info.get("file_path")
        if size is not None and int(size) > max_bytes:
            raise PermanentError(f"telegram file is {size} bytes, over the limit of {max_bytes}")
        if not path:
            raise PermanentError("telegram getFile answered without a file_path")
        data = await self._request.retrieve(f"{self._file_url}/{path}")
        if len(data) > max_bytes:
            raise PermanentError(f"telegram file is {len(data)} bytes, over {max_bytes}")
        return bytes(data), str(path)

    async def _shutdown(self) -> None:
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(self._request.shutdown(), self._updates_request.shutdown())

    # --- the bridge from worker threads ---

    def _run(self, method: str, call: Coroutine[Any, Any, _T]) -> _T:
        from telegram.error import TelegramError

        with self._lock:
            if self._closed:
                call.close()
                raise TransientError(f"telegram {method}: the Bot API client is closed")
            future = asyncio.run_coroutine_threadsafe(call, self._loop)
        try:
            return future.result()
        except concurrent.futures.CancelledError:
            raise TransientError(f"telegram {method}: cancelled, the client was closed") from None
        except TelegramError as exc:
            raise self._convert(method, exc) from None

    def _convert(self, method: str, exc: TelegramError) -> RelaydeskError:
        from telegram.error import (
            BadRequest,
            ChatMigrated,
            Conflict,
            Forbidden,
            InvalidToken,
            RetryAfter,
        )

        text = self._redact.redact(f"telegram {method}: {exc.message}")
        if isinstance(exc, RetryAfter):
            return RetryLater(text, _seconds(exc))
        if isinstance(exc, Conflict):
            return TransientError(
                f"{text} (a webhook is set or another poller is running for this bot)"
            )
        if isinstance(exc, Forbidden) or (
            isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()
        ):
            return ChatUnreachable(text)
        if isinstance(exc, BadRequest | Forbidden | InvalidToken | ChatMigrated):
            return PermanentError(text)
        return TransientError(text)  # NetworkError: timeouts, refused connections, 5xx


def _keyboard(buttons: _Buttons | None) -> InlineKeyboardMarkup | None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    b["text"], callback_data=b.get("callback_data"), url=b.get("url")
                )
                for b in row
            ]
            for row in buttons
        ]
    )


def _seconds(exc: RetryAfter) -> float:
    # RetryAfter.retry_after warns (PTBDeprecationWarning) in 22.x unless PTB_TIMEDELTA is set:
    # it is becoming a timedelta. The private timedelta is the exact value either way.
    delay = getattr(exc, "_retry_after", None)
    if delay is None:
        delay = exc.retry_after
    return float(delay.total_seconds() if hasattr(delay, "total_seconds") else delay)


def _install(redact: RedactToken) -> list[logging.Logger]:
    """Add ``redact`` to the httpx, httpcore and telegram loggers and their existing children.

    A logger's filters see only the records logged on it, not those its children propagate.
    """
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if any(name == base or name.startswith(base + ".") for base in _LOGGERS)
    ]
    loggers = [logging.getLogger(name) for name in {*_LOGGERS, *names}]
    for logger in loggers:
        logger.addFilter(redact)
    return loggers
