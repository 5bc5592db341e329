"""Which language a person is spoken to in: the rules, as pure functions.

A requester's language is, in order: the one they chose (the form's language
field, the API's ``language``), the one their client states (the browser's
Accept-Language, Telegram's ``language_code``, the mail's Content-Language),
the one already known for them (stored on the customer), else the desk's
(``helpdesk.language``). Only languages relaydesk has catalogs for count
(``catalogs.LANGUAGES``); a stated language it does not speak is passed over
for the next one the person accepts, as HTTP's content negotiation does.

A page the requester opens by their link (the ticket's page, "my requests", a sign-in
link) speaks, in order: the language they chose for the pages (``?lang``, kept in a
cookie), the one known for them (the desk's mail to them is in it, so its link opens
in it), what their browser states, else the desk's (``page_language``).

Any Chinese tag (zh, zh-CN, zh-Hans, zh-SG, also zh-TW and zh-Hant) is read as
Simplified Chinese, the only Chinese relaydesk ships: a reader of Traditional
characters reads it far better than English.
"""

from __future__ import annotations

from router.catalogs import LANGUAGES

LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}
"""Each language in its own words: how a choice of language is offered."""

_BY_PRIMARY = {"en": "en", "zh": "zh_CN"}
_MAX_TAGS = 32  # an Accept-Language header is short; a longer list is not worth reading


def language_of(tag: str) -> str | None:
    """The language relaydesk speaks for a BCP 47 or POSIX tag: ``zh-Hans-CN`` ->
    ``zh_CN``, ``en_GB.UTF-8`` -> ``en``; None for one it does not speak (``fr``)."""
    primary = tag.strip().replace("_", "-").split("-", 1)[0].split(".", 1)[0].lower()
    found = _BY_PRIMARY.get(primary)
    return found if found in LANGUAGES else None


def language_tag(language: str) -> str:
    """The BCP 47 tag of a language relaydesk speaks, as a Content-Language header or an
    HTML ``lang`` names it: ``zh_CN`` -> ``zh-CN``, ``en`` -> ``en``."""
    return language.replace("_", "-")


def supported_language(value: str) -> str:
    """``value`` as one of LANGUAGES (``zh-cn`` -> ``zh_CN``), or ValueError naming them:
    for a setting or a field that must name a language relaydesk speaks."""
    found = language_of(value) if value.strip() else None
    if found is None:
        choices = ", ".join(LANGUAGES)
        raise ValueError(f"unknown language {value!r}; relaydesk speaks {choices}")
    return found


def preferred_tags(header: str) -> tuple[str, ...]:
    """The tags of an Accept-Language or Content-Language value, most wanted first:
    by their ``q`` weight, then in the order given; ``q=0`` and ``*`` left out."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:_MAX_TAGS]):
        tag, *params = (p.strip() for p in part.split(";"))
        if not tag or tag == "*":
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            weighted.append((-weight, index, tag))
    return tuple(tag for _, _, tag in sorted(weighted))


def stated_language(header: str) -> str | None:
    """The most wanted language relaydesk speaks among those ``header`` lists
    (Accept-Language, Content-Language, or a single tag such as Telegram's)."""
    for tag in preferred_tags(header):
        found = language_of(tag)
        if found is not None:
            return found
    return None


def requester_language(
    *, chosen: str = "", stated: str = "", known: str | None = None, default: str
) -> str:
    """The language to speak to a requester in: their choice, else what their client
    states, else what is known of them, else the desk's ``default``."""
    for candidate in (stated_language(chosen), stated_language(stated), known):
        if candidate in LANGUAGES:
            return candidate
    return default


def page_language(
    *, chosen: str = "", known: str | None = None, stated: str = "", default: str
) -> str:
    """The language of a requester's page: their choice for the pages, else what is
    known of them (the language the desk writes to them in), else what their browser
    states, else the desk's ``default``. A browser's Accept-Language says less about
    a person than the language they wrote in, so it comes after what is known."""
    for candidate in (stated_language(chosen), known, stated_language(stated)):
        if candidate in LANGUAGES:
            return candidate
    return default


def stated_languages(*values: str | None) -> str:
    """Languages from several sources as one Accept-Language value, the first source's
    first: a form's choice, then the browser's header (each cut to a sane length)."""
    return ", ".join(v.strip()[:500] for v in values if v and v.strip())
