"""The web channel through its HTTP interface, on an in-memory helpdesk."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from config.settings import Settings
from connectors.web.app import create_app
from connectors.web.limits import BodySizeLimit
from router.vocabulary import Channel, Priority
from tests.support.web_fakes import (
    SETTINGS,
    FakeHelpdesk,
    client_for,
    post_form,
    problem_fields,
    ticket_json,
)


@pytest.fixture
def desk() -> FakeHelpdesk:
    return FakeHelpdesk()


@pytest.fixture
def client(desk: FakeHelpdesk) -> TestClient:
    return client_for(desk)


# --- POST /api/v1/tickets ---------------------------------------------------------------


def test_ticket_ingested_at_once_is_answered_201_with_number_and_location(
    client: TestClient,
) -> None:
    response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 201
    body = response.json()
    assert body["ticket_number"] == 101
    assert body["duplicate"] is False
    assert body["state"] == "done"
    key = body["access_key"]
    assert len(key) >= 20
    assert body["ticket_url"] == f"/api/v1/tickets/101?key={key}"
    assert body["status_url"] == f"/api/v1/submissions/{body['submission_id']}?key={key}"
    assert response.headers["location"] == f"/api/v1/tickets/101?key={key}"


def test_ticket_ingested_while_the_request_waits_is_answered_201() -> None:
    client = client_for(FakeHelpdesk(ingest_after=2))

    response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 201
    assert response.json()["ticket_number"] == 101


def test_ticket_not_ingested_in_time_is_answered_202_with_the_status_location() -> None:
    client = client_for(FakeHelpdesk(ingest_after=None))

    response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 202
    body = response.json()
    assert body["ticket_number"] is None and body["ticket_url"] is None
    assert body["state"] == "pending"
    assert response.headers["location"] == (
        f"/api/v1/submissions/{body['submission_id']}?key={body['access_key']}"
    )


def test_failed_ingestion_is_answered_202_with_state_failed_and_its_error() -> None:
    client = client_for(FakeHelpdesk(fail_with="no team for category"))

    response = client.post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 202
    assert response.json()["state"] == "failed"
    assert response.json()["error"] == "no team for category"


def test_submission_becomes_an_inbound_web_message_with_only_safe_headers(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    client.post(
        "/api/v1/tickets",
        json=ticket_json(
            category="billing", priority="high", custom_fields={"order": "A-1", "n": 2}
        ),
        headers={"User-Agent": "curl/8", "Cookie": "session=secret", "Authorization": "Bearer x"},
    )

    (message,) = desk.messages
    assert message.channel is Channel.WEB
    assert message.idempotency_key.startswith("web:")
    assert (message.sender_address, message.sender_name) == ("ana@example.com", "Ana Souza")
    assert (message.subject, message.body_text) == ("Charged twice", ticket_json()["body"])
    assert (message.category_hint, message.priority_hint) == ("billing", Priority.HIGH)
    assert message.custom_fields == {"order": "A-1", "n": 2}
    assert message.headers == {"User-Agent": "curl/8"}


def test_replaying_an_idempotency_key_returns_the_first_submission_as_duplicate(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    key = {"Idempotency-Key": "2b7e1516-28ae-d2a6"}
    first = client.post("/api/v1/tickets", json=ticket_json(), headers=key)
    again = client.post("/api/v1/tickets", json=ticket_json(), headers=key)

    assert first.json()["duplicate"] is False
    assert again.status_code == 201
    assert again.json()["duplicate"] is True
    assert again.json()["submission_id"] == first.json()["submission_id"]
    assert again.json()["ticket_number"] == first.json()["ticket_number"]
    assert list(desk.accepted) == ["web:2b7e1516-28ae-d2a6"]


def test_posts_without_an_idempotency_key_are_separate_submissions(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    first = client.post("/api/v1/tickets", json=ticket_json())
    second = client.post("/api/v1/tickets", json=ticket_json())

    assert first.json()["submission_id"] != second.json()["submission_id"]
    assert len(desk.accepted) == 2


def test_subject_line_breaks_and_runs_of_spaces_are_normalised(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    response = client.post(
        "/api/v1/tickets", json=ticket_json(subject="  Charged\r\n twice\tagain ")
    )

    assert response.status_code == 201
    assert desk.messages[0].subject == "Charged twice again"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"requester": {"name": "Ana"}}, "requester.email"),
        ({"requester": {"name": "Ana", "email": "ana.example.com"}}, "requester.email"),
        ({"requester": {"name": "Ana", "email": "ana @example.com"}}, "requester.email"),
        ({"requester": {"name": "Ana", "email": "a@x.com\r\nBcc: b@y.com"}}, "requester.email"),
        ({"requester": {"name": "Ana", "email": "ana@localhost"}}, "requester.email"),
        ({"requester": {"name": "", "email": "ana@example.com"}}, "requester.name"),
        ({"subject": ""}, "subject"),
        ({"subject": " \n "}, "subject"),
        ({"subject": "x" * 121}, "subject"),
        ({"body": ""}, "body"),
        ({"priority": "asap"}, "priority"),
        ({"category": "Billing & more"}, "category"),
        ({"custom_fields": {"bad key": 1}}, "custom_fields.bad key.[key]"),
        ({"custom_fields": {"nested": {"a": 1}}}, "custom_fields.nested"),
        ({"custom_fields": {f"k{i}": i for i in range(51)}}, "custom_fields"),
        ({"cc": "boss@example.com"}, "cc"),
    ],
)
def test_each_invalid_field_is_a_422_that_names_it(
    desk: FakeHelpdesk, client: TestClient, changes: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/tickets", json=ticket_json(**changes))

    assert response.status_code == 422
    assert field in problem_fields(response)
    assert desk.accepted == {}


def test_a_body_that_is_not_json_gets_a_clear_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/tickets", content=b"name=Ana", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["field"] == "body"
    assert problem["msg"].startswith("the request body is not valid JSON")


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"hello", "text/plain"), (b"[1, 2]", "application/json"), (b'"hi"', "application/json")],
)
def test_a_body_that_is_not_a_json_object_gets_a_clear_422(
    client: TestClient, content: bytes, content_type: str
) -> None:
    response = client.post(
        "/api/v1/tickets", content=content, headers={"Content-Type": content_type}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"].startswith("the request body must be a JSON object")


def test_an_idempotency_key_that_is_too_long_or_not_printable_is_refused(
    client: TestClient,
) -> None:
    for key in ("k" * 201, "has space"):
        response = client.post(
            "/api/v1/tickets", json=ticket_json(), headers={"Idempotency-Key": key}
        )

        assert response.status_code == 422
        assert problem_fields(response) == {"Idempotency-Key"}


def test_body_over_the_limit_with_content_length_is_413_and_never_reaches_intake(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    response = client.post("/api/v1/tickets", json=ticket_json(body="x" * 5000))

    assert response.status_code == 413
    assert response.json()["detail"] == "request body too large: the limit is 4096 bytes"
    assert desk.accepted == {}


def test_chunked_body_over_the_limit_is_413(desk: FakeHelpdesk, client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield json.dumps(ticket_json(body="x" * 5000)).encode()

    response = client.post(
        "/api/v1/tickets", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert "4096 bytes" in response.json()["detail"]
    assert desk.accepted == {}


def test_chunked_body_within_the_limit_is_accepted(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield json.dumps(ticket_json()).encode()

    response = client.post(
        "/api/v1/tickets", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 201


def test_limit_stops_reading_a_streamed_body_at_the_first_chunk_past_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    chunks = [{"type": "http.request", "body": b"x" * 40, "more_body": True}] * 10
    served: list[Message] = []
    sent: list[Message] = []

    async def receive() -> Message:
        served.append(chunks[len(served)])
        return served[-1]

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    asyncio.run(BodySizeLimit(app, max_bytes=100)(scope, receive, send))

    assert len(served) == 3
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [413]


def test_intake_unavailable_is_503_with_retry_after_and_nothing_accepted() -> None:
    desk = FakeHelpdesk(accept_down=True)

    response = client_for(desk).post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "not accepted" in response.json()["detail"]
    assert "database is locked" not in response.text
    assert desk.accepted == {}


def test_status_unavailable_after_acceptance_still_answers_202() -> None:
    desk = FakeHelpdesk(ingest_after=None, receipt_down=True)

    response = client_for(desk).post("/api/v1/tickets", json=ticket_json())

    assert response.status_code == 202
    assert len(desk.accepted) == 1


# --- GET ---------------------------------------------------------------------------------


def test_status_url_follows_a_submission_until_it_is_a_ticket() -> None:
    desk = FakeHelpdesk(ingest_after=None)
    client = client_for(desk)
    status_url = client.post("/api/v1/tickets", json=ticket_json()).headers["location"]

    assert client.get(status_url).json()["ticket_number"] is None
    desk.ingest_after = 0
    status = client.get(status_url).json()

    assert status["ticket_number"] == 101
    assert status["ticket_url"] == f"/api/v1/tickets/101?key={status['access_key']}"


def test_unknown_submission_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/submissions/999?key=anything")

    assert response.status_code == 404
    assert response.json() == {"detail": "submission 999 not found"}


def test_unknown_ticket_is_404_naming_the_number(client: TestClient) -> None:
    response = client.get("/api/v1/tickets/42?key=anything")

    assert response.status_code == 404
    assert response.json() == {"detail": "ticket 42 not found"}


def test_a_ticket_or_submission_without_its_key_is_indistinguishable_from_a_missing_one(
    client: TestClient,
) -> None:
    body = client.post("/api/v1/tickets", json=ticket_json()).json()
    other = client.post("/api/v1/tickets", json=ticket_json(), headers={"Idempotency-Key": "2"})
    number, sub = body["ticket_number"], body["submission_id"]

    for query in ("", "?key=", "?key=wrong", f"?key={other.json()['access_key']}"):
        ticket = client.get(f"/api/v1/tickets/{number}{query}")
        status = client.get(f"/api/v1/submissions/{sub}{query}")
        assert ticket.status_code == 404 and ticket.json() == {
            "detail": f"ticket {number} not found"
        }
        assert status.status_code == 404
    assert client.get(body["ticket_url"]).status_code == 200
    assert client.get(body["status_url"]).status_code == 200


def test_an_idempotency_key_reused_for_another_request_is_refused_without_revealing_it(
    client: TestClient,
) -> None:
    first = client.post("/api/v1/tickets", json=ticket_json(), headers={"Idempotency-Key": "o-1"})
    other = dict(ticket_json(), body="something else entirely")
    again = client.post("/api/v1/tickets", json=other, headers={"Idempotency-Key": "o-1"})

    assert again.status_code == 409
    assert "already used for a different request" in again.json()["detail"]
    assert first.json()["access_key"] not in again.text
    assert str(first.json()["ticket_number"]) not in again.text


def test_a_replayed_submission_returns_the_first_access_key(client: TestClient) -> None:
    first = client.post("/api/v1/tickets", json=ticket_json(), headers={"Idempotency-Key": "k"})
    again = client.post("/api/v1/tickets", json=ticket_json(), headers={"Idempotency-Key": "k"})

    assert again.json()["duplicate"] is True
    assert again.json()["access_key"] == first.json()["access_key"]


def test_ticket_is_returned_with_its_public_messages_only(client: TestClient) -> None:
    location = client.post("/api/v1/tickets", json=ticket_json()).headers["location"]

    response = client.get(location)

    assert response.status_code == 200
    ticket = response.json()
    assert set(ticket) == {
        "number", "subject", "status", "priority", "category", "channel", "requester",
        "assignee", "team", "created_at", "first_response_at", "resolved_at", "closed_at",
        "messages", "state", "waiting_for_you", "handled_by",
    }  # fmt: skip
    assert (ticket["state"], ticket["waiting_for_you"], ticket["handled_by"]) == (
        "received",
        False,
        "support",  # nobody took it up yet: its team
    )
    assert ticket["requester"] == {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "organisation": None,
    }
    assert ticket["created_at"] == "2024-05-06T09:30:00Z"
    assert ticket["messages"] == [
        {
            "direction": "inbound",
            "channel": "web",
            "author": "Ana Souza",
            "body": ticket_json()["body"],
            "created_at": "2024-05-06T09:30:00Z",
            "attachments": [],
        }
    ]


def test_healthz_says_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_documents_the_api_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    assert spec["info"]["title"] == "relaydesk"
    assert {"/api/v1/tickets", "/api/v1/tickets/{number}", "/api/v1/submissions/{submission_id}",
            "/healthz"} <= set(spec["paths"])  # fmt: skip
    create = spec["paths"]["/api/v1/tickets"]["post"]
    assert create["tags"] == ["tickets"] and create["description"]
    assert {"201", "202", "413", "422", "503"} <= set(create["responses"])
    subject = spec["components"]["schemas"]["TicketRequest"]["properties"]["subject"]
    assert subject["maxLength"] == 120 and subject["description"]
    assert client.get("/docs").status_code == 200


# --- the HTML form -----------------------------------------------------------------------


def form_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Ana Souza",
        "email": "ana@example.com",
        "subject": "Charged twice",
        "category": "billing",
        "priority": "",
        "message": "My card was charged twice.",
    }
    data.update(changes)
    return data


def nonce_of(page: str) -> str:
    match = re.search(r'name="nonce" value="([0-9a-f]{32})"', page)
    assert match
    return match.group(1)


def test_form_page_offers_every_field_and_escapes_the_helpdesk_name(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for name in ("name", "email", "subject", "category", "priority", "message"):
        assert f'<label for="{name}">' in page and f'id="{name}"' in page
    assert '<option value="general">' in page
    assert '<option value="billing">' in page and '<option value="tech-support">' in page
    assert "Acme &lt;Support&gt;" in page and "Acme <Support>" not in page
    assert "<script" not in page


def test_form_post_opens_a_ticket_and_thanks_with_its_number(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    response = post_form(client, form_data())

    assert response.status_code == 201
    assert "Thank you, your ticket #101 is open" in response.text
    assert 'href="/api/v1/tickets/101?key=' in response.text
    assert desk.messages[0].category_hint == "billing"
    assert desk.messages[0].priority_hint is None


def test_form_post_not_yet_ingested_gives_a_reference() -> None:
    response = post_form(client_for(FakeHelpdesk(ingest_after=None)), form_data())

    assert response.status_code == 202
    assert "received, reference 1" in response.text


def test_form_posted_twice_from_one_page_is_one_submission_but_an_edit_is_another(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    nonce = nonce_of(client.get("/").text)

    post_form(client, {**form_data(), "nonce": nonce})
    post_form(client, {**form_data(), "nonce": nonce})
    assert len(desk.accepted) == 1
    post_form(client, {**form_data(subject="Charged three times"), "nonce": nonce})
    assert len(desk.accepted) == 2


def test_form_with_problems_is_shown_again_422_with_values_kept_and_escaped(
    desk: FakeHelpdesk, client: TestClient
) -> None:
    response = post_form(
        client, form_data(name="<script>alert(1)</script>", email="not an email", subject="")
    )

    assert response.status_code == 422
    page = response.text
    assert "<script>" not in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert 'value="not an email"' in page
    assert re.search(r'id="email"[^>]*aria-invalid="true"', page)
    assert re.search(r'id="email-error">Not an email address', page)
    assert re.search(r'id="subject-error">Please fill this in', page)
    assert "name-error" not in page
    assert '<option value="billing" selected>' in page
    assert ">My card was charged twice.</textarea>" in page
    assert desk.accepted == {}


def test_form_when_intake_is_unavailable_is_503_with_the_form_kept() -> None:
    response = post_form(client_for(FakeHelpdesk(accept_down=True)), form_data())

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "nothing was saved" in response.text
    assert 'value="Charged twice"' in response.text


def test_app_is_a_fresh_fastapi_per_call(desk: FakeHelpdesk) -> None:
    first = create_app(intake=desk, tickets=desk, settings=SETTINGS)
    second = create_app(intake=desk, tickets=desk, settings=Settings())

    assert isinstance(first, FastAPI) and first is not second
