"""The texts the chat bot sends, as Telegram HTML, with their inline buttons.

Everything that comes from a user or a ticket is escaped, and every text is
bounded so that it fits one Telegram message, except an agent's reply, which
the sender splits (its plain form, ``chat_agent_reply_text``). Pure rendering: the
caller decides who receives them, and in which language (``language``, one of
``catalogs.LANGUAGES``: the words are in ``connectors/telegram/locale``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.telegram.chat_text import clip, escape_html, one_line, ticket_tag, trim, utf16_len
from connectors.telegram.commands import CALLBACK_DATA_LIMIT, encode_button
from router.catalogs import N_, Catalog, Texts
from router.thread_keys import subject_tag
from router.vocabulary_texts import priority_word, status_word

CATALOG = Catalog.beside(__file__)

_BUDGET = 4000
"""What a notice may take of CHAT_LIMIT (4096), leaving a margin."""

_HEADERS = {
    "assignment": N_("Assigned to you: %(tag)s"),
    "offer": N_("Up for grabs: %(tag)s, the first to claim it gets it"),
    "reply": N_("New reply from the customer: %(tag)s"),
    "mention": N_("You were mentioned: %(tag)s"),
    "sla_warning": N_("SLA warning: %(tag)s"),
    "sla_breach": N_("SLA breached: %(tag)s"),
    "taken": N_("Claimed by someone else: %(tag)s"),
    "reopened": N_("Reopened: %(tag)s"),
}
NOTICE_KINDS = tuple(_HEADERS)

_REPLY_HINT = N_(
    "Reply to this message to answer the customer; start with /note for an internal note."
)


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


def _texts(language: str) -> Texts:
    return CATALOG.texts(language)


def agent_notice(
    *,
    kind: str,
    number: int,
    priority: str,
    requester: str,
    subject: str,
    latest: str,
    language: str,
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
    texts = _texts(language)
    _ = texts.gettext
    header = _(_HEADERS[kind], tag=ticket_tag(number, tag_prefix))
    unknown, no_subject = _("(unknown)"), _("(no subject)")
    lines = [
        f"<b>{header}</b>",
        _(
            "Priority: %(priority)s",
            priority=one_line(priority_word(priority, texts.language), 40, "-"),
        ),
        _("Requester: %(requester)s", requester=one_line(requester, 300, unknown)),
        _("Subject: %(subject)s", subject=one_line(subject, 400, no_subject)),
    ]
    if files:
        listed = ", ".join(
            _("%(file)s (not kept: %(why)s)", file=name, why=why) if why else name
            for name, why in files
        )
        lines.append(_("Files: %(files)s", files=one_line(listed, 600)))
    if detail.strip():
        lines.append(one_line(detail, 600))
    head = "\n".join(lines)
    hint = "" if kind == "taken" else f"\n\n<i>{escape_html(_(_REPLY_HINT))}</i>"
    room = _BUDGET - utf16_len(head) - utf16_len(hint) - len("\n\n<blockquote></blockquote>")
    quote = clip(trim(latest, max_latest), room) if latest.strip() and max_latest > 0 else ""
    body = f"\n\n<blockquote>{quote}</blockquote>" if quote else ""
    buttons = _agent_buttons(kind, number, web_url, texts)
    return ChatNotice(html=head + body + hint, buttons=buttons)


def _button_word(action: str, texts: Texts) -> str:
    words = {
        "claim": texts.pgettext("button", "Claim"),
        "resolve": texts.pgettext("button", "Resolve"),
        "pending": texts.pgettext("button", "Pending"),
        "reopen": texts.pgettext("button", "Reopen"),
    }
    return words[action]


def _action(action: str, number: int, texts: Texts) -> ChatButton:
    return ChatButton(_button_word(action, texts), callback_data=encode_button(action, number))


def next_buttons(done: str, number: int, language: str) -> tuple[ChatButton, ...]:
    """After a button's action: Resolve and Pending once the ticket is taken or reopened,
    Reopen once it is resolved or pending."""
    actions = ("resolve", "pending") if done in ("claim", "reopen") else ("reopen",)
    return tuple(_action(a, number, _texts(language)) for a in actions)


def _agent_buttons(
    kind: str, number: int, web_url: str | None, texts: Texts
) -> tuple[tuple[ChatButton, ...], ...]:
    rows: list[tuple[ChatButton, ...]] = []
    if kind == "offer":
        rows.append((_action("claim", number, texts),))
    elif kind != "taken":
        rows.append((_action("resolve", number, texts), _action("pending", number, texts)))
    if web_url:
        rows.append((ChatButton(texts.pgettext("button", "Open in web"), url=web_url),))
    return tuple(rows)


# -- about the customer's messages -------------------------------------------------


def files_only_text(names: Sequence[str], language: str = "en") -> str:
    """The text of a message that is files alone (plain: it is kept as the message), in
    ``language`` (the desk's: its agents read it)."""
    texts = _texts(language)
    shown = texts.gettext(", ").join(" ".join(n.split()) or texts.gettext("unnamed") for n in names)
    return texts.ngettext("(file: %(names)s)", "(files: %(names)s)", len(names), names=shown)


def edited_text(text: str, language: str = "en") -> str:
    """The text of an edited message, marked as such (kept as the message)."""
    return _texts(language).gettext("(edited) %(text)s", text=text)


def untitled_subject(filename: str | None, language: str = "en") -> str:
    """The subject of a chat request whose first message has no text, in ``language``
    (the requester's: their acknowledgement repeats it)."""
    _ = _texts(language).gettext
    return _("%(file)s from Telegram", file=filename) if filename else _("Telegram message")


def forwarded_file_caption(
    *, number: int, filename: str, language: str, tag_prefix: str = "#"
) -> str:
    """The caption of a customer's file passed on to the agent (at most 1,024 units)."""
    _ = _texts(language).gettext
    name = one_line(filename, 400) or _("a file")
    return _(
        "%(tag)s %(file)s from the customer",
        tag=f"<b>{ticket_tag(number, tag_prefix)}</b>",
        file=name,
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
    """``— Ana Lima, [#12]`` (plain text; an agent without a name signs as the desk's
    support, a word every reader of a chat knows)."""
    name = " ".join(agent_name.split())[:100] or "support"
    return f"\u2014 {name}, {' '.join(subject_tag(number, tag_prefix).split())[:60]}"


def listing(title: str, lines: Sequence[str], texts: Texts) -> str:
    """A title and one line per item, as many as fit, then how many did not."""
    out, used = [title], utf16_len(title)
    for index, line in enumerate(lines):
        left = len(lines) - index
        more = texts.ngettext("\u2026 and %(num)d more", "\u2026 and %(num)d more", left)
        cost = 1 + utf16_len(line)
        if used + cost + 1 + len(more) > _BUDGET:
            out.append(more)
            break
        out.append(line)
        used += cost
    return "\n".join(out)


# -- to the agent --------------------------------------------------------------------


def agent_help(language: str) -> str:
    _ = _texts(language).gettext
    return "\n".join(
        [
            "<b>" + _("relaydesk for agents") + "</b>",
            _("Reply to a ticket notification to answer the customer."),
            _("Start the reply with /note to write an internal note instead."),
            _("/status online|away|offline sets whether you get new tickets."),
            _("/mine lists the tickets assigned to you."),
        ]
    )


def agent_ticket_list(
    rows: Sequence[tuple[int, str, str, str]], language: str, tag_prefix: str = "#"
) -> str:
    """The agent's tickets, one a line: ``[#12] Printer broken: open, high``."""
    texts = _texts(language)
    _ = texts.gettext
    if not rows:
        return _("You have no tickets assigned to you.")
    no_subject = _("(no subject)")
    lines = [
        _(
            "%(tag)s %(subject)s: %(status)s, %(priority)s",
            tag=ticket_tag(number, tag_prefix),
            subject=one_line(subject, 100, no_subject),
            status=one_line(status_word(status, texts.language), 40),
            priority=one_line(priority_word(priority, texts.language), 40),
        )
        for number, subject, status, priority in rows
    ]
    return listing("<b>" + _("Your tickets") + "</b>", lines, texts)


def link_result(ok: bool, agent_name: str | None, language: str) -> str:
    _ = _texts(language).gettext
    if not ok:
        return (
            _(
                "That link code is not valid, or has expired or been used. "
                "Ask an administrator for a new one."
            )
            + "\n\n"
            + _("Looking for help? Just write your question here.")
        )
    name = one_line(agent_name or "", 100)
    if name:
        return _(
            "Linked as %(agent)s: your ticket notifications will come here.",
            agent=f"<b>{name}</b>",
        )
    return _("Linked: your ticket notifications will come here.")
