"""What the desk tells a requester about their request on its own: that it was resolved,
with the question how the help was (links to the ticket's page, whose GET only shows the
choice); in their language (the requester pages' catalog)."""

from __future__ import annotations

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
    return Rendered(subject=reply_subject(subject, number, language, tag_prefix), body_text=body)


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
