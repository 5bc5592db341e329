"""The web API on the real store, both databases: no client input gets a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from connectors.web.app import create_app
from router.envelopes import AttachmentRef, InboundMessage
from router.vocabulary import Channel
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.web_fakes import post_form, ticket_json

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url))


@pytest.fixture
def client(desk: Desk) -> TestClient:
    app = create_app(intake=desk.intake, tickets=desk.intake, settings=desk.runtime.settings)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("number", ["9223372036854775808", "2147483648", "99999999999999999999"])
def test_ids_past_the_stores_range_are_not_found(client: TestClient, number: str) -> None:
    for path in (f"/api/v1/tickets/{number}", f"/api/v1/submissions/{number}"):
        assert client.get(f"{path}?key=k").status_code == 404


def test_a_nul_is_refused_by_the_api_and_the_form_and_nothing_is_kept(
    desk: Desk, client: TestClient
) -> None:
    api = client.post("/api/v1/tickets", json=ticket_json(custom_fields={"order": "A\x00"}))
    form = post_form(
        client, {"name": "Jo", "email": "jo@example.org", "subject": "s", "message": "a\x00b"}
    )

    assert (api.status_code, form.status_code) == (422, 422)
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.get(1) is None


def test_a_nul_that_reaches_the_store_by_another_path_is_removed_there(desk: Desk) -> None:
    receipt = desk.intake.accept(
        InboundMessage(
            channel=Channel.EMAIL,
            idempotency_key="<nul@example.org> jo@example.org",
            sender_address="jo@example.org",
            sender_name="Jo\x00 Park",
            subject="Printer\x00 on fire",
            body_text="smoke\x00 everywhere",
            headers={"X-Note\x00": "a\x00b"},
            custom_fields={"k": "v\x00"},
            attachments=(AttachmentRef("photo\x00.jpg", "image/jpeg", 3, None, skipped="x"),),
        )
    )
    desk.settle()

    with desk.runtime.db.unit_of_work() as uow:
        item = uow.inbox.get(receipt.inbox_id)
        assert item is not None and "\x00" not in repr(item.payload)
        assert item.payload["subject"] == "Printer on fire"
        assert item.payload["headers"] == {"X-Note": "ab"}
        view = uow.tickets.view(item.ticket_id or 0)
    assert view is not None
    assert view.subject == "Printer on fire" and view.requester_name == "Jo Park"
    assert view.messages[0].body_text == "smoke everywhere"
