"""What the desk tells a requester about their request on its own: that it was resolved,
with the question how the help was (links to the ticket's page, whose GET only shows the
choice); in their language (the requester pages' catalog)."""

from __future__ import annotations

from html import escape

from router.catalogs import Catalog
from router.notice_texts import Rendered, reply_subject

CATALOG = Catalog.beside(__file__)


def rating_link(ticket_link: str, number: int, good: bool) -> str:
    """The page that asks to confirm a rating (``ticket_link``: the ticket's link)."""
    base, _, query = ticket_link.partition(f"/api/v1/tickets/{number}?")
    return f"{base}/requests/{number}/rating?{query}&good={1 if good else 0}"


def resolved_mail(
    *,
    number: int,
    subject: str,
    requester_name: str,
    link: str,
    ask_rating: bool,
    helpdesk_name: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """The mail that tells a requester their request was resolved."""
    texts = CATALOG.texts(language)
    _ = texts.gettext
    greeting = _("Hello %(name)s,", name=requester_name) if requester_name else _("Hello,")
    parts = [greeting, _("we have resolved your request %(tag)s.", tag=f"[{tag_prefix}{number}]")]
    if ask_rating:
        parts.append(
            _(
                "How was the help you got? Choose one (your choice is kept only once you "
                "confirm it on the page):\nGood: %(good)s\nBad: %(bad)s",
                good=rating_link(link, number, True),
                bad=rating_link(link, number, False),
            )
        )
    parts.append(
        _(
            "If anything is still wrong, reply to this mail or tell us on your request's "
            "page:\n%(link)s",
            link=link,
        )
    )
    body = "\n\n".join(parts) + f"\n\n-- {helpdesk_name}\n"
    return Rendered(
        subject=reply_subject(subject, number, language, tag_prefix),
        body_text=body,
        language=language,
    )


def rating_buttons(number: int, language: str) -> tuple[dict[str, str], ...]:
    """The inline buttons under a chat's resolution notice: good, bad."""
    texts = CATALOG.texts(language)
    return (
        {"text": texts.pgettext("rating", "Good"), "callback_data": f"rd:good:{number}"},
        {"text": texts.pgettext("rating", "Bad"), "callback_data": f"rd:bad:{number}"},
    )


def rating_answer(saved: bool, language: str) -> str:
    """What a chat says when its rating button was pressed."""
    texts = CATALOG.texts(language)
    if saved:
        return texts.gettext("Thank you, your rating was saved.")
    return texts.gettext("This request can no longer be rated.")


def pending_mail(
    *,
    number: int,
    subject: str,
    requester_name: str,
    asked: str,
    link: str,
    reminder: bool,
    helpdesk_name: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """The mail that tells (or reminds) a requester that their request waits for them,
    with what was asked."""
    _ = CATALOG.texts(language).gettext
    tag = f"[{tag_prefix}{number}]"
    greeting = _("Hello %(name)s,", name=requester_name) if requester_name else _("Hello,")
    said = (
        _("a reminder: your request %(tag)s is waiting for your answer.", tag=tag)
        if reminder
        else _("your request %(tag)s is waiting for your answer.", tag=tag)
    )
    parts = [greeting, said]
    if asked.strip():
        parts.append(_("We asked:\n%(asked)s", asked=_quoted(asked)))
    parts.append(_("Reply to this mail, or answer on your request's page:\n%(link)s", link=link))
    body = "\n\n".join(parts) + f"\n\n-- {helpdesk_name}\n"
    return Rendered(
        subject=reply_subject(subject, number, language, tag_prefix),
        body_text=body,
        language=language,
    )


def merged_mail(
    *,
    number: int,
    into: int,
    subject: str,
    requester_name: str,
    link: str,
    helpdesk_name: str,
    language: str,
    tag_prefix: str = "#",
) -> Rendered:
    """The mail that tells a requester their request ``number`` goes on in ``into`` (the
    subject carries ``into``'s tag: an answer to it joins that ticket)."""
    _ = CATALOG.texts(language).gettext
    greeting = _("Hello %(name)s,", name=requester_name) if requester_name else _("Hello,")
    parts = [
        greeting,
        _(
            "your request %(tag)s is about the same as your request %(into)s: we have "
            "merged them, and everything you wrote is kept there. We answer you in %(into)s "
            "from now on.",
            tag=f"[{tag_prefix}{number}]",
            into=f"[{tag_prefix}{into}]",
        ),
        _("Reply to this mail, or write on your request's page:\n%(link)s", link=link),
    ]
    body = "\n\n".join(parts) + f"\n\n-- {helpdesk_name}\n"
    return Rendered(
        subject=reply_subject(subject, into, language, tag_prefix),
        body_text=body,
        language=language,
    )


def merged_chat(*, number: int, into: int, language: str, tag_prefix: str = "#") -> str:
    """The same in a chat (HTML, escaped)."""
    _ = CATALOG.texts(language).gettext
    said = _(
        "Your request %(tag)s goes on in your request %(into)s: we have merged them.",
        tag=f"[{tag_prefix}{number}]",
        into=f"[{tag_prefix}{into}]",
    )
    return f"<b>{escape(said)}</b>\n" + escape(_("Just write here as before."))


def pending_chat(
    *, number: int, asked: str, reminder: bool, language: str, tag_prefix: str = "#"
) -> str:
    """The same in a chat (HTML, escaped)."""
    _ = CATALOG.texts(language).gettext
    tag = f"[{tag_prefix}{number}]"
    said = (
        _("A reminder: your request %(tag)s is waiting for your answer.", tag=tag)
        if reminder
        else _("Your request %(tag)s is waiting for your answer.", tag=tag)
    )
    lines = [f"<b>{escape(said)}</b>"]
    if asked.strip():
        lines.append(f"<blockquote>{escape(asked.strip()[:1000])}</blockquote>")
    lines.append(escape(_("Just write your answer here.")))
    return "\n".join(lines)


def _quoted(text: str, limit: int = 1000) -> str:
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return "\n".join(f"> {line}" for line in text.splitlines())


def sign_in_mail(*, link: str, minutes: int, helpdesk_name: str, language: str) -> Rendered:
    """The one-time link to "my requests"."""
    _ = CATALOG.texts(language).gettext
    body = "\n\n".join(
        [
            _("Hello,"),
            _(
                "to see all your requests, open this link within %(minutes)s minutes (it "
                "works once):\n%(link)s",
                minutes=minutes,
                link=link,
            ),
            _("If you did not ask for it, you can ignore this mail."),
        ]
    )
    return Rendered(
        subject=_("Your link to your requests at %(desk)s", desk=helpdesk_name),
        body_text=body + f"\n\n-- {helpdesk_name}\n",
        language=language,
    )
