"""A whole conversation in Chinese, and the same in English, by Telegram and by email:
every text the desk says is the catalog's, word for word (read from the .po files by
``tests.support.catalog_texts``, not through the code that renders them).

The desk's language (its agents') and the requester's are set apart: a requester is
answered in the language they stated, whatever the desk speaks.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from router.vocabulary import AgentStatus, Status
from tests.conftest import make_settings
from tests.support.catalog_texts import said
from tests.support.desk import Desk, desk_for
from tests.support.mail_desk import MailDesk, mail_desk
from tests.support.mail_samples import email_bytes
from tests.support.telegram_desk import Chat, telegram_env
from tests.support.telegram_server import TelegramServer
from workers.channels.telegram_connector import TelegramConnector
from workers.desk.agents import make_link_code, set_agent_status
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration

ANA, ANN = 5001, 9001  # the agent's and the customer's Telegram user (and chat) ids
FW = "\uff1a"  # the full-width colon of Chinese mail clients
ZH = ("zh_CN", "zh-hans", "打印机坏了 一直卡纸", "李雷")
EN = ("en", "en-GB", "The printer jams all the time", "Lee Lei")
CONVERSATIONS = [  # the desk's language (its agents'), then the requester's
    pytest.param("zh_CN", *ZH, id="zh-desk-zh-requester"),
    pytest.param("en", *EN, id="en-desk-en-requester"),
    pytest.param("en", *ZH, id="en-desk-zh-requester"),
]
PARAMS = ("desk_language", "language", "code", "question", "name")


@pytest.fixture
def chat_in(
    desk_language: str,
    database_url: str,
    telegram_server: TelegramServer,
    tmp_path: Path,
) -> Iterator[Chat]:
    """A Telegram desk whose agents speak ``desk_language`` (helpdesk.language)."""
    env = telegram_env(telegram_server, tmp_path, relaydesk_helpdesk__language=desk_language)
    for desk in desk_for(make_settings(database_url, **env)):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana gets every ticket
        connector = TelegramConnector(desk.runtime, desk.intake)
        connector.start()
        try:
            yield Chat(desk, telegram_server)
        finally:
            connector.stop()


@pytest.mark.parametrize(PARAMS, CONVERSATIONS)
def test_a_telegram_conversation_is_in_the_catalogs_words(
    chat_in: Chat, desk_language: str, language: str, code: str, question: str, name: str
) -> None:
    chat = chat_in
    bot = partial(said, "connectors/telegram")
    core = partial(said, "router")
    to_agent = partial(bot, desk_language)
    to_customer = partial(bot, language)

    code_, _ = make_link_code(chat.desk.runtime, "ana")
    chat.server.customer_message(ANA, f"/start {code_}", first_name="Ana")
    linked = to_agent("Linked as %(agent)s: your ticket notifications will come here.", agent="ana")
    chat.expect(ANA, linked)

    chat.server.customer_message(ANN, question, first_name=name, language_code=code)
    ack = chat.expect(ANN, to_customer("We have opened your request %(tag)s", tag="[#1]"))
    helpdesk = chat.desk.runtime.settings.helpdesk.name
    assert ack["plain_text"].split("\n") == [
        to_customer("We have opened your request %(tag)s", tag="[#1]"),
        to_customer("Subject: %(subject)s", subject=question),
        "",
        to_customer(
            "%(desk)s will answer you here, in this chat; write here to add anything.",
            desk=helpdesk,
        ),
        to_customer("Send /new to start another request, /status to list yours."),
    ]
    page = partial(said, "connectors/web/requester", language)  # the ticket link's words
    (follow,) = ack["reply_markup"]["inline_keyboard"][0]
    assert follow["text"] == page("Follow your request")
    assert "/api/v1/tickets/1?key=" in follow["url"]

    notice = chat.expect(ANA, to_agent("Assigned to you: %(tag)s", tag="[#1]"))
    requester = core(desk_language, "%(name)s (via Telegram)", name=name)
    lines = notice["plain_text"].split("\n")
    assert lines[:4] == [
        to_agent("Assigned to you: %(tag)s", tag="[#1]"),
        to_agent(
            "Priority: %(priority)s",
            priority=core(desk_language, "normal", context="priority"),
        ),
        to_agent("Requester: %(requester)s", requester=requester),
        to_agent("Subject: %(subject)s", subject=question),
    ]
    capacity = next(a.capacity for a in chat.desk.runtime.settings.agents if a.name == "ana")
    why = [
        core(desk_language, "team %(team)s", team=chat.ticket(1).team),
        core(desk_language, "load %(load)s/%(capacity)s", load=0, capacity=capacity),
        core(desk_language, "never assigned"),
        core(desk_language, "normal", context="priority"),
    ]
    assert lines[4] == core(
        desk_language, "Why you: %(reasons)s", reasons=core(desk_language, ", ").join(why)
    )
    assert lines[-1] == to_agent(
        "Reply to this message to answer the customer; start with /note for an internal note."
    )
    keyboard = notice["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in keyboard[0]] == [
        to_agent("Resolve", context="button"),
        to_agent("Pending", context="button"),
    ]
    assert keyboard[1][0]["text"] == to_agent("Open in web", context="button")

    chat.says(ANA, "OK", reply_to=notice["message_id"])
    chat.expect(ANN, "OK")
    chat.expect(
        ANA,
        to_agent(
            "Sent to the customer by %(channel)s on %(ticket)s.",
            channel=to_agent("Telegram", context="channel"),
            ticket="#1",
        ),
    )

    chat.server.customer_message(ANN, "/status", first_name=name, language_code=code)
    line = to_customer(
        "%(tag)s %(subject)s: %(status)s",
        tag="[#1]",
        subject=question,
        status=core(language, "in progress", context="requester state"),
    )
    listing = chat.expect(ANN, line)
    assert listing["plain_text"].split("\n") == [to_customer("Your requests"), line]

    chat.server.callback(ANA, notice["message_id"], "rd:resolve:1", user_id=ANA)
    chat.server.wait_until(lambda: bool(chat.server.callback_answers))
    assert chat.server.callback_answers[-1]["text"] == to_agent("Resolved: #%(number)s", number=1)
    resolved = chat.expect(ANN, to_customer("Your request %(tag)s is resolved.", tag="[#1]"))
    assert resolved["plain_text"].split("\n")[1] == to_customer(
        "If anything is still wrong, just write here and we will pick it up again."
    )
    assert chat.ticket(1).status == Status.RESOLVED.value
    good, bad = resolved["reply_markup"]["inline_keyboard"][0]
    assert [good["text"], bad["text"]] == [
        page("Good", context="rating"),
        page("Bad", context="rating"),
    ]
    answered = len(chat.server.callback_answers)
    chat.server.callback(ANN, resolved["message_id"], good["callback_data"], user_id=ANN)
    chat.server.wait_until(lambda: len(chat.server.callback_answers) > answered)
    assert chat.server.callback_answers[-1]["text"] == page("Thank you, your rating was saved.")

    chat.server.customer_message(ANN, first_name=name, sticker=True, language_code=code)
    chat.expect(
        ANN,
        to_customer(
            "%(sorry)s Please write your message as text, or send a photo, a document or a "
            "voice note.",
            sorry=to_customer("Sorry, we cannot read stickers here."),
        ),
    )


@pytest.fixture
def mail_in(desk_language: str, database_url: str, tmp_path: Path) -> Iterator[MailDesk]:
    """A mail desk whose agents speak ``desk_language`` (helpdesk.language)."""
    for desk in mail_desk(database_url, tmp_path, relaydesk_helpdesk__language=desk_language):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana gets every ticket
        yield desk


@pytest.mark.parametrize(PARAMS, CONVERSATIONS)
def test_an_email_conversation_is_in_the_catalogs_words(
    mail_in: MailDesk, desk_language: str, language: str, code: str, question: str, name: str
) -> None:
    desk = mail_in
    core = partial(said, "router")
    to_agent = partial(core, desk_language)
    to_customer = partial(core, language)
    customer = "lei@example.cn"
    sender = f"{name} <{customer}>"

    number = desk.mail(
        email_bytes(
            sender=sender,
            subject=question,
            body=question,
            message_id="<q1@example.cn>",
            headers={"Content-Language": code},
        )
    )
    (ack,) = desk.sender.to(customer)
    assert ack.subject == f"[#{number}] {question}"
    tag = f"[#{number}]"
    paragraphs = ack.body_text.split("\n\n")
    assert paragraphs[0] == to_customer("Hello %(name)s,", name=name)
    assert paragraphs[1] == "\n".join(
        [
            to_customer("we have received your request and opened ticket %(tag)s.", tag=tag),
            to_customer("Subject: %(subject)s", subject=question),
        ]
    )
    assert paragraphs[2] == to_customer(
        "An agent will answer you soon. Reply to this message to add information;\n"
        "please keep the ticket number in the subject."
    )
    page = partial(said, "connectors/web/requester", language)  # the ticket link's words
    link = next(w for w in ack.body_text.split() if f"/api/v1/tickets/{number}?key=" in w)
    assert paragraphs[3] == page(
        "Follow your request, add to it or send files here:\n%(link)s", link=link
    )

    (assigned,) = desk.sender.to(_agent_email(desk))
    priority = to_agent("normal", context="priority")
    assert assigned.subject == to_agent(
        "Assigned: %(subject)s (%(priority)s)", subject=f"{tag} {question}", priority=priority
    )
    body = assigned.body_text.split("\n")
    assert body[0] == to_agent("Ticket %(tag)s is assigned to you.", tag=tag)
    assert body[2] == to_agent("Priority:  %(priority)s", priority=priority)
    assert body[3] == to_agent("Requester: %(requester)s", requester=sender)
    assert body[-2] == to_agent(
        "Reply to this mail to answer the customer: what you write reaches them."
    )

    answer_ticket(desk.runtime, number, "ana", "OK")
    desk.settle()
    (reply,) = [m for m in desk.sender.to(customer) if not m.automatic]
    re_subject = to_customer("Re: %(subject)s", context="mail subject", subject=f"{tag} {question}")
    assert reply.subject == re_subject

    # the requester answers as a Chinese mail client writes it, without Content-Language
    their_mark = "回复" + FW if language == "zh_CN" else "RE: "
    desk.mail(
        email_bytes(
            sender=sender,
            subject=their_mark + reply.subject,
            body="还是不行" if language == "zh_CN" else "Still jams",
            in_reply_to=reply.message_id,
        )
    )
    told = [m for m in desk.sender.to(_agent_email(desk)) if m is not assigned]
    assert [m.subject for m in told] == [
        to_agent("Customer reply: %(subject)s", subject=f"{tag} {question}")
    ]
    assert told[0].body_text.startswith(
        to_agent("%(requester)s replied on ticket %(tag)s:", requester=sender, tag=tag)
    )
    answer_ticket(desk.runtime, number, "ana", "OK again")
    desk.settle()
    second = [m for m in desk.sender.to(customer) if not m.automatic][-1]
    assert second.subject == re_subject  # one mark, the reader's, however many came in

    # resolved: told in their words, with the rating question (links whose GET only asks)
    set_ticket_status(desk.runtime, number, Status.RESOLVED)
    desk.settle()
    resolved = desk.sender.to(customer)[-1]
    assert resolved.subject == re_subject
    rate = link.replace(f"/api/v1/tickets/{number}?", f"/requests/{number}/rating?")
    assert resolved.body_text.split("\n\n")[:4] == [
        page("Hello %(name)s,", name=name),
        page("we have resolved your request %(tag)s.", tag=tag),
        page(
            "How was the help you got? Choose one (your choice is kept only once you "
            "confirm it on the page):\nGood: %(good)s\nBad: %(bad)s",
            good=f"{rate}&good=1",
            bad=f"{rate}&good=0",
        ),
        page(
            "If anything is still wrong, reply to this mail or tell us on your request's "
            "page:\n%(link)s",
            link=link,
        ),
    ]

    # a new request without any statement: the language they stated before
    later = desk.mail(email_bytes(sender=sender, subject="Toner", body="Toner?"))
    assert later != number
    (ack2,) = [m for m in desk.sender.to(customer) if m.subject == f"[#{later}] Toner"]
    assert ack2.body_text.startswith(to_customer("Hello %(name)s,", name=name))

    # every mail says the language it is written in (Content-Language): the reader's
    assert {m.language for m in desk.sender.to(customer)} == {language}
    assert {m.language for m in desk.sender.to(_agent_email(desk))} == {desk_language}


def _agent_email(desk: Desk | MailDesk) -> str:
    return next(a.email for a in desk.runtime.settings.agents if a.name == "ana")


def test_an_agent_reads_their_own_language_whatever_the_desk_speaks(
    database_url: str, tmp_path: Path
) -> None:
    base = make_settings(database_url, relaydesk_email__attachments_dir=str(tmp_path / "files"))
    agents = tuple(
        a.model_copy(update={"language": "zh_CN"}) if a.name == "ana" else a for a in base.agents
    )
    for desk in desk_for(base.model_copy(update={"agents": agents})):
        set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)  # ana gets the ticket
        number = desk.submit("web-language", "jo@example.org", subject="Printer")
        (ack,) = desk.sender.to("jo@example.org")
        assert ack.body_text.startswith(said("router", "en", "Hello %(name)s,", name="Jo"))
        (notice,) = desk.sender.to(_agent_email(desk))
        assert notice.subject == said(
            "router",
            "zh_CN",
            "Assigned: %(subject)s (%(priority)s)",
            subject=f"[#{number}] Printer",
            priority=said("router", "zh_CN", "normal", context="priority"),
        )


@pytest.mark.parametrize("desk_language", ["en"])
def test_a_chat_customer_whose_app_states_nothing_is_answered_as_they_stated_before(
    chat_in: Chat,
) -> None:
    bot = partial(said, "connectors/telegram", "zh_CN")
    chat_in.server.customer_message(ANN, "打印机坏了", first_name="李雷", language_code="zh-hans")
    chat_in.expect(ANN, bot("We have opened your request %(tag)s", tag="[#1]"))
    chat_in.server.customer_message(ANN, "/new", first_name="李雷", language_code="")
    chat_in.expect(ANN, bot("All right: your next message opens a new request."))
