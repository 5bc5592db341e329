"""The language of a requester's page (``router.language_choice.page_language``): their
choice (``?lang=zh-CN``, kept in a cookie so the next pages, after a form's redirect, speak
it too), else the language known for them, else their browser's, else the desk's."""

from __future__ import annotations

from typing import TypeVar

from starlette.requests import HTTPConnection
from starlette.responses import Response

from config.settings import Settings
from router.language_choice import page_language, stated_language

LANGUAGE_COOKIE = "relaydesk_lang"
_YEAR_S = 365 * 24 * 3600
R = TypeVar("R", bound=Response)


def chosen_language(request: HTTPConnection) -> str:
    """The requester's choice for the pages: ``?lang``, else the one a ``?lang`` left."""
    return (
        request.query_params.get("lang", "")[:35] or request.cookies.get(LANGUAGE_COOKIE, "")[:35]
    )


def language_of_page(request: HTTPConnection, settings: Settings, known: str | None = None) -> str:
    """The page's language; ``known``: the requester's stored language, when the page
    knows whose it is (their ticket's link, their session, their sign-in link)."""
    return page_language(
        chosen=chosen_language(request),
        known=known,
        stated=request.headers.get("Accept-Language", "")[:500],
        default=settings.helpdesk.language,
    )


def remember_choice(request: HTTPConnection, response: R) -> R:
    """Keeps a ``?lang`` naming a language relaydesk speaks in the cookie."""
    chosen = stated_language(request.query_params.get("lang", "")[:35])
    if chosen is not None and chosen != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=_YEAR_S,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
