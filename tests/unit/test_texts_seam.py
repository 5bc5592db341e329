"""Texts through catalogs: read from .po files, placeholders filled, the same in templates."""

# ruff: noqa: RUF001  (Chinese is written with full-width commas and colons)

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.web.templating import html_lang, page_environment, render
from router.catalogs import N_, Catalog
from router.time_texts import local_time

PO = r"""
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\n"
"Plural-Forms: nplurals=1; plural=0;\n"

msgid "Hello %(name)s,"
msgstr "%(name)s，您好："

#, fuzzy
msgid "Not checked yet"
msgstr "未校对"

msgid "%(num)d file"
msgid_plural "%(num)d files"
msgstr[0] "%(num)d 个文件"

msgid "%(num)s file"
msgid_plural "%(num)s files"
msgstr[0] "%(num)s 个文件"

msgctxt "button"
msgid "Resolve"
msgstr "已解决"

msgid "%(desk)s: ask for help"
msgstr "%(desk)s：提交求助"
"""

TEMPLATE = """<html lang="{{ html_lang }}"><h1>{% trans desk=desk %}{{ desk }}: ask
  for help{% endtrans %}</h1><p>{{ _("Hello %(name)s,", name=name) }}</p>
<p>{% trans num=n %}{{ num }} file{% pluralize %}{{ num }} files{% endtrans %}</p>
<b>{{ pgettext("button", "Resolve") }}</b><time>{{ at|local_time }}</time></html>"""

AT = datetime(2026, 11, 25, 4, 51, 39, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    po = tmp_path / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(TEMPLATE, encoding="utf-8")
    return Catalog(tmp_path / "locale")


def test_a_text_is_read_from_the_po_file_with_its_placeholders_filled(catalog: Catalog) -> None:
    zh = catalog.texts("zh_CN")
    assert zh.gettext("Hello %(name)s,", name="张伟") == "张伟，您好："
    assert zh.ngettext("%(num)d file", "%(num)d files", 3) == "3 个文件"
    assert zh.pgettext("button", "Resolve") == "已解决"


def test_english_is_the_texts_own_language_and_needs_no_catalog(catalog: Catalog) -> None:
    en = catalog.texts("en")
    assert en.gettext("Hello %(name)s,", name="Jo") == "Hello Jo,"
    assert en.ngettext("%(num)d file", "%(num)d files", 1) == "1 file"
    assert en.ngettext("%(num)d file", "%(num)d files", 2) == "2 files"
    assert en.gettext("100%% sure") == "100% sure"


def test_a_fuzzy_translation_is_not_used_until_someone_checks_it(catalog: Catalog) -> None:
    assert catalog.texts("zh_CN").gettext("Not checked yet") == "Not checked yet"


def test_a_language_without_a_catalog_is_a_mistake_not_english(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="relaydesk speaks en, zh_CN"):
        Catalog(tmp_path).texts("fr")
    with pytest.raises(FileNotFoundError):
        Catalog(tmp_path / "nowhere").texts("zh_CN")


def test_a_catalog_is_read_once_per_process(catalog: Catalog) -> None:
    assert catalog.texts("zh_CN") is Catalog(catalog.directory).texts("zh_CN")


def test_a_marked_text_is_itself_until_it_is_translated_where_it_is_used() -> None:
    assert N_("Resolve") == "Resolve"


def test_a_template_speaks_the_language_of_the_texts_it_is_given(catalog: Catalog) -> None:
    env = page_environment(catalog.directory.parent / "templates")
    values: dict[str, Any] = {"desk": "<Desk>", "name": "Jo", "n": 2, "at": AT}
    zh = render(env, "page.html", catalog.texts("zh_CN"), zone="Asia/Shanghai", **values)
    assert zh == (
        '<html lang="zh-CN"><h1>&lt;Desk&gt;：提交求助</h1><p>Jo，您好：</p>\n'
        "<p>2 个文件</p>\n"
        "<b>已解决</b><time>2026年11月25日 12:51:39 UTC+08:00</time></html>"
    )
    en = render(env, "page.html", catalog.texts("en"), **{**values, "n": 1})
    assert en == (
        '<html lang="en"><h1>&lt;Desk&gt;: ask for help</h1><p>Hello Jo,</p>\n'
        "<p>1 file</p>\n"
        f"<b>Resolve</b><time>{local_time(AT, 'UTC', 'en')}</time></html>"
    )


def test_a_translated_text_in_a_template_is_escaped_like_the_rest_of_the_page(
    catalog: Catalog,
) -> None:
    env = page_environment(catalog.directory.parent / "templates")
    values: dict[str, Any] = {"desk": "D", "name": "<script>", "n": 1, "at": AT}
    assert "&lt;script&gt;，您好：" in render(env, "page.html", catalog.texts("zh_CN"), **values)


def test_html_names_a_language_with_a_hyphen() -> None:
    assert html_lang("zh_CN") == "zh-CN"
    assert html_lang("en") == "en"
