"""Forms made for one scenario each, through the real app on the real store: typed
fields checked and kept (values kept on a problem, each said by its field), files typed
by content, the form's name reaching the rules and the ticket; the honeypot, the
per-address rate (429 with Retry-After) and the CSRF token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from tests.conftest import make_settings
from tests.support.catalog_texts import said
from tests.support.desk import Desk, desk_for
from workers.channels.intake import StoreIntake
from workers.desk.requester_ports import RequesterPorts
from workers.runtime.build import build_runtime

pytestmark = pytest.mark.integration

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
FORMS = [
    {
        "slug": "it-fault",
        "title": "IT fault",
        "description": "Something of yours is broken.",
        "fields": [
            {"name": "device", "label": "Device", "type": "choice", "required": True,
             "choices": ["laptop", "phone", "printer"]},
            {"name": "symptom", "label": "Symptom", "type": "long_text", "required": True},
            {"name": "since", "label": "Since", "type": "date"},
            {"name": "photo", "label": "Photo", "type": "file"},
        ],
    },
    {
        "slug": "refund",
        "title": "Refund",
        "category": "billing",
        "fields": [
            {"name": "order", "label": "Order number", "type": "text", "required": True,
             "max_length": 20},
            {"name": "amount", "label": "Amount", "type": "number", "min": 0.01, "max": 10000},
            {"name": "reasons", "label": "Why", "type": "multiple_choice",
             "choices": ["late", "broken", "wrong item"]},
            {"name": "phone", "label": "Phone", "type": "phone"},
        ],
    },
]  # fmt: skip
RULES = [{"name": "hardware", "when": {"template": ["it-fault"]}, "set": {"tags": ["hardware"]}}]


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    yield from desk_for(
        make_settings(
            database_url,
            relaydesk_web__forms=json.dumps(FORMS),
            relaydesk_web__submissions_per_minute="4",
            relaydesk_rules__all_match=json.dumps(RULES),
            relaydesk_email__attachments_dir=str(tmp_path / "files"),
        )
    )


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )
    return TestClient(app, follow_redirects=False)


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))


def test_the_home_page_lists_the_forms_and_each_has_its_page(client: TestClient) -> None:
    home = client.get("/")
    listing = client.get(home.headers["location"])

    assert home.status_code == 303 and home.headers["location"] == "/forms"
    assert 'href="/forms/it-fault"' in listing.text and 'href="/forms/refund"' in listing.text
    assert 'href="/my-requests" id="my-requests-link"' in listing.text
    form = client.get("/forms/refund").text
    assert 'name="order"' in form and 'type="number"' in form and 'type="tel"' in form
    assert client.get("/forms/nope").status_code == 404


def test_a_scenario_form_opens_a_ticket_with_its_fields_its_file_and_its_template(
    desk: Desk, client: TestClient
) -> None:
    fields = hidden(client.get("/forms/it-fault").text)

    sent = client.post(
        "/forms/it-fault",
        data={**fields, "name": "Li Wei", "email": "li@example.org", "device": "printer",
              "symptom": "Paper jams on every page", "since": "2026-12-01"},
        files=[("photo", ("jam.pdf", PNG, "application/pdf"))],
    )  # fmt: skip
    desk.settle()

    assert sent.status_code == 201
    number = int(re.search(r"request #(\d+)", sent.text).group(1))  # type: ignore[union-attr]
    assert f"/api/v1/tickets/{number}?key=" in sent.text
    assert 'href="/my-requests" id="my-requests-link"' in sent.text
    view = desk.ticket(number)
    assert view.subject == "IT fault"
    body = view.messages[0].body_text
    assert "Device: printer" in body and "Symptom: Paper jams on every page" in body
    assert "Since: 2026-12-01" in body
    agent = f"{view.assignee}@relaydesk.localhost"  # the agent's notice lists the fields too
    (notice,) = [m for m in desk.sender.to(agent) if f"[#{number}]" in m.subject]
    assert "Device: printer" in notice.body_text and "Since: 2026-12-01" in notice.body_text
    (photo,) = view.messages[0].attachments
    assert (photo.filename, photo.content_type) == ("jam.pdf", "image/png")
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number)
        assert ticket is not None and ticket.form == "it-fault"
        assert ticket.custom_fields["device"] == "printer" and "hardware" in ticket.tags


def test_problems_are_said_by_their_field_with_the_values_kept(
    desk: Desk, client: TestClient
) -> None:
    fields = hidden(client.get("/forms/refund").text)

    refused = client.post(
        "/forms/refund",
        data={**fields, "name": "Jo", "email": "not-an-address", "order": "A-1042",
              "amount": "-3", "reasons": ["late", "stolen"], "phone": "call me"},
    )  # fmt: skip

    assert refused.status_code == 422
    for name in ("email", "amount", "reasons", "phone"):
        assert f'id="{name}-error"' in refused.text or f'id="{name}-problems"' in refused.text
    assert 'value="A-1042"' in refused.text  # kept
    assert 'value="late" checked' in refused.text
    accepted = client.post(
        "/forms/refund",
        data={**fields, "name": "Jo", "email": "jo@example.org", "order": "A-1042",
              "amount": "12.50", "reasons": ["late", "broken"], "phone": "+49 30 1234567"},
    )  # fmt: skip
    desk.settle()
    assert accepted.status_code == 201
    number = int(re.search(r"request #(\d+)", accepted.text).group(1))  # type: ignore[union-attr]
    view = desk.ticket(number)
    assert view.category == "billing"  # the form implies it
    assert "Amount: 12.5" in view.messages[0].body_text
    assert "Why: late, broken" in view.messages[0].body_text


def test_the_honeypot_the_csrf_token_and_the_rate_per_address(
    desk: Desk, client: TestClient
) -> None:
    fields = hidden(client.get("/forms/refund").text)
    good = {**fields, "name": "Jo", "email": "jo@example.org", "order": "A-1"}

    robot = client.post("/forms/refund", data={**good, "website": "http://spam.example"})
    forged = client.post("/forms/refund", data={**good, "csrf": "guessed"})
    other_site = TestClient(client.app, follow_redirects=False)  # no cookie of ours
    cross = other_site.post("/forms/refund", data=good)
    desk.settle()

    assert robot.status_code == 200 and "request #" not in robot.text
    assert forged.status_code == 403 and cross.status_code == 403
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.get(1) is None  # nothing kept of any of them
    answers = [
        client.post("/forms/refund", data={**good, "order": f"A-{i}"}).status_code for i in range(4)
    ]
    assert answers[:2] == [201, 201] and answers[-1] == 429  # 4 a minute, the robot's counted
    limited = client.post("/forms/refund", data=good)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 61


TRANSLATED = [
    {
        "slug": "it-fault",
        "title": {"en": "IT fault", "zh_CN": "IT 故障"},
        "description": {"en": "Something of yours is broken.", "zh-CN": "您的设备坏了。"},
        "fields": [
            {"name": "device", "label": {"en": "Device", "zh_CN": "设备"}, "type": "choice",
             "required": True, "choices": ["laptop", "printer"],
             "choice_labels": {"laptop": {"en": "Laptop", "zh_CN": "笔记本电脑"},
                               "printer": {"zh_CN": "打印机"}}},
            {"name": "symptom", "label": {"en": "Symptom", "zh_CN": "症状"}, "type": "long_text",
             "required": True, "help": {"en": "What happens?", "zh_CN": "发生了什么"}},
            {"name": "since", "label": "Since / 自从", "type": "date"},
        ],
    },
    {"slug": "refund", "title": "Refund", "fields": []},
]  # fmt: skip
CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_a_forms_words_are_the_readers_language_and_its_problems_too(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(
        database_url,
        relaydesk_web__forms=json.dumps(TRANSLATED),
        relaydesk_email__attachments_dir=str(tmp_path / "files"),
    )
    for desk in desk_for(settings):
        app = create_app(
            intake=desk.intake,
            tickets=desk.intake,
            settings=settings,
            requester=RequesterPorts(desk.runtime),
        )
        client = TestClient(app, follow_redirects=False)
        english = client.get("/forms/it-fault", headers={"Accept-Language": "en"}).text
        chinese = client.get("/forms/it-fault", headers=CHINESE).text
        listing = client.get("/forms", headers=CHINESE).text
        refused = client.post(
            "/forms/it-fault",
            data={**hidden(chinese), "name": "李雷", "email": "lei@example.cn", "device": "tv"},
            headers=CHINESE,
        )
        sent = client.post(
            "/forms/it-fault?lang=zh-CN",
            data={**hidden(chinese), "name": "李雷", "email": "lei@example.cn",
                  "device": "printer", "symptom": "卡纸"},
        )  # fmt: skip
        desk.settle()
        schema = client.get("/openapi.json").json()["components"]["schemas"]

        assert "<h1>IT fault</h1>" in english and "Something of yours is broken." in english
        assert "> Laptop</label>" in english and "> printer</label>" in english  # no label: value
        assert "<h1>IT 故障</h1>" in chinese and "您的设备坏了。" in chinese
        assert "> 笔记本电脑</label>" in chinese and "> 打印机</label>" in chinese
        assert ">设备 *</legend>" in chinese and "发生了什么" in chinese
        assert "Since / 自从" in chinese and 'value="laptop"' in chinese  # the value kept
        assert ">IT 故障</a>" in listing and ">Refund</a>" in listing
        assert refused.status_code == 422
        for problem in ("Please choose one of the listed options.", "Please fill this in."):
            assert said("connectors/web/requester", "zh_CN", problem) in refused.text
        assert sent.status_code == 201
        number = int(re.search(r"#(\d+)", sent.text).group(1))  # type: ignore[union-attr]
        view = desk.ticket(number)
        assert view.subject == "IT 故障"
        assert "设备: printer" in view.messages[0].body_text  # the value, as the rules see it
        fields = schema["FormFields_it-fault"]
        assert fields["title"] == "IT fault" and fields["properties"]["device"]["title"] == "Device"
        assert fields["properties"]["device"]["x-choice-labels"] == {
            "laptop": "Laptop",
            "printer": "printer",
        }


def test_two_web_processes_share_the_rate_per_address_through_the_store(
    desk: Desk, client: TestClient
) -> None:
    second = build_runtime(desk.runtime.settings)  # another web process: its own engine
    now = datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    desk.runtime.clock = second.clock = lambda: now
    try:
        intake = StoreIntake(second)
        app = create_app(
            intake=intake,
            tickets=intake,
            settings=second.settings,
            requester=RequesterPorts(second),
        )
        other = TestClient(app, follow_redirects=False)
        elsewhere = TestClient(client.app, follow_redirects=False, client=("198.51.100.7", 1))
        browsers = [client, other, elsewhere]
        good = [
            {**hidden(b.get("/forms/refund").text), "name": "Jo", "email": "jo@example.org"}
            for b in browsers
        ]

        def send(i: int, order: str) -> int:
            return browsers[i].post("/forms/refund", data={**good[i], "order": order}).status_code

        answers = [send(i % 2, f"A-{i}") for i in range(4)]  # 4 a minute, in turns
        one_more = browsers[1].post("/forms/refund", data={**good[1], "order": "A-5"})
        another_address = send(2, "B-1")
        now += timedelta(seconds=59)  # the window opened at 10:00:05 closes at 10:01:05
        assert send(0, "A-6") == 429
        now += timedelta(seconds=1)
        after_the_minute = send(1, "A-7")
    finally:
        second.close()

    assert all(a in (201, 202) for a in answers)
    assert one_more.status_code == 429 and one_more.headers["Retry-After"] == "60"
    assert "A-5" in one_more.text  # the values kept
    assert another_address in (201, 202) and after_the_minute in (201, 202)


def test_the_json_api_takes_a_template_and_checks_its_fields_as_the_form_does(
    desk: Desk, client: TestClient
) -> None:
    request = {
        "requester": {"name": "Jo", "email": "jo@example.org"},
        "subject": "Refund please",
        "body": "Charged twice.",
        "template": "refund",
        "custom_fields": {"order": "A-1042", "amount": "12.50", "reasons": "late,broken"},
    }
    bad = {**request, "custom_fields": {"amount": -3}}

    made = client.post("/api/v1/tickets", json=request, headers={"Idempotency-Key": "r1"})
    again = client.post("/api/v1/tickets", json=request, headers={"Idempotency-Key": "r1"})
    refused = client.post("/api/v1/tickets", json=bad)
    unknown = client.post("/api/v1/tickets", json={**request, "template": "nope"})
    desk.settle()

    assert made.status_code == 201 and again.json()["duplicate"] is True  # idempotency intact
    assert refused.status_code == 422 and unknown.status_code == 422
    assert "custom_fields.order: required" in refused.text
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(made.json()["ticket_number"])
        assert ticket is not None and ticket.form == "refund" and ticket.category == "billing"
        assert ticket.custom_fields == {
            "order": "A-1042",
            "amount": 12.5,
            "reasons": ["late", "broken"],
        }
    document = client.get("/openapi.json").json()
    schema = document["components"]["schemas"]["FormFields_refund"]
    assert schema["required"] == ["order"] and schema["properties"]["amount"]["minimum"] == 0.01
    assert "FormFields_it-fault" in document["components"]["schemas"]
