"""The command line speaks its operator's language: the locale's (LC_ALL, LC_MESSAGES,
LANG), else the desk's; its messages are the catalog's words, read from the .po file."""

from __future__ import annotations

import pytest

from config.settings import Settings
from tests.support.catalog_texts import said
from workers.cli.speech import cli_texts, operator_language


@pytest.mark.parametrize(
    ("env", "desk", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "en", "zh_CN"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "zh_CN", "en"),
        ({"LC_MESSAGES": "zh_TW"}, "en", "zh_CN"),
        ({"LANG": "C.UTF-8"}, "zh_CN", "zh_CN"),  # no language: the desk's
        ({"LANG": "fr_FR.UTF-8"}, "zh_CN", "zh_CN"),  # one relaydesk does not speak
        ({}, "en", "en"),
    ],
)
def test_the_operator_language_is_the_locales_else_the_desks(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], desk: str, expected: str
) -> None:
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    settings = Settings.model_validate({"helpdesk": {"language": desk}})
    assert operator_language(settings) == expected


def test_a_chinese_operator_reads_the_catalogs_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")
    texts = cli_texts(Settings())
    message = "#%(number)s: claimed by %(agent)s"
    assert texts.gettext(message, number=7, agent="ana") == said(
        "workers/cli", "zh_CN", message, number=7, agent="ana"
    )
