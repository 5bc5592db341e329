"""The form a ticket came from and its fields, as staff read the ticket: the staff API (on
SQLite and PostgreSQL) and the workspace's ticket page name the form by its title in the
reader's language while it is configured, else by its slug, and list the fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from store.models import Ticket
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration

T = "/api/v1/desk/tickets/{}"
FORMS = [{"slug": "it-fault", "title": {"en": "IT fault", "zh_CN": "IT 故障"},
          "fields": [{"name": "device", "label": "Device", "type": "text"}]}]  # fmt: skip
FIELDS: dict[str, Any] = {"device": "printer", "reasons": ["late", "broken"]}


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url, relaydesk_web__forms=json.dumps(FORMS)) as staff:
        yield staff


def page_client(desk: StaffDesk, name: str, **headers: str) -> TestClient:
    client = desk.client()
    client.headers.update(headers)
    answer = client.post("/desk/sign-in", data={"name": name, "password": PASSWORD})
    assert answer.status_code in (200, 303), answer.text
    return client


def from_form(desk: StaffDesk, form: str | None) -> int:
    number = desk.ticket("support", "ana")
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.session.get(Ticket, number)
        assert ticket is not None
        ticket.form, ticket.custom_fields = form, dict(FIELDS) if form else {}
    return number


def test_the_staff_api_names_the_form_in_the_readers_language_and_lists_its_fields(
    desk: StaffDesk,
) -> None:
    configured, gone, plain = (from_form(desk, f) for f in ("it-fault", "old-form", None))
    ana = desk.signed_in("ana")

    english = ana.get(T.format(configured)).json()
    chinese = ana.get(T.format(configured), headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    unconfigured = ana.get(T.format(gone)).json()
    none = ana.get(T.format(plain)).json()

    assert (english["form"], english["form_title"]) == ("it-fault", "IT fault")
    assert english["custom_fields"] == FIELDS
    assert (chinese["form"], chinese["form_title"]) == ("it-fault", "IT 故障")
    assert (unconfigured["form"], unconfigured["form_title"]) == ("old-form", "old-form")
    assert (none["form"], none["form_title"], none["custom_fields"]) == (None, None, {})
    schema = ana.get("/openapi.json").json()["components"]["schemas"]["StaffTicketOut"]
    assert {"form", "form_title", "custom_fields"} <= set(schema["properties"])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_workspace_ticket_page_names_the_form_and_lists_its_fields(desk: StaffDesk) -> None:
    configured, gone, plain = (from_form(desk, f) for f in ("it-fault", "old-form", None))
    english = page_client(desk, "ana")
    chinese = page_client(desk, "ana", **{"Accept-Language": "zh-CN"})

    page = english.get(f"/desk/tickets/{configured}").text
    assert "<dt>Form</dt>" in page and '<dd class="form-title">IT fault</dd>' in page
    assert "<dt>device</dt><dd>printer</dd>" in page
    assert "<dt>reasons</dt><dd>late, broken</dd>" in page
    page = chinese.get(f"/desk/tickets/{configured}").text
    assert "<dt>表单</dt>" in page and '<dd class="form-title">IT 故障</dd>' in page
    page = english.get(f"/desk/tickets/{gone}").text
    assert '<dd class="form-title">old-form</dd>' in page
    assert 'class="form-title"' not in english.get(f"/desk/tickets/{plain}").text
