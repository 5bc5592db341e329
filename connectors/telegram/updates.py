"""Read a Bot API update (the JSON Telegram sends) into the few facts relaydesk acts on.

Pure: the raw update is what the inbox keeps; this runs in the ingest worker.
A malformed update raises ``ValueError`` naming what is missing, so its inbox
row is kept as failed with that reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from router.storable import removed_nul_problem, without_nul
from router.thread_keys import chat_message_ref


class UpdateKind(StrEnum):
    MESSAGE = "message"  # a new message in a chat with the bot
    EDITED = "edited"  # a message was edited
    CALLBACK = "callback"  # an inline button was pressed
    OTHER = "other"  # an update type relaydesk does not handle (kept, answered by nothing)


@dataclass(frozen=True)
class ChatFile:
    """A photo, document, voice note, audio or video sent to the bot."""

    file_id: str
    kind: str  # photo, document, voice, audio, video
    file_name: str
    mime_type: str
    size: int | None  # as Telegram reports it; None when unknown


@dataclass(frozen=True)
class ChatUpdate:
    update_id: int
    kind: UpdateKind
    chat_id: str = ""
    chat_type: str = ""  # private, group, supergroup, channel
    user_id: str = ""
    user_name: str = ""  # first and last name, else @username
    username: str = ""
    language_code: str = ""  # the IETF tag of the sender's Telegram app, when it says
    message_id: int | None = None
    text: str = ""  # the text, or a file's caption
    reply_to_message_id: int | None = None  # the message this one answers (an agent's reply)
    reply_to_bot: bool = False  # ... and that message is a bot's (ours)
    ref_date: int | None = None  # when the message replied to (or the button's) was sent
    files: tuple[ChatFile, ...] = ()
    unsupported: str | None = None  # sticker, location, ...: what we cannot read
    callback_id: str = ""
    callback_data: str = ""
    is_bot: bool = False
    problems: tuple[str, ...] = ()  # what could not be kept as sent (NUL characters)

    @property
    def external_id(self) -> str:
        """How the message is known across edits: chat and message id."""
        return chat_message_ref(self.chat_id, self.message_id)


_UNSUPPORTED = (
    "sticker",
    "animation",
    "video_note",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "invoice",
)


def parse_update(data: dict[str, Any]) -> ChatUpdate:
    """The update in relaydesk's terms; NUL characters, which no text keeps, are removed
    (and said among its ``problems``)."""
    data, removed = without_nul(data)
    update = _parse(data)
    if removed:
        problem = removed_nul_problem(["the message"], removed)
        return dataclasses.replace(update, problems=(problem,))
    return update


def _parse(data: dict[str, Any]) -> ChatUpdate:
    try:
        update_id = int(data["update_id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("update without a numeric update_id") from None
    if "callback_query" in data:
        return _callback(update_id, _dict(data, "callback_query"))
    for key, kind in (("message", UpdateKind.MESSAGE), ("edited_message", UpdateKind.EDITED)):
        if key in data:
            return _message(update_id, kind, _dict(data, key))
    return ChatUpdate(update_id=update_id, kind=UpdateKind.OTHER)


def _dict(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not an object")
    return value


def _who(user: dict[str, Any]) -> tuple[str, str, str, bool]:
    if "id" not in user:
        raise ValueError("from without an id")
    name = " ".join(str(user.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    username = str(user.get("username") or "")
    return (
        str(user["id"]),
        name or (f"@{username}" if username else ""),
        username,
        bool(user.get("is_bot")),
    )


def _language_code(user: Any) -> str:
    code = user.get("language_code") if isinstance(user, dict) else None
    return code[:35] if isinstance(code, str) else ""


def _message(update_id: int, kind: UpdateKind, msg: dict[str, Any]) -> ChatUpdate:
    chat = _dict(msg, "chat")
    if "id" not in chat:
        raise ValueError("chat without an id")
    if "message_id" not in msg:
        raise ValueError("message without a message_id")
    user_id, name, username, is_bot = _who(msg["from"]) if "from" in msg else ("", "", "", False)
    reply = msg.get("reply_to_message")
    files = _files(msg)
    unsupported = None
    if not files:
        unsupported = next((k for k in _UNSUPPORTED if k in msg), None)
    return ChatUpdate(
        update_id=update_id,
        kind=kind,
        chat_id=str(chat["id"]),
        chat_type=str(chat.get("type") or ""),
        user_id=user_id,
        user_name=name or str(chat.get("first_name") or chat.get("title") or ""),
        username=username,
        language_code=_language_code(msg.get("from")),
        message_id=int(msg["message_id"]),
        text=str(msg.get("text") or msg.get("caption") or ""),
        reply_to_message_id=int(reply["message_id"]) if isinstance(reply, dict) else None,
        reply_to_bot=isinstance(reply, dict) and bool((reply.get("from") or {}).get("is_bot")),
        ref_date=_date(reply),
        files=files,
        unsupported=unsupported,
        is_bot=is_bot,
    )


def _files(msg: dict[str, Any]) -> tuple[ChatFile, ...]:
    found = []
    photos = msg.get("photo")
    if isinstance(photos, list) and photos:  # the sizes of one photo: keep the largest
        best = max(photos, key=lambda p: (p.get("file_size") or 0, p.get("width") or 0))
        found.append(ChatFile(best["file_id"], "photo", "photo.jpg", "image/jpeg", _size(best)))
    defaults = {
        "document": ("document", "application/octet-stream"),
        "voice": ("voice.ogg", "audio/ogg"),
        "audio": ("audio.mp3", "audio/mpeg"),
        "video": ("video.mp4", "video/mp4"),
    }
    for kind, (name, mime) in defaults.items():
        item = msg.get(kind)
        if isinstance(item, dict) and item.get("file_id"):
            found.append(
                ChatFile(
                    file_id=str(item["file_id"]),
                    kind=kind,
                    file_name=str(item.get("file_name") or name),
                    mime_type=str(item.get("mime_type") or mime),
                    size=_size(item),
                )
            )
    return tuple(found)


def _date(message: Any) -> int | None:
    date = message.get("date") if isinstance(message, dict) else None
    return int(date) if isinstance(date, int) else None


def _size(item: dict[str, Any]) -> int | None:
    size = item.get("file_size")
    return int(size) if isinstance(size, int) else None


def _callback(update_id: int, query: dict[str, Any]) -> ChatUpdate:
    if "id" not in query or "from" not in query:
        raise ValueError("callback_query without an id or a sender")
    user_id, name, username, is_bot = _who(query["from"])
    msg = query.get("message") if isinstance(query.get("message"), dict) else None
    chat = msg.get("chat") if msg else None
    return ChatUpdate(
        update_id=update_id,
        kind=UpdateKind.CALLBACK,
        chat_id=str(chat["id"]) if isinstance(chat, dict) and "id" in chat else user_id,
        chat_type=str(chat.get("type") or "") if isinstance(chat, dict) else "",
        user_id=user_id,
        user_name=name,
        username=username,
        language_code=_language_code(query.get("from")),
        message_id=int(msg["message_id"]) if msg and "message_id" in msg else None,
        ref_date=_date(msg),
        callback_id=str(query["id"]),
        callback_data=str(query.get("data") or ""),
        is_bot=is_bot,
    )
