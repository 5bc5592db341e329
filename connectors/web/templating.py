"""Jinja2 templates that speak their reader's language.

One ``Environment`` per app, with Jinja2's i18n extension whose gettext looks
up the ``texts`` (``router.catalogs.Texts``) each render is given, so one
environment serves every language at once. In a template::

    <html lang="{{ html_lang }}">
    <h1>{% trans name=desk %}{{ name }}: ask for help{% endtrans %}</h1>
    <p>{{ _("Your request %(tag)s is open.", tag=tag) }}</p>
    <p>{% trans count=n %}{{ count }} file{% pluralize %}{{ count }} files{% endtrans %}</p>
    <time>{{ ticket.created_at|local_time }}</time>
    {{ _("%(span)s ago", span=(now - ticket.created_at)|span) }}

Texts are escaped as the rest of the page is (autoescape); placeholders are
filled in after translation. The templates' texts belong to the web catalog
(``connectors/web/locale``), extracted with the Python ones (``babel.cfg``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from router.catalogs import Catalog, Texts
from router.language_choice import language_tag
from router.time_texts import local_time, span_text

CATALOG = Catalog.beside(__file__)
"""The web pages' texts: the form, the requester's pages."""
TEMPLATES = Path(__file__).resolve().parent / "templates"


def page_environment(directory: Path = TEMPLATES, *shared: Path) -> Environment:
    """The templates under ``directory`` (then the partials it shares from ``shared``
    directories), escaped, translated, strict about names."""
    env = Environment(
        loader=FileSystemLoader([directory, *shared]),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # the templates ship with the code: compiled once per process and kept, not
        # checked against their files' times on every render (a changed template takes
        # effect when the process restarts, as changed code does)
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True  # a trans block's whitespace is collapsed
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
        newstyle=True,
    )
    env.filters["local_time"] = _local_time
    env.filters["span"] = _span
    env.filters["seconds"] = _seconds
    return env


def render(
    env: Environment, template: str, texts: Texts, /, zone: str = "UTC", **values: Any
) -> str:
    """``template`` in the language of ``texts``; times in ``zone``."""
    return env.get_template(template).render(
        texts=texts, zone=zone, html_lang=html_lang(texts.language), **values
    )


def html_lang(language: str) -> str:
    """A catalog's language as HTML's ``lang`` names it: ``zh_CN`` -> ``zh-CN``."""
    return language_tag(language)


def _texts(context: Context) -> Texts:
    texts = context.get("texts")
    if not isinstance(texts, Texts):
        raise TypeError("render the template with texts=Catalog.texts(language)")
    return texts


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _texts(context).translations.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int) -> str:
    return _texts(context).translations.ngettext(singular, plural, num)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    return _texts(context).translations.pgettext(msgctxt, message)


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, num: int) -> str:
    return _texts(context).translations.npgettext(msgctxt, singular, plural, num)


@pass_context
def _local_time(context: Context, at: datetime | None, zone: str | None = None) -> str:
    """``{{ at|local_time }}``: in the page's zone and language; ``-`` for no time."""
    if at is None:
        return "-"
    return local_time(at, zone or str(context.get("zone") or "UTC"), _texts(context).language)


@pass_context
def _span(context: Context, delta: timedelta | None) -> str:
    """``{{ (now - at)|span }}``: "42 min", "3 hr" in the page's language; ``-`` for none."""
    if delta is None:
        return "-"
    return span_text(delta, _texts(context).language)


@pass_context
def _seconds(context: Context, seconds: float | None) -> str:
    """``{{ summary.median_s|seconds }}``: a duration in seconds as ``span`` says it."""
    return _span(context, None if seconds is None else timedelta(seconds=seconds))
