"""The form speaks its reader's language: the browser's Accept-Language, else the one
chosen on the form; its labels, problems and thanks are the web catalog's words (read
from the .po file), and the ticket it opens carries the language for every later text."""

from __future__ import annotations

import re

from tests.support.catalog_texts import said
from tests.support.web_fakes import FakeHelpdesk, client_for, post_form

WEB = "connectors/web"


def form_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "李雷",
        "email": "lei@example.cn",
        "subject": "打印机坏了",
        "category": "billing",
        "priority": "",
        "message": "一直卡纸",
    }
    data.update(changes)
    return data


def test_a_chinese_browser_gets_the_form_in_chinese_and_may_choose_english() -> None:
    client = client_for(FakeHelpdesk())
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert '<html lang="zh-CN">' in page
    for label in ("Your name", "Email", "Topic", "Message"):
        assert f">{said(WEB, 'zh_CN', label)}</label>" in page
    assert said(WEB, "zh_CN", "%(desk)s: ask for help", desk="") in page
    assert '<option value="zh_CN" selected>简体中文</option>' in page
    assert f">{said('router', 'zh_CN', 'high', context='priority')}</option>" in page

    english = client.get("/?language=en", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en">' in english and ">Your name</label>" in english
    # the honeypot's label too (no one sees it; a screen reader or a text browser might)
    assert f'for="website">{said(WEB + "/requester", "zh_CN", "Website")}</label>' in page
    assert 'for="website">Website</label>' in english


def test_problems_and_thanks_are_in_the_language_chosen_on_the_form() -> None:
    desk = FakeHelpdesk()
    client = client_for(desk)
    wrong = post_form(client, form_data(language="zh_CN", email="nope", subject=""))
    assert wrong.status_code == 422
    page = wrong.text
    fill = said(WEB, "zh_CN", "Please fill this in.")
    assert re.search(f'id="subject-error">{fill}', page)
    email = said(WEB, "zh_CN", "Not an email address: please write it as name@example.com.")
    assert re.search(f'id="email-error">{email}', page)
    assert said(WEB, "zh_CN", "Please fix %(count)s problem:", count=2) in page

    done = post_form(client, form_data(language="zh_CN"))
    assert done.status_code == 201
    thanks = said(WEB, "zh_CN", "Thank you, your ticket #%(number)s is open", number=101)
    assert thanks in done.text
    assert said(WEB, "zh_CN", "We will answer you at %(email)s.", email="lei@example.cn") in (
        done.text
    )
    assert desk.messages[-1].language.startswith("zh_CN")  # every later text in Chinese
