"""A fake Telegram Bot API server on loopback, speaking the real HTTP+JSON protocol.

    with TelegramServer() as server:
        bot = telegram.Bot(server.token, base_url=f"{server.url}/bot",
                           base_file_url=f"{server.url}/file/bot")
        server.customer_message(42, "Hello")          # queued for getUpdates
        ...                                           # the code under test answers
        reply = server.wait_for(lambda m: m["chat_id"] == 42)

Routes ``/bot<token>/<method>`` (method names are case-insensitive, as Telegram's) and
``/file/bot<token>/<file_path>``. Parameters are read from the query string and from a
form-urlencoded, JSON or multipart body. Implemented methods: getMe, getUpdates (offsets,
limit, long polling, allowed_updates, 409 while a webhook is set or when a newer poll
supersedes it), sendMessage, sendDocument (an upload, or a file_id of a file it holds),
editMessageText, answerCallbackQuery, getFile, setWebhook,
deleteWebhook, getWebhookInfo. HTML text is checked like Telegram does, a little more strictly:
a bare ``&`` that does not start ``&lt; &gt; &amp; &quot;`` or a numeric entity is refused.

``calls`` records every answered call (a file download as method ``"file"``).

Failures: ``fail_next(method, retry_after=3)`` answers 429 with ``retry_after``;
``fail_next(method, status=403, description="Forbidden: bot was blocked by the user")``
any other error; ``status=502`` an nginx HTML page; ``disconnect=True`` closes the
connection without an answer. ``method="*"`` matches every method.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import mimetypes
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

MAX_TEXT = 4096
MAX_DOWNLOAD = 20 * 1024 * 1024  # the cloud Bot API serves files up to 20 MB
MAX_UPLOAD = 50 * 1024 * 1024  # and takes uploads of up to 50 MB
MAX_CAPTION = 1024
_NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
_BUTTON_ACTIONS = {
    "url", "callback_data", "login_url", "switch_inline_query", "web_app", "pay",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game",
    "copy_text",
}  # fmt: skip
_GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --- Telegram HTML -----------------------------------------------------------------------

_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity_char(match: re.Match[str]) -> str:
    named, dec, hexa = match.groups()
    code = int(dec) if dec else int(hexa, 16) if hexa else 0
    if named:
        return _NAMED[named]
    if not 0 < code <= 0x10FFFF:
        raise ValueError(code)
    return chr(code)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the visible text and its entities, or ApiError 400."""

    def fail(why: str) -> ApiError:
        return _bad(f"can't parse entities: {why}")

    def at(index: int) -> int:
        return len(text[:index].encode())

    out: list[str] = []
    length = 0  # in UTF-16 code units, as Telegram counts entity offsets
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                if ">" not in text[i:]:
                    raise fail(f"Unclosed start tag at byte offset {at(i)}")
                found = re.match(r"</?([^\s>/]*)", text[i:])
                bad_name = found.group(1) if found else ""
                raise fail(f'Unsupported start tag "{bad_name}" at byte offset {at(i)}')
            closing, name, attrs = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                if not stack:
                    raise fail(f"Unexpected end tag at byte offset {at(i)}")
                if stack[-1][0] != name:
                    raise fail(
                        f'Unmatched end tag at byte offset {at(i)}, expected "</{stack[-1][0]}>", '
                        f'found "</{name}>"'
                    )
                _, start, entity = stack.pop()
                if length > start and entity:
                    entities.append({**entity, "offset": start, "length": length - start})
            else:
                if name not in _TAGS:
                    raise fail(f'Unsupported start tag "{name}" at byte offset {at(i)}')
                values = {
                    k.lower(): _ENTITY.sub(_entity_char, (v or "").strip("\"'"))
                    for k, v in _ATTR.findall(attrs)
                }
                stack.append((name, length, _tag_entity(name, values, stack, fail)))
            i = match.end()
            continue
        if char == "&":
            entity_match = _ENTITY.match(text, i)
            try:
                char = _entity_char(entity_match) if entity_match else ""
            except ValueError:
                char = ""
            if not char:
                raise fail(f"Unsupported HTML entity at byte offset {at(i)}")
            i = entity_match.end() if entity_match else i
        else:
            i += 1
        out.append(char)
        length += _utf16_len(char)
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _tag_entity(
    name: str, attrs: dict[str, str], stack: list[Any], fail: Callable[[str], ApiError]
) -> dict[str, Any]:
    kind = _TAGS[name]
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise fail('Tag "span" must have class "tg-spoiler"')
    if name == "a":
        return {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else {}
    if name == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise fail("Custom emoji entity must contain a valid custom emoji identifier")
        return {"type": kind, "custom_emoji_id": attrs["emoji-id"]}
    language = attrs.get("class", "").removeprefix("language-")
    if name == "code" and stack and stack[-1][0] == "pre" and language:
        stack[-1][2]["language"] = language  # <pre><code class="language-x"> is one pre entity
        return {}
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    return {"type": kind}


# --- request parameters ------------------------------------------------------------------


def _read_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json" and body.strip():
        try:
            decoded = json.loads(body)
        except ValueError:
            raise _bad("can't parse JSON encoded request parameters") from None
        if not isinstance(decoded, dict):
            raise _bad("JSON object expected")
        params.update(decoded)
    elif mime == "application/x-www-form-urlencoded":
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        params.update({k: v[-1] for k, v in form.items()})
    elif mime == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        for part in BytesParser(policy=HTTP).parsebytes(head + body).iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                filename = part.get_filename()
                params[name] = payload if filename else payload.decode("utf-8", "replace")
                if filename:
                    params[f"_{name}_filename"] = filename
    return params


def _text(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, bytes):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _bad(f"{name} is empty")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(f"invalid {name} specified")
    try:
        return int(value)
    except ValueError:
        raise _bad(f"invalid {name} specified") from None


def _bool(params: dict[str, Any], name: str) -> bool:
    return params.get(name) in (True, 1, "true", "True", "1")


def _json(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup  # reply keyboards, remove_keyboard, force_reply: taken as they are
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text"):
            raise _bad("can't parse inline keyboard button: Text must be non-empty")
        actions = _BUTTON_ACTIONS & button.keys()
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        data = button.get("callback_data")
        if "callback_data" in actions and not 1 <= len(str(data).encode()) <= 64:
            raise _bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if "url" in actions and not re.match(r"(https?|tg)://\S+", str(url)):
            raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    return markup


# --- the server --------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


@dataclass
class _Failure:
    method: str
    count: int
    status: int
    description: str
    parameters: dict[str, Any] | None
    disconnect: bool
    chat_id: int | None = None


class _Reply:
    """A successful result that carries Telegram's optional ``description``."""

    def __init__(self, result: Any, description: str) -> None:
        self.result, self.description = result, description


class TelegramServer:
    """A fake Bot API server in a background thread; every public method is thread-safe."""

    def __init__(self, *, bot_id: int = 7_000_000_001, bot_username: str = "relaydesk_test_bot"):
        self.token = f"{bot_id}:AA{secrets.token_urlsafe(24)}"
        self.bot_user = {
            "id": bot_id, "is_bot": True, "first_name": "Relaydesk", "username": bot_username,
        }  # fmt: skip
        self._cond = threading.Condition(threading.RLock())
        self._updates: list[dict[str, Any]] = []
        self._pushed: dict[int, dict[str, Any]] = {}
        self._next_update_id = 500_000_001
        self._allowed: list[str] | None = None
        self._poll_generation = 0
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._open_callbacks: set[str] = set()
        self._callback_ids = itertools.count(6_100_000_000_000_000_001)
        self._files: dict[str, _File] = {}
        self._paths: dict[str, _File] = {}
        self._failures: list[_Failure] = []
        self._outage: tuple[float, int] = (0.0, 0)  # (until, status): every call fails
        self._sent: list[dict[str, Any]] = []
        self._edits: list[dict[str, Any]] = []
        self._answers: list[dict[str, Any]] = []
        self._calls: list[dict[str, Any]] = []
        self._offsets: list[int | None] = []
        self._webhook: dict[str, Any] | None = None
        self._closed = False
        self.errors: list[Exception] = []  # exceptions raised by this fake's own code
        self._connections: set[socket.socket] = set()
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe", "getUpdates", "sendMessage", "sendDocument", "editMessageText",
                "answerCallbackQuery", "getFile", "setWebhook", "deleteWebhook", "getWebhookInfo",
            )
        }  # fmt: skip
        self._httpd = _HttpServer(self)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="telegram-fake", daemon=True
        )
        self._thread.start()

    # --- lifecycle ---

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()  # long polls answer [] at once
        self._httpd.shutdown()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> TelegramServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- test side: failures, files, updates ---

    def fail_next(
        self,
        method: str,
        count: int = 1,
        retry_after: int | None = None,
        *,
        status: int | None = None,
        description: str | None = None,
        disconnect: bool = False,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (or ``"*"``) with an error; with
        ``chat_id``, only calls for that chat."""
        status = status or 429
        parameters = None
        if status == 429:
            retry_after = retry_after if retry_after is not None else 1
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after}
        failure = _Failure(
            method.lower(), count, status, description or "Internal Server Error", parameters,
            disconnect, chat_id,
        )  # fmt: skip
        with self._cond:
            self._failures.append(failure)

    def fail_for(self, seconds: float, status: int = 502) -> None:
        """Answer every call with ``status`` for ``seconds`` from now, as a gateway in front
        of a Bot API that is down (502 and 504 answer with the gateway's HTML page)."""
        with self._cond:
            self._outage = (time.monotonic() + seconds, status)

    def add_file(
        self,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
    ) -> str:
        """Store ``content`` for getFile and download; return its file_id."""
        ext = mimetypes.guess_extension(mime_type or "") or ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        with self._cond:
            number = len(self._files)
            file = _File(
                file_id=f"BQACAgIAAxkBAAI{secrets.token_urlsafe(40)}",
                file_unique_id=f"AgAD{secrets.token_urlsafe(9)}",
                file_path=f"{folder}/file_{number}{ext}",
                content=bytes(content),
            )
            self._files[file.file_id] = file
            self._paths[file.file_path] = file
        return file.file_id

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (assigning ``update_id`` if missing); return its id."""
        update = json.loads(json.dumps(update))
        with self._cond:
            update_id = int(update.setdefault("update_id", self._next_update_id))
            self._next_update_id = max(self._next_update_id, update_id + 1)
            kind = next((key for key in update if key != "update_id"), "")
            allowed = self._allowed
            wanted = kind in allowed if allowed else kind not in _NOT_BY_DEFAULT
            self._pushed[update_id] = update
            if wanted:  # Telegram never creates an update of a kind the bot did not allow
                self._updates.append(update)
                self._updates.sort(key=lambda u: int(u["update_id"]))
                self._cond.notify_all()
        return update_id

    def update(self, update_id: int) -> dict[str, Any]:
        """The update that was pushed with ``update_id``, as JSON."""
        with self._cond:
            return json.loads(json.dumps(self._pushed[update_id]))

    def customer_message(
        self,
        chat_id: int,
        text: str = "",
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        username: str | None = None,
        reply_to: int | None = None,
        photo: bytes | str | None = None,
        document: bytes | str | None = None,
        voice: bytes | str | None = None,
        sticker: bool = False,
        caption: str | None = None,
        file_name: str = "file.bin",
        mime_type: str | None = None,
        duration: int = 3,
        language_code: str = "en",
    ) -> int:
        """Push a message from a customer; with media, ``caption`` (or ``text``) is the caption.

        Media are bytes (stored as a new file) or the file_id of an ``add_file``;
        ``language_code`` is what the sender's Telegram app says of its language.
        """
        with self._cond:
            user = self._user(user_id or chat_id, first_name, username, language_code)
            chat = self._chats.setdefault(chat_id, self._new_chat(chat_id, first_name, username))
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": chat,
                "date": int(time.time()),
            }
            if reply_to is not None:
                message["reply_to_message"] = self._reply_copy(chat_id, reply_to)
            media = self._media(
                photo, document, voice, sticker, file_name, mime_type, duration
            )  # fmt: skip
            if media:
                message.update(media)
                if caption or text:
                    message["caption"] = caption or text
            else:
                message["text"] = text
                command = re.match(r"/[a-zA-Z0-9_@]+", text)
                if command:
                    message["entities"] = [
                        {"offset": 0, "length": command.end(), "type": "bot_command"}
                    ]
            self._messages[(chat_id, message["message_id"])] = message
        return self.push_update({"message": message})

    def edited_message(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        username: str | None = None,
    ) -> int:
        """Push the customer's edit of one of their earlier messages."""
        with self._cond:
            old = self._messages.get((chat_id, message_id)) or {
                "message_id": message_id,
                "from": self._user(user_id or chat_id, first_name, username),
                "chat": self._chats.get(chat_id) or self._new_chat(chat_id, first_name, username),
                "date": int(time.time()) - 60,
            }
            message = {k: v for k, v in old.items() if k not in ("entities", "caption_entities")}
            message["caption" if "caption" in old else "text"] = text
            message["edit_date"] = int(time.time())
            self._messages[(chat_id, message_id)] = message
        return self.push_update({"edited_message": message})

    def callback(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        first_name: str = "Ann",
        username: str | None = None,
        language_code: str = "en",
    ) -> int:
        """Push a press on an inline button of the bot's message ``message_id``."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            query_id = str(next(self._callback_ids))
            self._open_callbacks.add(query_id)
            query = {
                "id": query_id,
                "from": self._user(user_id or chat_id, first_name, username, language_code),
                "message": message,
                "chat_instance": str(-4_000_000_000_000_000_000 - chat_id),
                "data": data,
            }
        return self.push_update({"callback_query": query})

    # --- test side: inspection ---

    def has_sent(self, chat_id: int, count: int) -> bool:
        """Whether exactly ``count`` messages went to ``chat_id`` so far."""
        return len(self.sent(chat_id)) == count

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(m) for m in self._sent if chat_id is None or m["chat_id"] == chat_id]

    @property
    def edits(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(e) for e in self._edits]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(a) for a in self._answers]

    @property
    def calls(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(c) for c in self._calls]

    @property
    def offsets(self) -> list[int | None]:
        with self._cond:
            return list(self._offsets)

    @property
    def webhook(self) -> dict[str, Any] | None:
        with self._cond:
            return dict(self._webhook) if self._webhook else None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return json.loads(json.dumps(self._updates))

    def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Block until ``condition()`` holds: checked on every answer and every 20 ms."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"condition not met within {timeout}s")
                self._cond.wait(min(remaining, 0.02))

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
    ) -> dict[str, Any]:
        """The first sent message that matches ``predicate``, waiting up to ``timeout``."""
        try:
            self.wait_until(lambda: any(predicate(m) for m in self._sent), timeout)
        except AssertionError:
            lines = "\n".join(f"  {m['chat_id']}: {m['text']!r}" for m in self.sent())
            raise AssertionError(
                f"no matching message within {timeout}s; sent:\n{lines or '  nothing'}"
            ) from None
        return next(m for m in self.sent() if predicate(m))

    # --- HTTP side ---

    def _answer(
        self, path: str, query: str, content_type: str, body: bytes
    ) -> tuple[int, str, bytes]:
        """One HTTP request: (status, content type, body); raises ConnectionAbortedError."""
        path = unquote(path)  # PTB sends the token's ":" as %3A in download URLs
        if path.startswith("/file/bot"):
            token, _, file_path = path.removeprefix("/file/bot").partition("/")
            with self._cond:
                file = self._paths.get(file_path)
            status = 401 if token != self.token else 404 if file is None else 200
            self._record("file", {"file_path": file_path}, status)
            if file is None or status != 200:
                return _error_body(
                    ApiError(status, "Unauthorized" if status == 401 else "Not Found")
                )
            return 200, "application/octet-stream", file.content
        token, _, method = path.removeprefix("/bot").partition("/")
        if not path.startswith("/bot"):
            return _error_body(ApiError(404, "Not Found"))
        if token != self.token:
            return _error_body(ApiError(401, "Unauthorized"))
        api = self._methods.get(method.lower())
        if api is None:
            return _error_body(ApiError(404, "Not Found"))
        name = api.__name__.removeprefix("_api_")
        params: dict[str, Any] = {}
        try:
            params = _read_params(query, content_type, body)
            if name == "getUpdates":
                with self._cond:
                    self._offsets.append(_int(params, "offset"))
            self._outage_failure()
            self._injected_failure(name, params)
            result = api(params)
        except ApiError as exc:
            self._record(name, params, exc.status)
            return _error_body(exc)
        except ConnectionAbortedError:
            raise
        except Exception as exc:  # a bug in this fake: answer 500 and keep it for the test
            with self._cond:
                self.errors.append(exc)
            self._record(name, params, 500)
            return _error_body(ApiError(500, f"Internal Server Error: {exc!r}"))
        self._record(name, params, 200)
        answer: dict[str, Any] = {"ok": True, "result": result}
        if isinstance(result, _Reply):
            answer = {"ok": True, "result": result.result, "description": result.description}
        return 200, "application/json", json.dumps(answer, ensure_ascii=False).encode()

    def _outage_failure(self) -> None:
        with self._cond:
            until, status = self._outage
        if time.monotonic() < until:
            raise ApiError(status, "Bad Gateway")

    def _injected_failure(self, method: str, params: dict[str, Any]) -> None:
        chat = str(params.get("chat_id", ""))
        with self._cond:
            failure = next(
                (
                    f
                    for f in self._failures
                    if f.method in (method.lower(), "*")
                    and (f.chat_id is None or str(f.chat_id) == chat)
                ),
                None,
            )
            if failure is None:
                return
            failure.count -= 1
            if failure.count <= 0:
                self._failures.remove(failure)
        if failure.disconnect:
            self._record(method, {}, 0)
            raise ConnectionAbortedError(method)
        raise ApiError(failure.status, failure.description, failure.parameters)

    def _record(self, method: str, params: dict[str, Any], status: int) -> None:
        with self._cond:
            self._calls.append(
                {"method": method, "params": params, "time": time.time(), "status": status}
            )
            self._cond.notify_all()

    # --- Bot API methods ---

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = _int(params, "offset"), _int(params, "limit") or 100
        timeout = max(0, _int(params, "timeout") or 0)
        allowed = _json(params, "allowed_updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if allowed is not None:
                self._allowed = [str(kind) for kind in allowed]
            if offset is not None and offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset is not None and offset < 0:
                self._updates = self._updates[offset:]
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll gives way to this one
            while not (self._updates or self._closed):
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return json.loads(json.dumps(self._updates[: max(1, min(limit, 100))]))

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text, parse_mode = _text(params, "text") or "", _text(params, "parse_mode")
        plain, entities = _formatted(text, parse_mode)
        markup = _check_markup(_json(params, "reply_markup"))
        reply = _json(params, "reply_parameters") or {}
        if not isinstance(reply, dict):
            raise _bad("can't parse reply parameters JSON object")
        reply_to = _int(reply, "message_id") or _int(params, "reply_to_message_id")
        lenient = reply.get("allow_sending_without_reply") or _bool(
            params, "allow_sending_without_reply"
        )
        with self._cond:
            replied = None
            if reply_to is not None:
                try:
                    replied = self._reply_copy(chat_id, reply_to)
                except ValueError:
                    if not lenient:
                        raise _bad("message to be replied not found") from None
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": self.bot_user,
                "chat": self._chats.get(chat_id) or self._new_chat(chat_id, None, None),
                "date": int(time.time()),
            }
            if replied is not None:
                message["reply_to_message"] = replied
            message["text"] = plain
            if entities:
                message["entities"] = entities
            if markup and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            self._sent.append(
                {
                    "chat_id": chat_id,
                    "message_id": message["message_id"],
                    "text": text,
                    "plain_text": plain,
                    "parse_mode": parse_mode,
                    "reply_markup": markup,
                    "reply_to_message_id": reply_to,
                    "link_preview_options": _json(params, "link_preview_options"),
                    "params": params,
                    "time": time.time(),
                }
            )
            return json.loads(json.dumps(message))

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        document = params.get("document")
        caption, parse_mode = _text(params, "caption") or "", _text(params, "parse_mode")
        plain, entities = _formatted(caption, parse_mode) if caption else ("", [])
        if _utf16_len(plain) > MAX_CAPTION:
            raise _bad("message caption is too long")
        with self._cond:
            if isinstance(document, bytes):
                if not document:
                    raise _bad("file must be non-empty")
                if len(document) > MAX_UPLOAD:
                    raise ApiError(413, "Request Entity Too Large")
                name = str(params.get("_document_filename") or "document")
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
                file = self._files[self.add_file(document, file_name=name, mime_type=mime)]
            elif isinstance(document, str) and document in self._files:
                file = self._files[document]
                name = file.file_path.rsplit("/", 1)[-1]
                mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
            else:
                raise _bad("wrong file identifier/HTTP URL specified")
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": self.bot_user,
                "chat": self._chats.get(chat_id) or self._new_chat(chat_id, None, None),
                "date": int(time.time()),
                "document": {"file_name": name, "mime_type": mime, **_file_fields(file)},
            }
            if plain:
                message["caption"] = plain
            if entities:
                message["caption_entities"] = entities
            self._messages[(chat_id, message["message_id"])] = message
            self._sent.append(
                {
                    "chat_id": chat_id,
                    "message_id": message["message_id"],
                    "text": caption,
                    "plain_text": plain,
                    "parse_mode": parse_mode,
                    "reply_markup": None,
                    "reply_to_message_id": None,
                    "document": {"file_name": name, "mime_type": mime, "content": file.content},
                    "params": {k: v for k, v in params.items() if not isinstance(v, bytes)},
                    "time": time.time(),
                }
            )
            return json.loads(json.dumps(message))

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("inline_message_id"):
            raise _bad("inline messages are not supported by the fake server")
        chat_id = self._chat_id(params)
        message_id = _int(params, "message_id", required=True)
        text, parse_mode = _text(params, "text") or "", _text(params, "parse_mode")
        plain, entities = _formatted(text, parse_mode)
        markup = _check_markup(_json(params, "reply_markup"))
        with self._cond:
            old = self._messages.get((chat_id, message_id or 0))
            if old is None:
                raise _bad("message to edit not found")
            if old["from"].get("id") != self.bot_user["id"]:
                raise _bad("message can't be edited")
            old_markup = old.get("reply_markup")
            if (old.get("text"), old.get("entities", []), old_markup) == (plain, entities, markup):
                raise _bad(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            message = {k: v for k, v in old.items() if k not in ("entities", "reply_markup")}
            message.update(text=plain, edit_date=int(time.time()))
            if entities:
                message["entities"] = entities
            if markup:  # like Telegram: an edit without reply_markup removes the keyboard
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            self._edits.append(
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "text": text,
                    "plain_text": plain,
                    "parse_mode": parse_mode,
                    "reply_markup": markup,
                    "time": time.time(),
                }
            )
            return json.loads(json.dumps(message))

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = _text(params, "callback_query_id")
        text = _text(params, "text")
        if text and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        with self._cond:
            if query_id not in self._open_callbacks:
                raise _bad(
                    "query is too old and response timeout expired or query ID is invalid"
                )  # fmt: skip
            self._open_callbacks.discard(query_id)
            self._answers.append(
                {
                    "callback_query_id": query_id,
                    "text": text,
                    "show_alert": _bool(params, "show_alert"),
                    "url": _text(params, "url"),
                    "time": time.time(),
                }
            )
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            file = self._files.get(_text(params, "file_id") or "")
        if file is None:
            raise _bad("invalid file_id")
        if len(file.content) > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.content),
            "file_path": file.file_path,
        }

    def _api_setWebhook(self, params: dict[str, Any]) -> _Reply:
        url = _text(params, "url") or ""
        secret = _text(params, "secret_token")
        allowed = _json(params, "allowed_updates")
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        with self._cond:
            if allowed is not None:
                self._allowed = [str(kind) for kind in allowed]
            if not url:
                self._webhook = None
                return _Reply(True, "Webhook was deleted")
            self._webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
            self._poll_generation += 1
            self._cond.notify_all()
        return _Reply(True, "Webhook was set")

    def _api_deleteWebhook(self, params: dict[str, Any]) -> _Reply:
        with self._cond:
            existed, self._webhook = self._webhook is not None, None
            if _bool(params, "drop_pending_updates"):
                self._updates.clear()
        return _Reply(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            info: dict[str, Any] = {
                "url": self._webhook["url"] if self._webhook else "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._webhook and self._allowed is not None:
                info["allowed_updates"] = list(self._allowed)
        return info

    # --- building blocks (called with the lock held) ---

    def _chat_id(self, params: dict[str, Any]) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if isinstance(value, str) and not re.fullmatch(r"-?\d+", value):
            raise _bad("chat not found")
        return _int(params, "chat_id", required=True) or 0

    def _new_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _reply_copy(self, chat_id: int, message_id: int) -> dict[str, Any]:
        original = self._messages.get((chat_id, message_id))
        if original is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        # Telegram does not nest: a replied-to message carries no reply_to_message of its own.
        return {k: v for k, v in original.items() if k != "reply_to_message"}

    @staticmethod
    def _user(
        user_id: int, first_name: str, username: str | None, language_code: str = "en"
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def _new_chat(chat_id: int, first_name: str | None, username: str | None) -> dict[str, Any]:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "title": "Support group", "type": kind}
        chat: dict[str, Any] = {"id": chat_id}
        if first_name:
            chat["first_name"] = first_name
        if username:
            chat["username"] = username
        chat["type"] = "private"
        return chat

    def _media(
        self,
        photo: bytes | str | None,
        document: bytes | str | None,
        voice: bytes | str | None,
        sticker: bool,
        file_name: str,
        mime_type: str | None,
        duration: int,
    ) -> dict[str, Any]:
        def stored(content: bytes | str, **kwargs: Any) -> _File:
            file_id = content if isinstance(content, str) else self.add_file(content, **kwargs)
            return self._files[file_id]

        media: dict[str, Any] = {}
        if photo is not None:  # three sizes, each its own file, as Telegram sends them
            largest = stored(photo, mime_type="image/jpeg", folder="photos")
            sizes = [
                self._files[self.add_file(largest.content, mime_type="image/jpeg", folder="photos")]
                for _ in range(2)
            ]
            media["photo"] = [
                {**_file_fields(file), "width": side, "height": side * 3 // 4}
                for file, side in zip([*sizes, largest], (90, 320, 800), strict=True)
            ]
        if document is not None:
            mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
            file = stored(document, file_name=file_name, mime_type=mime)
            media["document"] = {"file_name": file_name, "mime_type": mime, **_file_fields(file)}
        if voice is not None:
            file = stored(voice, mime_type="audio/ogg", folder="voice")
            media["voice"] = {"duration": duration, "mime_type": "audio/ogg", **_file_fields(file)}
        if sticker:
            file = stored(b"RIFF\x00\x00\x00\x00WEBPVP8 ", file_name="s.webp", folder="stickers")
            media["sticker"] = {
                "width": 512, "height": 512, "emoji": "\U0001f44d", "set_name": "HotCherry",
                "is_animated": False, "is_video": False, "type": "regular", **_file_fields(file),
            }  # fmt: skip
        return media


def _file_fields(file: _File) -> dict[str, Any]:
    return {
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": len(file.content),
    }


def _formatted(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    mode = (parse_mode or "").lower()
    if mode not in ("", "html", "markdown", "markdownv2"):
        raise _bad("unsupported parse_mode")
    plain, entities = parse_html(text) if mode == "html" else (text, [])
    if not plain.strip():
        raise _bad("message text is empty")
    if _utf16_len(plain) > MAX_TEXT:
        raise _bad("message is too long")
    return plain, entities


def _error_body(error: ApiError) -> tuple[int, str, bytes]:
    if error.status in (502, 504):
        return error.status, "text/html", _GATEWAY_PAGE
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.parameters:
        body["parameters"] = error.parameters
    return error.status, "application/json", json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects of api.telegram.org
    server: _HttpServer

    def setup(self) -> None:
        super().setup()
        with self.server.fake._cond:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._cond:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = self.headers.get("Content-Type") or ""
        try:
            status, kind, payload = self.server.fake._answer(
                split.path, split.query, content_type, body
            )
        except ConnectionAbortedError:
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, fake: TelegramServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away mid-answer; the fake's own bugs land in ``errors``


@pytest.fixture
def telegram_server() -> Iterator[TelegramServer]:
    """A running fake Telegram Bot API server on loopback."""
    with TelegramServer() as server:
        yield server
