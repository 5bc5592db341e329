"""The mail texts in each reader's language: words from the catalog, tags and threading
marks the same in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from router.notice_texts import (
    CATALOG,
    acknowledgement,
    assignment_notice,
    reply_subject,
    sla_notice,
)
from router.subject_prefixes import is_answer, without_reply_prefixes

FW = "\uff1a"  # the full-width colon Chinese mail clients write after 回复


def zh(msgid: str, context: str | None = None) -> str:
    """The Chinese of ``msgid`` as the .po file has it (read here, not through the code)."""
    with Path(CATALOG.po_file("zh_CN")).open("rb") as source:
        found = read_po(source).get(msgid, context=context)
    assert found is not None and found.string, msgid
    return str(found.string)


@pytest.mark.parametrize(
    ("subject", "bare"),
    [
        ("Re: [#12] Printer", "[#12] Printer"),
        ("RE: re: Printer", "Printer"),
        (f"回复{FW}[#12] 打印机坏了", "[#12] 打印机坏了"),
        (f"回复: 答复{FW}RE{FW}打印机", "打印机"),
        ("答复:  Fw: [#3] x", "[#3] x"),
        ("AW: Re[2]: hallo", "hallo"),
        (f"转发{FW}回覆{FW}x", "x"),
        ("Printer: on fire", "Printer: on fire"),  # a colon is not a mark
        ("Regarding: refund", "Regarding: refund"),
        ("", ""),
    ],
)
def test_answer_marks_of_every_client_are_taken_off_the_subject(subject: str, bare: str) -> None:
    assert without_reply_prefixes(subject) == bare
    assert is_answer(subject) == (bare != subject.strip())


def test_an_answer_subject_has_one_mark_in_its_readers_language_and_keeps_the_tag() -> None:
    assert reply_subject("Printer", 12, "en") == "Re: [#12] Printer"
    assert reply_subject("Re: [#12] Printer", 12, "en") == "Re: [#12] Printer"
    assert reply_subject(f"回复{FW}RE: 打印机", 12, "en") == "Re: [#12] 打印机"
    chinese = reply_subject("Re: Printer", 12, "zh_CN")
    assert chinese == zh("Re: %(subject)s", "mail subject") % {"subject": "[#12] Printer"}
    assert reply_subject(chinese, 12, "zh_CN") == chinese  # one mark, never two
    assert reply_subject("[HD-7] x", 7, "zh_CN", "HD-").count("[HD-7]") == 1


def test_a_chinese_acknowledgement_is_the_catalogs_words_with_the_tag_as_it_is() -> None:
    ack = acknowledgement(
        number=42,
        subject="打印机坏了",
        requester_name="李雷",
        helpdesk_name="Acme",
        language="zh_CN",
    )
    assert ack.subject == "[#42] 打印机坏了"
    body = ack.body_text
    assert body.startswith(zh("Hello %(name)s,") % {"name": "李雷"})
    assert zh("we have received your request and opened ticket %(tag)s.") % {"tag": "[#42]"} in body
    assert "Hello" not in body and "ticket" not in body


def test_an_assignment_names_priority_and_why_in_the_agents_language() -> None:
    notice = assignment_notice(
        number=7,
        subject="Slow",
        priority="high",
        requester="Jo <jo@x.org>",
        excerpt="help",
        reasons=("team support",),
        language="zh_CN",
    )
    high = zh("high", "priority")
    assert notice.subject == zh("Assigned: %(subject)s (%(priority)s)") % {
        "subject": "[#7] Slow",
        "priority": high,
    }
    assert zh("Priority:  %(priority)s") % {"priority": high} in notice.body_text


def test_an_sla_breach_says_clock_and_role_in_the_readers_words() -> None:
    notice = sla_notice(
        number=3,
        subject="x",
        priority="low",
        clock="first_response",
        stage="breached",
        due_at="T",
        role="supervisor",
        language="zh_CN",
    )
    head = notice.body_text.split("\n", 1)[0]
    source = (
        "SLA breached: %(clock)s on %(tag)s was due %(due)s. You are told as the ticket's %(role)s."
    )
    expected = zh(source) % {
        "clock": zh("first response", "sla clock"),
        "tag": "[#3]",
        "due": "T",
        "role": zh("supervisor", "escalation role"),
    }
    assert head == expected
