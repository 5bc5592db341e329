"""The texts the chat bot sends, as Telegram HTML, with their inline buttons.

Everything that comes from a user or a ticket is escaped, and every text is
bounded so that it fits one Telegram message, except an agent's reply, which
the sender splits (its plain form, ``chat_agent_reply_text``). Pure rendering: the
caller decides who receives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.telegram.chat_text import escape_html, trim, utf16_len
from connectors.telegram.commands import CALLBACK_DATA_LIMIT, encode_button
from router.thread_keys import subject_tag

_BUDGET = 4000
"""What a notice may take of CHAT_LIMIT (4096), leaving a margin."""

_HEADERS = {
    "assignment": "Assigned to you: {tag}",
    "offer": "Up for grabs: {tag}, the first to claim it gets it",
    "reply": "New reply from the customer: {tag}",
    "mention": "You were mentioned: {tag}",
    "sla_warning": "SLA warning: {tag}",
    "sla_breach": "SLA breached: {tag}",
    "taken": "Claimed by someone else: {tag}",
    "reopened": "Reopened: {tag}",
}
NOTICE_KINDS = tuple(_HEADERS)

_REPLY_HINT = "Reply to this message to answer the customer; start with /note for an internal note."

_UNSUPPORTED = {
    "sticker": "stickers",
    "animation": "GIFs",
    "location": "locations",
    "venue": "places",
    "contact": "contacts",
    "poll": "polls",
    "dice": "dice",
    "game": "games",
    "video_note": "video messages",
    "story": "stories",
}


@dataclass(frozen=True)
class ChatButton:
    """An inline keyboard button: it either calls back the bot or opens a link."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if not self.text:
            raise ValueError("a button needs a text")
        if (self.callback_data is None) == (self.url is None):
            raise ValueError("a button has exactly one of callback_data and url")
        if (
            self.callback_data is not None
            and len(self.callback_data.encode()) > CALLBACK_DATA_LIMIT
        ):
            raise ValueError("a button's callback data is at most 64 bytes")

    def to_payload(self) -> dict[str, str]:
        """The Bot API's InlineKeyboardButton."""
        if self.callback_data is not None:
            return {"text": self.text, "callback_data": self.callback_data}
        assert self.url is not None
        return {"text": self.text, "url": self.url}


@dataclass(frozen=True)
class ChatNotice:
    html: str
    buttons: tuple[tuple[ChatButton, ...], ...] = ()

    def buttons_payload(self) -> tuple[tuple[dict[str, str], ...], ...]:
        """The Bot API's ``inline_keyboard``: rows of buttons."""
        return tuple(tuple(button.to_payload() for button in row) for row in self.buttons)


def _clip(text: str, units: int) -> str:
    """``text`` trimmed and escaped, at most ``units`` UTF-16 units once escaped."""
    limit = units
    while True:
        escaped = escape_html(trim(text, limit))
        cost = utf16_len(escaped)
        if cost <= units:
            return escaped
        limit = max(1, limit * units // cost - 1)


def _line(text: str, units: int, empty: str = "") -> str:
    """One line of user text, whitespace collapsed, escaped and bounded."""
    return _clip(" ".join(text.split()), units) or empty


def _tag(number: int, tag_prefix: str) -> str:
    return _line(subject_tag(number, tag_prefix), 60)


def agent_notice(
    *,
    kind: str,
    number: int,
    priority: str,
    requester: str,
    subject: str,
    latest: str,
    detail: str = "",
    web_url: str | None = None,
    tag_prefix: str = "#",
    max_latest: int = 700,
    files: Sequence[tuple[str, str | None]] = (),
) -> ChatNotice:
    """A ticket notice for an agent: what happened, the ticket's facts, its latest message
    and the files that came with it (``files``: each name, and why it was not kept)."""
    if kind not in _HEADERS:
        raise ValueError(f"unknown notice kind {kind!r}; known: {', '.join(NOTICE_KINDS)}")
    lines = [
        f"<b>{_HEADERS[kind].format(tag=_tag(number, tag_prefix))}</b>",
        f"Priority: {_line(priority, 40, '-')}",
        f"Requester: {_line(requester, 300, '(unknown)')}",
        f"Subject: {_line(subject, 400, '(no subject)')}",
    ]
    if files:
        listed = ", ".join(name + (f" (not kept: {why})" if why else "") for name, why in files)
        lines.append(f"Files: {_line(listed, 600)}")
    if detail.strip():
        lines.append(_line(detail, 600))
    head = "\n".join(lines)
    hint = "" if kind == "taken" else f"\n\n<i>{escape_html(_REPLY_HINT)}</i>"
    room = _BUDGET - utf16_len(head) - utf16_len(hint) - len("\n\n<blockquote></blockquote>")
    quote = _clip(trim(latest, max_latest), room) if latest.strip() and max_latest > 0 else ""
    body = f"\n\n<blockquote>{quote}</blockquote>" if quote else ""
    return ChatNotice(html=head + body + hint, buttons=_agent_buttons(kind, number, web_url))


def next_buttons(done: str, number: int) -> tuple[ChatButton, ...]:
    """After a button's action: Resolve and Pending once the ticket is taken or reopened,
    Reopen once it is resolved or pending."""
    actions = ("resolve", "pending") if done in ("claim", "reopen") else ("reopen",)
    return tuple(
        ChatButton(a.capitalize(), callback_data=encode_button(a, number)) for a in actions
    )


def _agent_buttons(
    kind: str, number: int, web_url: str | None
) -> tuple[tuple[ChatButton, ...], ...]:
    rows: list[tuple[ChatButton, ...]] = []
    if kind == "offer":
        rows.append((ChatButton("Claim", callback_data=encode_button("claim", number)),))
    elif kind != "taken":
        rows.append(
            (
                ChatButton("Resolve", callback_data=encode_button("resolve", number)),
                ChatButton("Pending", callback_data=encode_button("pending", number)),
            )
        )
    if web_url:
        rows.append((ChatButton("Open in web", url=web_url),))
    return tuple(rows)


# -- to the customer ---------------------------------------------------------------


def chat_acknowledgement(
    *, number: int, subject: str, helpdesk_name: str, tag_prefix: str = "#"
) -> str:
    subject_line = _line(subject, 400)
    return "\n".join(
        [
            f"<b>We have opened your request {_tag(number, tag_prefix)}</b>",
            *([f"Subject: {subject_line}"] if subject_line else []),
            "",
            f"{_line(helpdesk_name, 100, 'We')} will answer you here, in this chat; "
            "write here to add anything.",
            "Send /new to start another request, /status to list yours.",
        ]
    )


def files_only_text(names: Sequence[str]) -> str:
    """The text of a message that is files alone (plain: it is kept as the message)."""
    shown = ", ".join(" ".join(n.split()) or "unnamed" for n in names)
    return f"(file: {shown})" if len(names) == 1 else f"(files: {shown})"


def forwarded_file_caption(*, number: int, filename: str, tag_prefix: str = "#") -> str:
    """The caption of a customer's file passed on to the agent (at most 1,024 units)."""
    return f"<b>{_tag(number, tag_prefix)}</b> {_line(filename, 400, 'a file')} from the customer"


def chat_resolved(*, number: int, tag_prefix: str = "#") -> str:
    """The customer's request was resolved (writing again reopens it)."""
    return (
        f"<b>Your request {_tag(number, tag_prefix)} is resolved.</b>\n"
        "If anything is still wrong, just write here and we will pick it up again."
    )


def retired_notice(html: str, buttons: Sequence[Sequence[dict[str, str]]], done: str) -> ChatNotice:
    """A notice whose ticket was resolved or closed: its text with what happened, and
    only its link buttons (its actions no longer apply)."""
    links = tuple(
        tuple(ChatButton(b["text"], url=b["url"]) for b in row if b.get("url"))
        for row in buttons
        if any(b.get("url") for b in row)
    )
    return ChatNotice(html=f"{html}\n\n<b>\u2713 {escape_html(done)}</b>", buttons=links)


def has_actions(buttons: Sequence[Sequence[dict[str, str]]]) -> bool:
    """Whether a keyboard (rows of Bot API buttons) has a button that calls the bot back."""
    return any(b.get("callback_data") for row in buttons for b in row)


def chat_agent_reply(*, text: str, agent_name: str, number: int, tag_prefix: str = "#") -> str:
    """An agent's answer with its signature; not bounded: long texts need splitting."""
    signature = escape_html(_signature(agent_name, number, tag_prefix))
    return f"{escape_html(text.strip())}\n\n<i>{signature}</i>"


def chat_agent_reply_text(*, text: str, agent_name: str, number: int, tag_prefix: str = "#") -> str:
    """The plain form of ``chat_agent_reply``: what the sender splits when the answer is
    too long for one message, so the last part is signed with the ticket as well."""
    return f"{text.strip()}\n\n{_signature(agent_name, number, tag_prefix)}"


def _signature(agent_name: str, number: int, tag_prefix: str) -> str:
    """``— Ana Lima, [#12]`` (plain text)."""
    name = " ".join(agent_name.split())[:100] or "support"
    return f"\u2014 {name}, {' '.join(subject_tag(number, tag_prefix).split())[:60]}"


def _listing(title: str, lines: Sequence[str]) -> str:
    """A title and one line per item, as many as fit, then how many did not."""
    out, used = [title], utf16_len(title)
    for index, line in enumerate(lines):
        more = f"\u2026 and {len(lines) - index} more"
        cost = 1 + utf16_len(line)
        if used + cost + 1 + len(more) > _BUDGET:
            out.append(more)
            break
        out.append(line)
        used += cost
    return "\n".join(out)


def chat_ticket_list(rows: Sequence[tuple[int, str, str]], tag_prefix: str = "#") -> str:
    """The customer's requests, one a line: ``[#12] Printer broken: open``."""
    if not rows:
        return "You have no requests with us yet."
    lines = [
        f"{_tag(number, tag_prefix)} {_line(subject, 100, '(no subject)')}: {_line(status, 40)}"
        for number, subject, status in rows
    ]
    return _listing("<b>Your requests</b>", lines)


def chat_unsupported(kind: str) -> str:
    what = _UNSUPPORTED.get(kind.strip().lower(), "this kind of message")
    return (
        f"Sorry, we cannot read {what} here. "
        "Please write your message as text, or send a photo, a document or a voice note."
    )


def chat_new_started() -> str:
    return "All right: your next message opens a new request."


def _size(limit_bytes: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if limit_bytes >= size:
            return f"{limit_bytes / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{limit_bytes} bytes"


def chat_file_too_large(filename: str, limit_bytes: int) -> str:
    name = _line(filename, 200)
    what = f"<b>{name}</b> is" if name else "your file is"
    return (
        f"Sorry, {what} too large: we accept files up to {_size(limit_bytes)}. "
        "Please send a smaller file, or a link to it."
    )


# -- to the agent --------------------------------------------------------------------


def agent_help() -> str:
    return "\n".join(
        [
            "<b>relaydesk for agents</b>",
            "Reply to a ticket notification to answer the customer.",
            "Start the reply with /note to write an internal note instead.",
            "/status online|away|offline sets whether you get new tickets.",
            "/mine lists the tickets assigned to you.",
        ]
    )


def agent_ticket_list(rows: Sequence[tuple[int, str, str, str]], tag_prefix: str = "#") -> str:
    """The agent's tickets, one a line: ``[#12] Printer broken: open, high``."""
    if not rows:
        return "You have no tickets assigned to you."
    lines = [
        f"{_tag(number, tag_prefix)} {_line(subject, 100, '(no subject)')}: "
        f"{_line(status, 40)}, {_line(priority, 40)}"
        for number, subject, status, priority in rows
    ]
    return _listing("<b>Your tickets</b>", lines)


def link_result(ok: bool, agent_name: str | None) -> str:
    if not ok:
        return (
            "That link code is not valid, or has expired or been used. "
            "Ask an administrator for a new one.\n\n"
            "Looking for help? Just write your question here."
        )
    name = _line(agent_name or "", 100)
    who = f" as <b>{name}</b>" if name else ""
    return f"Linked{who}: your ticket notifications will come here."
