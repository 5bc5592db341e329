"""The rules that pick the language a person is written to in."""

from __future__ import annotations

import pytest

from config.settings import HelpdeskSettings, known_language
from router.language_choice import (
    language_of,
    language_tag,
    page_language,
    preferred_tags,
    requester_language,
    stated_language,
    supported_language,
)


def test_a_tag_names_the_language_relaydesk_speaks_for_it() -> None:
    assert language_of("en") == "en"
    assert language_of("en-GB") == "en"
    assert language_of("EN_us.UTF-8") == "en"
    assert language_of("zh") == "zh_CN"
    assert language_of("zh-CN") == "zh_CN"
    assert language_of("zh-Hans-CN") == "zh_CN"
    assert language_of("zh_cn") == "zh_CN"
    assert language_of("zh-hans") == "zh_CN"  # as Telegram sends it


def test_traditional_chinese_is_read_as_the_only_chinese_there_is() -> None:
    assert language_of("zh-TW") == "zh_CN"
    assert language_of("zh-Hant-HK") == "zh_CN"


def test_a_language_without_a_catalog_is_none() -> None:
    assert language_of("fr") is None
    assert language_of("") is None
    assert language_of("*") is None
    assert language_of("english") is None


def test_accept_language_is_read_most_wanted_first() -> None:
    assert preferred_tags("zh-CN,zh;q=0.9,en;q=0.8") == ("zh-CN", "zh", "en")
    assert preferred_tags("en;q=0.5, fr, de;q=0.7") == ("fr", "de", "en")
    assert preferred_tags("da, en-gb;q=0.8, en;q=0.7") == ("da", "en-gb", "en")
    assert preferred_tags("fr;q=0, *, en;q=bad, de") == ("de",)
    assert preferred_tags("") == ()


def test_the_most_wanted_language_we_speak_wins_over_one_we_do_not() -> None:
    assert stated_language("fr-FR,fr;q=0.9,zh-CN;q=0.5,en;q=0.3") == "zh_CN"
    assert stated_language("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert stated_language("de, fr") is None
    assert stated_language("zh-hans") == "zh_CN"  # one tag, as Telegram's language_code
    assert stated_language("de-DE, zh") == "zh_CN"  # Content-Language lists several


def test_a_requesters_choice_comes_before_what_their_client_states() -> None:
    assert requester_language(chosen="zh_CN", stated="en-US,en", default="en") == "zh_CN"
    assert requester_language(chosen="en", stated="zh-CN", known="zh_CN", default="zh_CN") == "en"


def test_what_the_client_states_comes_before_what_is_known_of_the_requester() -> None:
    assert requester_language(stated="zh-CN,zh;q=0.9", known="en", default="en") == "zh_CN"
    assert requester_language(stated="fr", known="zh_CN", default="en") == "zh_CN"


def test_without_any_word_of_the_requester_the_desk_speaks_its_own_language() -> None:
    assert requester_language(default="zh_CN") == "zh_CN"
    assert requester_language(chosen="", stated="fr, de", known=None, default="en") == "en"
    assert requester_language(chosen="klingon", known="xx", default="en") == "en"


def test_a_setting_or_field_naming_a_language_takes_it_in_any_spelling_or_says_which() -> None:
    assert supported_language("zh-cn") == "zh_CN"
    assert supported_language("en") == "en"
    with pytest.raises(ValueError, match="relaydesk speaks en, zh_CN"):
        supported_language("fr")
    with pytest.raises(ValueError, match="unknown language"):
        supported_language(" ")


def test_the_desks_language_and_zone_are_settings_checked_at_start_up() -> None:
    assert HelpdeskSettings().language == "en"
    assert HelpdeskSettings().timezone == "UTC"
    assert HelpdeskSettings(language="zh-CN").language == "zh_CN"
    assert known_language("ZH_cn") == "zh_CN"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        HelpdeskSettings(language="fr")
    with pytest.raises(ValueError, match="unknown time zone"):
        HelpdeskSettings(timezone="Mars/Olympus")


def test_a_requesters_page_speaks_their_choice_then_the_known_language_then_the_browsers() -> None:
    assert page_language(chosen="en", known="zh_CN", stated="zh-CN", default="zh_CN") == "en"
    assert page_language(known="zh_CN", stated="en-US,en", default="en") == "zh_CN"
    assert page_language(known=None, stated="zh-CN,zh;q=0.9", default="en") == "zh_CN"
    assert page_language(chosen="klingon", known="xx", stated="fr", default="zh_CN") == "zh_CN"


def test_a_language_relaydesk_speaks_has_a_bcp47_tag() -> None:
    assert language_tag("zh_CN") == "zh-CN"
    assert language_tag("en") == "en"
