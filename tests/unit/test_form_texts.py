"""A form's words per language: the reader's own, else its base language's, else the
one for any language, else the desk's; a config of one text or a table by language."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.form_settings import WebFormSettings
from router.form_texts import text_in

TEXTS = (("en", "IT fault"), ("zh_CN", "IT 故障"))


def test_the_readers_language_then_its_base_then_any_then_the_desks() -> None:
    assert text_in(TEXTS, "zh_CN") == "IT 故障"
    assert text_in(TEXTS, "zh-cn") == "IT 故障"
    assert text_in((("zh", "故障"), ("en", "Fault")), "zh_CN") == "故障"
    assert text_in((("", "Refund"),), "zh_CN") == "Refund"
    assert text_in(TEXTS, "fr") == "IT fault"  # the desk's (en)
    assert text_in(TEXTS, "fr", default="zh_CN") == "IT 故障"
    assert text_in((("zh_TW", "故障"),), "zh_CN") == "故障"  # a sibling before nothing
    assert text_in((("zh_TW", "故障"),), "en", any_other=False) == ""
    assert text_in((), "en") == ""


def test_a_form_takes_one_text_or_a_table_by_language_and_refuses_others() -> None:
    plain = WebFormSettings(slug="refund", title="Refund")
    table = WebFormSettings.model_validate(
        {"slug": "it", "title": {"en": "IT", "zh_CN": "IT 故障"},
         "fields": [{"name": "d", "label": {"zh-CN": "设备"}, "type": "choice",
                     "choices": ["pc"], "choice_labels": {"pc": {"zh_CN": "电脑"}}}]}
    )  # fmt: skip

    assert plain.title == (("", "Refund"),)
    assert table.title == (("en", "IT"), ("zh_CN", "IT 故障"))
    assert table.fields[0].choice_labels == (("pc", (("zh_CN", "电脑"),)),)
    for wrong in (
        {"slug": "x", "title": {"not a language!": "X"}},
        {"slug": "x", "title": ""},
        {"slug": "x", "title": 3},
        {"slug": "x", "title": "X", "fields": [{"name": "d", "label": "D", "type": "choice",
                                                "choices": ["a"], "choice_labels": {"b": "B"}}]},
    ):  # fmt: skip
        with pytest.raises(ValidationError):
            WebFormSettings.model_validate(wrong)
