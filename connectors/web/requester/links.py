"""The ticket link in what a requester is sent: a line of an acknowledgement mail, a
button under a chat's acknowledgement; in their language (the page's catalog)."""

from __future__ import annotations

from router.catalogs import Catalog

CATALOG = Catalog.beside(__file__)


def link_paragraph(link: str, language: str) -> str:
    """A paragraph for a mail: where to follow the request and answer it."""
    _ = CATALOG.texts(language).gettext
    return _("Follow your request, add to it or send files here:\n%(link)s", link=link)


def link_button(link: str, language: str) -> dict[str, str]:
    """An inline URL button for a chat."""
    return {"text": CATALOG.texts(language).gettext("Follow your request"), "url": link}
