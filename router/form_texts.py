"""Which of a form's texts a reader gets: a form's title, a field's label and help and
the labels of its choices are one text for every language, or one per language
(``config.form_settings.LocalText``: (language, text) pairs, "" for any language)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Texts = Sequence[tuple[str, str]]


def _key(language: str) -> str:
    return language.replace("-", "_").lower()


def text_in(texts: Texts, language: str, default: str = "en", *, any_other: bool = True) -> str:
    """The text for ``language`` (``zh_CN``, ``zh-CN``): its own, else one of its base
    language (``zh``), else the one for any language, else the ``default`` language's,
    else (``any_other``) one of a sibling language, else the first; "" when none."""
    given = {_key(k): v for k, v in texts if v}
    wanted = _key(language)
    for key in (wanted, wanted.split("_")[0], "", _key(default), _key(default).split("_")[0]):
        if key in given:
            return given[key]
    if not any_other:
        return ""
    if wanted:  # a text for zh_TW serves zh_CN better than English does
        base = wanted.split("_")[0]
        for key, text in given.items():
            if key.split("_")[0] == base:
                return text
    return next(iter(given.values()), "")


def form_title(
    titles: Mapping[str, Texts], slug: str | None, language: str, default: str = "en"
) -> str | None:
    """How a ticket's form (``slug``) is named to a reader: the configured form's title
    (``titles``: by slug) in ``language``, else the slug (a form no longer configured, or
    without a text); None for a ticket from no form."""
    if not slug:
        return None
    return text_in(titles.get(slug, ()), language, default) or slug
