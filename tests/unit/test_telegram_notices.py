from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.telegram.chat_text import escape_html, utf16_len
from connectors.telegram.commands import parse_button
from connectors.telegram.customer_texts import (
    chat_acknowledgement,
    chat_file_too_large,
    chat_new_started,
    chat_ticket_list,
    chat_unsupported,
)
from connectors.telegram.notices import (
    NOTICE_KINDS,
    ChatButton,
    ChatNotice,
    agent_help,
    agent_notice,
    agent_ticket_list,
    chat_agent_reply,
    chat_agent_reply_text,
    edited_text,
    files_only_text,
    link_result,
    untitled_subject,
)
from tests.support.catalog_texts import said
from workers.desk.outgoing import html_to_plain

HOSTILE = '<script>alert("x")</script> & <b>bold <i>unbalanced &amp; </a>'
_OUR_TAGS = re.compile(r"</?(?:b|i|blockquote)>")


def assert_safe_html(html: str) -> None:
    """Only our own tags, balanced, and no raw '&' that is not an entity we wrote."""
    assert "<script" not in html and "</a>" not in html and "<b>bold" not in html
    stack: list[str] = []
    for tag in _OUR_TAGS.findall(html):
        if tag.startswith("</"):
            assert stack and stack.pop() == tag[2:-1]
        else:
            stack.append(tag[1:-1])
    assert stack == []
    assert "<" not in _OUR_TAGS.sub("", html) and ">" not in _OUR_TAGS.sub("", html)
    assert re.search(r"&(?!amp;|lt;|gt;)", html) is None


def notice(**kw: object) -> ChatNotice:
    base: dict[str, object] = {
        "kind": "assignment",
        "number": 12,
        "priority": "high",
        "requester": "Jo Doe <jo@x.org>",
        "subject": "Printer broken",
        "latest": "It prints nothing at all.",
        "language": "en",
    }
    base.update(kw)
    return agent_notice(**base)  # type: ignore[arg-type]


def callbacks(n: ChatNotice) -> list[list[str]]:
    return [[b.callback_data or f"url={b.url}" for b in row] for row in n.buttons]


# -- buttons ---------------------------------------------------------------------------


def test_a_button_has_exactly_one_of_callback_data_and_url() -> None:
    with pytest.raises(ValueError):
        ChatButton("x")
    with pytest.raises(ValueError):
        ChatButton("x", callback_data="a", url="https://x")
    with pytest.raises(ValueError):
        ChatButton("", callback_data="a")
    with pytest.raises(ValueError):
        ChatButton("x", callback_data="a" * 65)


def test_a_button_payload_is_the_bot_api_shape() -> None:
    call = ChatButton("Claim", callback_data="rd:claim:1")
    link = ChatButton("Open", url="https://desk.example/t/1")
    assert call.to_payload() == {"text": "Claim", "callback_data": "rd:claim:1"}
    assert link.to_payload() == {"text": "Open", "url": "https://desk.example/t/1"}


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_a_notices_keyboard_payload_is_its_buttons_row_by_row(kind: str) -> None:
    n = notice(kind=kind, web_url="https://desk.example/t/12")
    assert n.buttons_payload() == tuple(tuple(b.to_payload() for b in row) for row in n.buttons)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("offer", [["rd:claim:12"]]),
        ("assignment", [["rd:resolve:12", "rd:pending:12"]]),
        ("reply", [["rd:resolve:12", "rd:pending:12"]]),
        ("mention", [["rd:resolve:12", "rd:pending:12"]]),
        ("sla_warning", [["rd:resolve:12", "rd:pending:12"]]),
        ("sla_breach", [["rd:resolve:12", "rd:pending:12"]]),
        ("reopened", [["rd:resolve:12", "rd:pending:12"]]),
        ("taken", []),
    ],
)
def test_each_kind_of_notice_has_its_buttons(kind: str, expected: list[list[str]]) -> None:
    assert callbacks(notice(kind=kind)) == expected
    with_web = notice(kind=kind, web_url="https://desk.example/t/12")
    assert callbacks(with_web) == [*expected, ["url=https://desk.example/t/12"]]
    assert with_web.buttons[-1][0].text == "Open in web"
    for row in with_web.buttons[:-1]:
        for button in row:
            assert parse_button(button.callback_data) is not None


# -- the agent notice ------------------------------------------------------------------


def test_an_assignment_notice_reads_as_expected() -> None:
    n = notice(detail="Why you: skill printers, load 1/5", web_url="https://desk.example/t/12")
    assert n.html == (
        "<b>Assigned to you: [#12]</b>\n"
        "Priority: high\n"
        "Requester: Jo Doe &lt;jo@x.org&gt;\n"
        "Subject: Printer broken\n"
        "Why you: skill printers, load 1/5\n\n"
        "<blockquote>It prints nothing at all.</blockquote>\n\n"
        "<i>Reply to this message to answer the customer; start with /note for an internal "
        "note.</i>"
    )


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("assignment", "Assigned to you: [#12]"),
        ("offer", "Up for grabs: [#12], the first to claim it gets it"),
        ("reply", "New reply from the customer: [#12]"),
        ("mention", "You were mentioned: [#12]"),
        ("sla_warning", "SLA warning: [#12]"),
        ("sla_breach", "SLA breached: [#12]"),
        ("taken", "Claimed by someone else: [#12]"),
        ("reopened", "Reopened: [#12]"),
    ],
)
def test_each_kind_has_its_bold_header_line(kind: str, header: str) -> None:
    html = notice(kind=kind).html
    assert html.split("\n", 1)[0] == f"<b>{header}</b>"
    assert ("Reply to this message" in html) is (kind != "taken")


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown notice kind"):
        notice(kind="party")


def test_the_tag_prefix_is_used_and_escaped() -> None:
    assert notice(tag_prefix="HD-").html.startswith("<b>Assigned to you: [HD-12]</b>")
    assert notice(tag_prefix="<&>").html.startswith("<b>Assigned to you: [&lt;&amp;&gt;12]</b>")


def test_empty_fields_get_placeholders_and_an_empty_message_no_quote() -> None:
    html = notice(priority="", requester=" ", subject="\n", latest="  ").html
    assert "Priority: -\nRequester: (unknown)\nSubject: (no subject)\n\n<i>" in html
    assert "<blockquote>" not in html


def test_fields_stay_on_one_line() -> None:
    html = notice(subject="Printer\nbroken\r\n  again", requester="Jo\nDoe").html
    assert "Subject: Printer broken again\n" in html and "Requester: Jo Doe\n" in html


def test_the_latest_message_is_trimmed_to_max_latest() -> None:
    html = notice(latest="word " * 1000, max_latest=50).html
    quote = html.split("<blockquote>")[1].split("</blockquote>")[0]
    assert len(quote) <= 50 and quote.endswith("\u2026")
    assert "\n\n\n" not in notice(latest="a\n\n\n\n\nb").html


@pytest.mark.parametrize(
    "field", ["priority", "requester", "subject", "latest", "detail", "tag_prefix"]
)
def test_hostile_input_is_escaped_in_every_field_of_an_agent_notice(field: str) -> None:
    html = notice(**{field: HOSTILE}).html
    assert_safe_html(html)
    assert escape_html("<script>") in html


@settings(max_examples=60)
@given(
    st.sampled_from(NOTICE_KINDS),
    st.text(max_size=50),
    st.integers(min_value=1, max_value=10**12 - 1),
)
def test_an_agent_notice_is_always_safe_html(kind: str, text: str, number: int) -> None:
    n = notice(kind=kind, number=number, subject=text, requester=text, latest=text, detail=text)
    assert_safe_html(n.html)


@pytest.mark.parametrize("filler", ["&", "<>", "\U0001f600", "a b ", "x", "&\n\n"])
def test_an_agent_notice_fits_one_message_whatever_the_input(filler: str) -> None:
    huge = filler * 200_000
    n = notice(
        kind="offer",
        number=10**11,
        priority=huge,
        requester=huge,
        subject=huge,
        latest=huge,
        detail=huge,
        tag_prefix=huge,
        max_latest=10**7,
    )
    assert utf16_len(n.html) < 4096
    assert_safe_html(n.html)
    assert "<blockquote>" in n.html and n.html.endswith("</i>")


# -- to the customer -------------------------------------------------------------------


def test_the_acknowledgement_names_the_ticket_and_the_commands() -> None:
    html = chat_acknowledgement(
        number=42, subject="Cannot\nlog in", helpdesk_name="Acme", language="en"
    )
    assert "[#42]" in html and "Subject: Cannot log in" in html
    assert "Acme will answer you here" in html and "/new" in html and "/status" in html
    assert_safe_html(html)


def test_the_acknowledgement_escapes_and_bounds_its_fields() -> None:
    html = chat_acknowledgement(
        number=1, subject=HOSTILE * 1000, helpdesk_name=HOSTILE * 1000, language="en"
    )
    assert_safe_html(html)
    assert utf16_len(html) < 4096
    blank = chat_acknowledgement(
        number=1, subject="", helpdesk_name="", tag_prefix="T", language="en"
    )
    assert "[T1]" in blank and "Subject" not in blank and "We will answer" in blank


def test_an_agent_reply_is_escaped_and_signed() -> None:
    html = chat_agent_reply(text="  Use <Ctrl> & retry.\n", agent_name="Ana", number=12)
    assert html == "Use &lt;Ctrl&gt; &amp; retry.\n\n<i>\u2014 Ana, [#12]</i>"
    hostile = chat_agent_reply(text=HOSTILE, agent_name=HOSTILE, number=12, tag_prefix="<")
    assert_safe_html(hostile)


def test_an_agent_replys_plain_form_is_signed_with_the_ticket_as_its_html() -> None:
    text = chat_agent_reply_text(text=" Use <Ctrl>.\n", agent_name=" Ana  Lima ", number=12)
    assert text == "Use <Ctrl>.\n\n\u2014 Ana Lima, [#12]"
    html = chat_agent_reply(text=" Use <Ctrl>.\n", agent_name=" Ana  Lima ", number=12)
    assert html_to_plain(html) == text


def test_an_agent_reply_is_not_trimmed() -> None:
    html = chat_agent_reply(text="word " * 2000, agent_name="Ana", number=1)
    assert html.count("word") == 2000


def test_the_customers_ticket_list_has_a_line_per_request() -> None:
    html = chat_ticket_list([(3, "Printer", "open"), (9, "<VPN> & co", "resolved")], "en")
    assert html == (  # in the requester's words (router.requester_view)
        "<b>Your requests</b>\n[#3] Printer: in progress\n"
        "[#9] &lt;VPN&gt; &amp; co: waiting for your confirmation"
    )
    assert chat_ticket_list([], "en") == "You have no requests with us yet."


def test_a_long_ticket_list_is_cut_and_says_how_many_more() -> None:
    rows = [(i, HOSTILE * 10, "open") for i in range(1, 501)]
    html = chat_ticket_list(rows, "en", tag_prefix="T-")
    assert utf16_len(html) < 4096 and "[T-1] " in html
    assert re.search(r"\u2026 and \d+ more$", html)
    assert_safe_html(html)


def test_unsupported_messages_get_a_polite_pointer_to_what_works() -> None:
    assert chat_unsupported("sticker", "en").startswith("Sorry, we cannot read stickers here.")
    assert "locations" in chat_unsupported("location", "en")
    generic = chat_unsupported("<weird>", "en")
    assert "this kind of message" in generic and "<weird>" not in generic
    assert "photo, a document or a voice note" in generic


def test_new_started_and_file_too_large() -> None:
    assert "next message opens a new request" in chat_new_started("en")
    html = chat_file_too_large("<evil>&.pdf", 20 * 1024 * 1024, "en")
    assert "<b>&lt;evil&gt;&amp;.pdf</b>" in html and "up to 20 MB" in html
    assert "up to 1.5 KB" in chat_file_too_large("a", 1536, "en")
    assert "up to 900 bytes" in chat_file_too_large("", 900, "en")
    assert "your file is too large" in chat_file_too_large("", 900, "en")
    assert utf16_len(chat_file_too_large(HOSTILE * 5000, 1, "en")) < 4096


# -- to the agent ----------------------------------------------------------------------


def test_agent_help_names_the_commands() -> None:
    html = agent_help("en")
    for word in ("Reply", "/note", "/status online|away|offline", "/mine"):
        assert word in html
    assert_safe_html(html)


def test_the_agents_ticket_list_shows_status_and_priority() -> None:
    html = agent_ticket_list([(5, "Slow <disk>", "open", "high")], "en")
    assert html == "<b>Your tickets</b>\n[#5] Slow &lt;disk&gt;: open, high"
    assert agent_ticket_list([], "en") == "You have no tickets assigned to you."
    many = agent_ticket_list([(i, HOSTILE, HOSTILE, HOSTILE) for i in range(1000)], "en")
    assert utf16_len(many) < 4096
    assert_safe_html(many)


def test_link_result_says_who_was_linked_or_what_went_wrong() -> None:
    assert link_result(True, "Ana <ops>", "en") == (
        "Linked as <b>Ana &lt;ops&gt;</b>: your ticket notifications will come here."
    )
    assert link_result(True, None, "en").startswith("Linked:")
    assert "not valid" in link_result(False, None, "en")
    assert_safe_html(link_result(True, HOSTILE, "en"))


def test_a_notice_names_the_files_and_why_one_was_not_kept() -> None:
    notice = agent_notice(
        kind="reply",
        number=3,
        priority="normal",
        requester="Kim (via Telegram)",
        subject="Invoice",
        latest="(files: a.pdf, b.log)",
        files=[("a.pdf", None), ("b<1>.log", "too large")],
        language="en",
    )
    assert "Files: a.pdf, b&lt;1&gt;.log (not kept: too large)" in notice.html
    assert files_only_text(["a.pdf"]) == "(file: a.pdf)"
    assert files_only_text(["a.pdf", "b.log"]) == "(files: a.pdf, b.log)"
    assert files_only_text(["a.pdf", "b.log"], "zh_CN") == said(
        "connectors/telegram",
        "zh_CN",
        "(file: %(names)s)",
        names=said("connectors/telegram", "zh_CN", ", ").join(["a.pdf", "b.log"]),
    )
    assert edited_text("hi", "zh_CN") == said(
        "connectors/telegram", "zh_CN", "(edited) %(text)s", text="hi"
    )
    assert untitled_subject(None, "zh_CN") == said(
        "connectors/telegram", "zh_CN", "Telegram message"
    )
    assert untitled_subject("a.pdf", "en") == "a.pdf from Telegram"
