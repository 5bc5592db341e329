"""Webhooks through the staff API, as an admin's program and an admin's browser session would
use them, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from store.models import AuditEvent
from tests.support.staff import StaffDesk, staff_desk

pytestmark = pytest.mark.integration

RECEIVER = "https://93.184.216.34/hooks/relaydesk"  # an address: nothing to resolve


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def test_an_admin_subscribes_sees_the_secret_once_and_manages_the_webhook(
    desk: StaffDesk,
) -> None:
    api = desk.with_token("root")
    made = api.post(
        "/api/v1/webhooks",
        json={"url": RECEIVER, "events": ["ticket.created", "sla.breached"], "description": "crm"},
    )
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_") and hook["active"] is True
    assert hook["created_by"].startswith("agent:root")
    listed = api.get("/api/v1/webhooks").json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert hook["secret"] not in api.get(f"/api/v1/webhooks/{hook['id']}").text

    paused = api.post(f"/api/v1/webhooks/{hook['id']}/pause", json={"reason": "CRM upgrade"})
    assert paused.json()["active"] is False and "CRM upgrade" in paused.json()["paused_reason"]
    test = api.post(f"/api/v1/webhooks/{hook['id']}/test")
    assert test.status_code == 202 and test.json()["event_type"] == "webhook.test"
    [waiting] = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries?state=pending").json()
    assert waiting["message_id"] == test.json()["message_id"]
    under_way = api.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{waiting['id']}/redeliver")
    assert under_way.status_code == 409
    assert api.post(f"/api/v1/webhooks/{hook['id']}/resume").json()["active"] is True
    assert api.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert api.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404

    with desk.runtime.db.unit_of_work() as uow:
        actions = [
            (e.action, e.data["origin"]["via"])
            for e in uow.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.like("webhook.%"))
                .order_by(AuditEvent.id)
            )
        ]
    assert actions == [
        ("webhook.added", "token"),
        ("webhook.paused", "token"),
        ("webhook.resumed", "token"),
        ("webhook.removed", "token"),
    ]


REFUSED = [
    {"url": "http://127.0.0.1:8080/", "events": ["ticket.created"]},
    {"url": "http://169.254.169.254/latest/meta-data/", "events": ["ticket.created"]},
    {"url": "http://[::1]/", "events": ["ticket.created"]},
    {"url": "http://relaydesk.invalid/", "events": ["ticket.created"]},
    {"url": "ftp://93.184.216.34/", "events": ["ticket.created"]},
    {"url": RECEIVER, "events": ["ticket.deleted"]},
    {"url": RECEIVER, "events": []},
    {"url": RECEIVER, "events": ["ticket.created"], "secret": "hunter2"},
]


def test_a_subscription_that_cannot_be_is_refused_with_why(desk: StaffDesk) -> None:
    browser = desk.signed_in("root")
    for body in REFUSED:
        answer = browser.post("/api/v1/webhooks", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert desk.with_token("root").get("/api/v1/webhooks").json() == []


def test_a_delivery_of_another_webhook_is_not_found(desk: StaffDesk) -> None:
    api = desk.with_token("root")
    first, second = (
        api.post("/api/v1/webhooks", json={"url": RECEIVER, "events": ["ticket.created"]}).json()
        for _ in range(2)
    )
    delivery = api.post(f"/api/v1/webhooks/{first['id']}/test").json()
    answer = api.post(f"/api/v1/webhooks/{second['id']}/deliveries/{delivery['id']}/redeliver")
    assert answer.status_code == 404
