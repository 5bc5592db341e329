"""The ticket link on the real store, both databases: the requester's page (HTML for a
browser, JSON for a program), its messages with files, "this solved it" and "I still
need help"; only the ticket's key opens any of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from connectors.web.requester.ticket_page import CATALOG
from router.vocabulary import Status
from router.vocabulary_texts import requester_state_word
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.web_fakes import post_form
from workers.desk.assignments import assign_ticket
from workers.desk.replies import answer_ticket
from workers.desk.requester_ports import RequesterPorts
from workers.desk.ticket_status import set_ticket_status

pytestmark = pytest.mark.integration

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Accept-Language": "en-US"}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from desk_for(
        make_settings(database_url, relaydesk_email__attachments_dir=str(tmp_path / "files"))
    )


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, raise_server_exceptions=True, follow_redirects=False)


def opened(desk: Desk, client: TestClient) -> tuple[int, str]:
    answer = client.post(
        "/api/v1/tickets",
        json={
            "requester": {"name": "Jo Park", "email": "jo@example.org"},
            "subject": "Printer jams",
            "body": "It jams on every page.",
        },
    )
    desk.settle()
    accepted = answer.json()
    if accepted["ticket_number"] is None:  # 202: made after the answer (a busy machine)
        accepted = client.get(accepted["status_url"]).json()
    number = accepted["ticket_number"]
    return number, f"/api/v1/tickets/{number}?key={accepted['access_key']}"


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action``."""
    form = page[page.index(f'action="{action}"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form))


def test_the_ticket_link_is_a_page_for_a_browser_and_json_for_a_program(
    desk: Desk, client: TestClient
) -> None:
    number, link = opened(desk, client)
    answer_ticket(desk.runtime, number, "ana", "Internal: check the fuser", internal=True)

    page = client.get(link, headers=BROWSER)
    data = client.get(link, headers={"Accept": "application/json"}).json()
    curl = client.get(link, headers={"Accept": "*/*"})

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Printer jams" in page.text and "It jams on every page." in page.text
    assert desk.ticket(number).status == "open"  # routed to an agent at once
    assert 'id="state">In progress<' in page.text and 'id="handler">Handled by ' in page.text
    assert "fuser" not in page.text  # never an internal note
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert data["state"] == "in_progress" and data["number"] == number
    assert [m["body"] for m in data["messages"]] == ["It jams on every page."]
    assert curl.headers["content-type"] == "application/json"


def test_only_the_tickets_key_opens_the_page_its_forms_and_its_files(
    desk: Desk, client: TestClient
) -> None:
    number, _ = opened(desk, client)
    wrong = {"key": "not-the-key", "body": "hello", "nonce": "0" * 32}

    assert client.get(f"/api/v1/tickets/{number}?key=x", headers=BROWSER).status_code == 404
    assert client.post(f"/requests/{number}/reply", data=wrong).status_code == 404
    assert client.post(f"/requests/{number}/solved", data=wrong).status_code == 404
    assert client.get(f"/api/v1/tickets/{number}/files/{'a' * 64}?key=x").status_code == 404
    assert client.post("/requests/99999999999999/reply", data=wrong).status_code == 404
    desk.settle()
    assert len(desk.ticket(number).messages) == 1


def test_a_message_from_the_page_joins_the_ticket_with_its_files_typed_by_content(
    desk: Desk, client: TestClient
) -> None:
    number, link = opened(desk, client)
    assign_ticket(desk.runtime, number, "ana", force=True)
    hidden = form_of(client.get(link, headers=BROWSER).text, f"/requests/{number}/reply")

    sent = client.post(
        f"/requests/{number}/reply",
        data={**hidden, "body": "Here is a photo of the jam."},
        files=[("files", ("jam.pdf", PNG, "application/pdf"))],  # a PNG, whatever its name
    )
    again = client.post(  # a double click: the same form, the same content
        f"/requests/{number}/reply",
        data={**hidden, "body": "Here is a photo of the jam."},
        files=[("files", ("jam.pdf", PNG, "application/pdf"))],
    )
    desk.settle()

    assert sent.status_code == 303 and again.status_code == 303
    assert sent.headers["location"].startswith(link) and "done=sent" in sent.headers["location"]
    view = desk.ticket(number)
    assert [m.body_text for m in view.messages] == [
        "It jams on every page.",
        "Here is a photo of the jam.",
    ]
    (file,) = view.messages[1].attachments
    assert (file.filename, file.content_type, file.size) == ("jam.pdf", "image/png", len(PNG))
    data = client.get(link).json()
    url = data["messages"][1]["attachments"][0]["url"]
    download = client.get(url)
    assert download.content == PNG and download.headers["content-type"] == "image/png"
    assert "attachment" in download.headers["content-disposition"]
    assert data["handled_by"] == "Ana"
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.tickets.get(number).requester.name == "Jo Park"  # type: ignore[union-attr]


def test_files_refused_by_type_size_or_count_are_said_next_to_the_field_with_the_text_kept(
    desk: Desk, client: TestClient
) -> None:
    number, link = opened(desk, client)
    hidden = form_of(client.get(link, headers=BROWSER).text, f"/requests/{number}/reply")

    refused = client.post(
        f"/requests/{number}/reply",
        data={**hidden, "body": "See the attached program"},
        files=[("files", ("notes.txt", b"MZ\x90\x00\x03\x00\x00\x00" * 8, "text/plain"))],
        headers=BROWSER,
    )
    empty = client.post(f"/requests/{number}/reply", data={**hidden, "body": "  "})
    desk.settle()

    assert refused.status_code == 422 and empty.status_code == 422
    assert "See the attached program</textarea>" in refused.text
    assert 'id="files-error"' in refused.text and "notes.txt is not a kind of file" in refused.text
    assert 'id="body-error"' in empty.text
    assert len(desk.ticket(number).messages) == 1


def test_a_resolved_ticket_is_reopened_by_i_still_need_help_and_closed_by_this_solved_it(
    desk: Desk, client: TestClient
) -> None:
    number, link = opened(desk, client)
    assign_ticket(desk.runtime, number, "ana", force=True)
    answer_ticket(desk.runtime, number, "ana", "Cleaned the rollers.", status=Status.RESOLVED)
    page = client.get(link, headers=BROWSER).text
    assert "Waiting for your confirmation" in page and 'id="solved"' in page

    still = client.post(
        f"/requests/{number}/reply", data=form_of(page, f"/requests/{number}/reply")
    )
    desk.settle()
    assert "done=reopened" in still.headers["location"]
    view = desk.ticket(number)
    assert view.status == "open" and view.messages[-1].body_text == "I still need help."

    set_ticket_status(desk.runtime, number, Status.RESOLVED, actor="agent:ana")
    page = client.get(link, headers=BROWSER).text
    solved = client.post(
        f"/requests/{number}/solved", data=form_of(page, f"/requests/{number}/solved")
    )
    after = client.get(solved.headers["location"], headers=BROWSER).text
    late = client.post(
        f"/requests/{number}/reply",
        data={**form_of(page, f"/requests/{number}/reply"), "body": "one more thing"},
    )

    assert desk.ticket(number).status == "closed"
    assert "Thank you for confirming" in after and 'id="reply"' not in after
    assert 'id="state">Closed<' in after
    assert late.status_code == 409
    with desk.runtime.db.unit_of_work() as uow:
        events = [(e.actor, e.action, e.detail, e.data) for e in uow.audit.for_ticket(number)]
    closing = [e for e in events if e[1] == "ticket.status" and "-> closed" in e[2]]
    assert len(closing) == 1 and closing[0][0].startswith("customer:")
    assert closing[0][3]["origin"]["via"] == "page"


def test_the_page_speaks_chinese_to_a_chinese_browser_from_the_catalog(
    desk: Desk, client: TestClient
) -> None:
    _, link = opened(desk, client)
    zh = CATALOG.texts("zh_CN")

    page = client.get(link, headers={**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"}).text

    assert '<html lang="zh-CN">' in page
    assert requester_state_word("open", "zh_CN") == "处理中"
    assert 'id="state">处理中<' in page
    assert zh.gettext("Add a message") in page and "Add a message" not in page


def test_a_link_that_opens_nothing_is_a_page_in_the_readers_language_and_json_for_a_program(
    desk: Desk, client: TestClient
) -> None:
    from tests.support.catalog_texts import said

    number, link = opened(desk, client)
    wrong = link.replace("?key=", "?key=x")
    chinese = {**BROWSER, "Accept-Language": "zh-CN,zh;q=0.9"}

    page = client.get(wrong, headers=chinese)
    english = client.get(f"/api/v1/tickets/{number}/files/{'0' * 64}?key=x", headers=BROWSER)
    program = client.get(wrong, headers={"Accept": "application/json"})
    posted = client.post(
        f"/requests/{number}/reply", data={"key": "x", "body": "hi"}, headers=chinese
    )

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert said("connectors/web/requester", "zh_CN", "We found nothing at this link") in page.text
    assert 'href="/my-requests"' in page.text
    assert english.status_code == 404 and "We found nothing at this link" in english.text
    assert program.status_code == 404 and program.json() == {"detail": f"ticket {number} not found"}
    assert posted.status_code == 404 and "此链接" in posted.text


def test_a_message_too_large_for_the_page_is_a_page_in_the_readers_language(
    desk: Desk, client: TestClient
) -> None:
    from tests.support.catalog_texts import said

    number, link = opened(desk, client)
    hidden = form_of(client.get(link, headers=BROWSER).text, f"/requests/{number}/reply")
    limit = desk.runtime.settings.web.upload_bytes()
    chinese = {**BROWSER, "Accept-Language": "zh-CN"}
    huge = [("files", ("big.txt", b"x" * (limit + 1), "text/plain"))]

    page = client.post(f"/requests/{number}/reply", data=hidden, files=huge, headers=chinese)
    program = client.post(f"/requests/{number}/reply", data=hidden, files=huge)

    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    words = said("connectors/web/requester", "zh_CN", "What you sent is too large")
    assert words in page.text and f"{limit // 1_000_000} MB" in page.text
    assert program.status_code == 413 and "limit" in program.json()["detail"]
    assert len(desk.ticket(number).messages) == 1


def test_the_plain_form_shares_the_rate_per_address_and_says_so_in_the_readers_language(
    desk: Desk, client: TestClient
) -> None:
    from tests.support.catalog_texts import said

    per_minute = desk.runtime.settings.web.submissions_per_minute
    chinese = {**BROWSER, "Accept-Language": "zh-CN"}

    def send(i: int) -> httpx.Response:
        data = {"name": "李雷", "email": "lei@example.cn", "subject": f"打印机 {i}",
                "message": "一直卡纸"}  # fmt: skip
        return post_form(client, data, headers=chinese)

    answers = [send(i) for i in range(per_minute + 1)]
    desk.settle()

    assert [a.status_code for a in answers[:per_minute]] == [201] * per_minute
    limited = answers[-1]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    words = "You have sent many requests in a short time: please wait a minute and send it again."
    assert said("connectors/web/requester", "zh_CN", words) in limited.text
    assert f'value="打印机 {per_minute}"' in limited.text  # the values kept
