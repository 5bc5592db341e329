"""What the bot says to a customer in their chat: the acknowledgement, the list of their
requests, that one was resolved, what it cannot read, a file too large.

Telegram HTML, escaped and bounded like the agents' notices (``notices``), in the
customer's language (``language``; the words are in ``connectors/telegram/locale``).
"""

from __future__ import annotations

from collections.abc import Sequence

from babel.numbers import format_decimal

from connectors.telegram.chat_text import one_line, ticket_tag
from connectors.telegram.notices import CATALOG, listing
from router.catalogs import N_
from router.vocabulary_texts import requester_state_word

_UNSUPPORTED = {
    "sticker": N_("Sorry, we cannot read stickers here."),
    "animation": N_("Sorry, we cannot read GIFs here."),
    "location": N_("Sorry, we cannot read locations here."),
    "venue": N_("Sorry, we cannot read places here."),
    "contact": N_("Sorry, we cannot read contacts here."),
    "poll": N_("Sorry, we cannot read polls here."),
    "dice": N_("Sorry, we cannot read dice here."),
    "game": N_("Sorry, we cannot read games here."),
    "video_note": N_("Sorry, we cannot read video messages here."),
    "story": N_("Sorry, we cannot read stories here."),
}
_UNSUPPORTED_OTHER = N_("Sorry, we cannot read this kind of message here.")


def chat_acknowledgement(
    *, number: int, subject: str, helpdesk_name: str, language: str, tag_prefix: str = "#"
) -> str:
    _ = CATALOG.texts(language).gettext
    subject_line = one_line(subject, 400)
    name = one_line(helpdesk_name, 100)
    opened = _("We have opened your request %(tag)s", tag=ticket_tag(number, tag_prefix))
    answer = (
        _("%(desk)s will answer you here, in this chat; write here to add anything.", desk=name)
        if name
        else _("We will answer you here, in this chat; write here to add anything.")
    )
    return "\n".join(
        [
            f"<b>{opened}</b>",
            *([_("Subject: %(subject)s", subject=subject_line)] if subject_line else []),
            "",
            answer,
            _("Send /new to start another request, /status to list yours."),
        ]
    )


def chat_resolved(*, number: int, language: str, tag_prefix: str = "#") -> str:
    """The customer's request was resolved (writing again reopens it)."""
    _ = CATALOG.texts(language).gettext
    head = _("Your request %(tag)s is resolved.", tag=ticket_tag(number, tag_prefix))
    again = _("If anything is still wrong, just write here and we will pick it up again.")
    return f"<b>{head}</b>\n{again}"


def chat_ticket_list(
    rows: Sequence[tuple[int, str, str]], language: str, tag_prefix: str = "#"
) -> str:
    """The customer's requests, one a line: ``[#12] Printer broken: open``."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    if not rows:
        return _("You have no requests with us yet.")
    no_subject = _("(no subject)")
    lines = [
        _(
            "%(tag)s %(subject)s: %(status)s",
            tag=ticket_tag(number, tag_prefix),
            subject=one_line(subject, 100, no_subject),
            status=one_line(requester_state_word(status, language), 40),
        )
        for number, subject, status in rows
    ]
    return listing("<b>" + _("Your requests") + "</b>", lines, texts)


def chat_unsupported(kind: str, language: str) -> str:
    _ = CATALOG.texts(language).gettext
    what = _(_UNSUPPORTED.get(kind.strip().lower(), _UNSUPPORTED_OTHER))
    return _(
        "%(sorry)s Please write your message as text, or send a photo, a document or a voice note.",
        sorry=what,
    )


def chat_new_started(language: str) -> str:
    return CATALOG.texts(language).gettext("All right: your next message opens a new request.")


def _size(limit_bytes: int, language: str) -> str:
    """``20 MB`` as the reader's locale writes the number."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if limit_bytes >= size:
            amount = format_decimal(round(limit_bytes / size, 1), locale=language)
            return f"{amount} {unit}"
    return CATALOG.texts(language).ngettext("%(num)d byte", "%(num)d bytes", limit_bytes)


def chat_file_too_large(filename: str, limit_bytes: int, language: str) -> str:
    _ = CATALOG.texts(language).gettext
    name = one_line(filename, 200)
    limit = _size(limit_bytes, language)
    if name:
        return _(
            "Sorry, %(file)s is too large: we accept files up to %(limit)s. "
            "Please send a smaller file, or a link to it.",
            file=f"<b>{name}</b>",
            limit=limit,
        )
    return _(
        "Sorry, your file is too large: we accept files up to %(limit)s. "
        "Please send a smaller file, or a link to it.",
        limit=limit,
    )
