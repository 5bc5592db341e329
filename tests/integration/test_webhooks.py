"""Webhooks end to end on both databases: a desk with worker threads and a scheduler, and a
receiver of our own on loopback that verifies every signature."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from connectors.webhooks.sender import ReceiverRefused, WebhookRequest, WebhookSender
from router.vocabulary import Channel, Status
from store.models import WebhookEventRow
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.staff import DIRECTORY
from tests.support.webhook_receiver import Receiver, webhook_receiver
from workers.desk import webhooks as hooks
from workers.desk.replies import answer_ticket
from workers.desk.ticket_status import change_ticket_status
from workers.runtime.scheduler import Scheduler

pytestmark = pytest.mark.integration

LOOPBACK_ALLOWED = {
    **DIRECTORY,
    "relaydesk_webhooks__allow_private_networks": "true",
    "relaydesk_webhooks__retry_schedule_s": "[0.1, 0.1, 0.1, 0.1]",
    "relaydesk_webhooks__timeout_s": "0.5",
    "relaydesk_scheduler__interval_s": "0.05",
}
ALL_EVENTS = [
    "ticket.created",
    "ticket.assigned",
    "ticket.status_changed",
    "ticket.replied",
    "ticket.note_added",
    "sla.warning",
    "sla.breached",
]


@contextmanager
def running(settings: Settings) -> Iterator[Desk]:
    """A desk, its worker threads and its scheduler sweeping (the retries' clock)."""
    for desk in desk_for(settings):
        scheduler = Scheduler(desk.runtime)
        thread = threading.Thread(target=scheduler.run, daemon=True)
        thread.start()
        try:
            yield desk
        finally:
            scheduler.stop()
            thread.join()
        return


def settled(desk: Desk, webhook_id: int, *, timeout: float = 10.0) -> list[object]:
    """The subscription's deliveries once none is pending or sending."""
    deadline = time.monotonic() + timeout
    while True:
        found = hooks.deliveries(desk.runtime, webhook_id, limit=500)
        if all(d.state in ("done", "failed") for d in found) or time.monotonic() > deadline:
            return found  # type: ignore[return-value]
        time.sleep(0.03)


@pytest.fixture
def loopback_settings(database_url: str) -> Settings:
    return make_settings(database_url, **LOOPBACK_ALLOWED)


def test_a_new_ticket_reaches_the_receiver_signed_with_the_ticket_and_a_stable_id(
    loopback_settings: Settings,
) -> None:
    with running(loopback_settings) as desk:
        made = hooks.add_webhook(desk.runtime, "http://127.0.0.1:1/", ["ticket.created"])
        with webhook_receiver(made.secret) as receiver:
            _point(desk, made.webhook.id, receiver)
            number = desk.submit("first", subject="Printer on fire")
            [got] = receiver.wait_for(1)
            time.sleep(0.2)  # nothing else arrives: only ticket.created was asked for
            assert len(receiver.received) == 1
    assert got.verified
    assert got.message_id.startswith("msg_")
    assert got.headers["content-type"] == "application/json"
    payload = got.payload
    assert payload["type"] == "ticket.created"
    ticket = payload["data"]["ticket"]
    assert ticket["number"] == number
    assert ticket["subject"] == "Printer on fire"
    assert ticket["requester"] == {"name": "Jo", "address": "jo@example.org"}
    assert payload["data"]["channel"] == "web"
    [delivery] = settled(desk, made.webhook.id)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("done", 1, 204)  # type: ignore[attr-defined]


def test_a_receiver_that_fails_and_times_out_gets_the_same_delivery_until_it_accepts(
    loopback_settings: Settings,
) -> None:
    with running(loopback_settings) as desk:
        made = hooks.add_webhook(desk.runtime, "http://127.0.0.1:1/", ["ticket.created"])
        with webhook_receiver(made.secret) as receiver:
            _point(desk, made.webhook.id, receiver)
            receiver.answers = [500, ("sleep", 1.0), 503]
            desk.submit("flaky")
            receiver.wait_for(1, timeout=15)
            [delivery] = settled(desk, made.webhook.id)
    attempts = receiver.received  # the timed-out one was answered too, after the sender left
    assert len(attempts) == 4
    assert sorted(r.status for r in attempts if r.status != 204) == [500, 503]
    assert len({r.message_id for r in attempts}) == 1  # one webhook-id throughout
    assert len({r.body for r in attempts}) == 1  # the same bytes throughout
    assert all(r.verified for r in attempts)
    assert delivery.state == "done" and delivery.attempts == 4  # type: ignore[attr-defined]


def _point(desk: Desk, webhook_id: int, receiver: Receiver) -> None:
    """Aim a subscription at the receiver (made before the receiver's port was known)."""
    with desk.runtime.db.unit_of_work() as uow:
        subscription = uow.webhooks.get(webhook_id)
        assert subscription is not None
        subscription.url = receiver.url


def test_a_tickets_events_arrive_once_each_with_a_growing_sequence(
    loopback_settings: Settings,
) -> None:
    with running(loopback_settings) as desk:
        made = hooks.add_webhook(desk.runtime, "http://127.0.0.1:1/", ALL_EVENTS)
        with webhook_receiver(made.secret) as receiver:
            _point(desk, made.webhook.id, receiver)
            receiver.answers = [500]  # the first event is retried after the others went
            number = desk.submit("lifecycle")  # created; routed: assigned
            desk.submit(  # the customer writes again, to the ticket's plus-address
                "lifecycle-2",
                channel=Channel.EMAIL,
                subject=f"Re: [#{number}] help",
                recipients=(f"support+{number}@relaydesk.localhost",),
            )
            answer_ticket(desk.runtime, number, "ana", "Try turning it off and on.")
            answer_ticket(desk.runtime, number, "ana", "Asked @ben", internal=True)
            with desk.runtime.db.unit_of_work() as uow:
                change_ticket_status(desk.runtime, uow, number, Status.RESOLVED, actor="cli")
            desk.settle()
            got = receiver.wait_for(6)
            settled(desk, made.webhook.id)
    assert all(r.verified for r in receiver.received)
    accepted = [r.payload for r in receiver.accepted()]
    assert len(accepted) == len({r.message_id for r in receiver.accepted()})  # no duplicates
    by_sequence = sorted(accepted, key=lambda p: p["data"]["sequence"])
    assert [p["type"] for p in by_sequence] == [
        "ticket.created",
        "ticket.assigned",
        "ticket.replied",
        "ticket.replied",
        "ticket.note_added",
        "ticket.status_changed",
    ]
    assert {p["data"]["ticket"]["number"] for p in accepted} == {number}
    assert [p["data"].get("direction") for p in by_sequence[2:4]] == ["inbound", "outbound"]
    assert by_sequence[1]["data"]["agent"] == "ana"
    status = by_sequence[-1]["data"]
    assert (status["from"], status["to"], status["ticket"]["status"]) == (
        "open",
        "resolved",
        "resolved",
    )
    assert len(got) == 6


def test_a_rolled_back_change_tells_no_one(loopback_settings: Settings) -> None:
    with running(loopback_settings) as desk:
        made = hooks.add_webhook(desk.runtime, "http://127.0.0.1:1/", ALL_EVENTS)
        number = desk.submit("rollback")
        before = len(hooks.deliveries(desk.runtime, made.webhook.id))
        with pytest.raises(RuntimeError), desk.runtime.db.unit_of_work() as uow:
            change_ticket_status(desk.runtime, uow, number, Status.PENDING, actor="cli")
            uow.audit.flush()  # the webhook rows are written...
            raise RuntimeError("...and the change fails after")
        assert len(hooks.deliveries(desk.runtime, made.webhook.id)) == before


def test_a_delivery_out_of_attempts_pauses_the_subscription_and_tells_the_admins(
    database_url: str,
) -> None:
    settings = make_settings(
        database_url, **{**LOOPBACK_ALLOWED, "relaydesk_webhooks__retry_schedule_s": "[0.05]"}
    )
    with running(settings) as desk:
        made = hooks.add_webhook(desk.runtime, "http://127.0.0.1:1/", ["ticket.created"])
        with webhook_receiver(made.secret) as receiver:
            _point(desk, made.webhook.id, receiver)
            receiver.answers = [500, 502]
            desk.submit("doomed")
            [failed] = settled(desk, made.webhook.id)
            assert (failed.state, failed.attempts, failed.last_status) == ("failed", 2, 502)  # type: ignore[attr-defined]
            paused = hooks.get_webhook(desk.runtime, made.webhook.id)
            assert not paused.active and "HTTP 502" in (paused.paused_reason or "")
            desk.settle()
            [notice] = desk.sender.to("root@x.test")  # the admin, and nobody else
            assert f"webhook {made.webhook.id} paused" in notice.subject
            assert receiver.url in notice.body_text
            assert [m for m in desk.sender.sent if "webhook" in m.subject] == [notice]
            desk.submit("while-paused")  # recorded, kept waiting
            time.sleep(0.3)
            assert len(receiver.received) == 2
            hooks.resume_webhook(desk.runtime, made.webhook.id)
            receiver.wait_for(1)
            again = hooks.redeliver(desk.runtime, failed.id)  # type: ignore[attr-defined]
            assert again.state in ("pending", "sending", "done")
            receiver.wait_for(2)
            test = hooks.send_test_event(desk.runtime, made.webhook.id)
            receiver.wait_for(3)
    types = sorted(r.payload["type"] for r in receiver.accepted())
    assert types == ["ticket.created", "ticket.created", "webhook.test"]
    redelivered = [
        r for r in receiver.received if r.payload["data"].get("ticket", {}).get("number") == 1
    ]
    assert len({r.message_id for r in redelivered}) == 1  # redelivered under the same id
    assert test.event_type == "webhook.test"


def test_receivers_inside_the_network_are_refused_when_subscribing(database_url: str) -> None:
    settings = make_settings(database_url, **DIRECTORY)
    for desk in desk_for(settings):
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]/hook",
            "http://10.0.0.7/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "ftp://example.org/",
        ):
            with pytest.raises(ValueError):
                hooks.add_webhook(desk.runtime, url, ["ticket.created"])


def test_a_receiver_that_resolves_inside_at_delivery_time_is_never_contacted(
    database_url: str,
) -> None:
    """DNS rebinding: the name was fine when subscribed, and resolves to loopback now."""
    strict = make_settings(
        database_url, **{**DIRECTORY, "relaydesk_webhooks__retry_schedule_s": "[]"}
    )
    with running(strict) as desk, webhook_receiver("whsec_" + "A" * 32) as receiver:
        with desk.runtime.db.unit_of_work() as uow:  # subscribed while it resolved outside
            subscription = uow.webhooks.add(
                url=receiver.url.replace("127.0.0.1", "localhost"),
                events=["ticket.created"],
                secret=receiver.secret,
                description="",
                created_by="test",
                now=desk.runtime.now(),
            )
        desk.submit("rebinding")
        [delivery] = settled(desk, subscription.id)
        time.sleep(0.1)
    assert receiver.received == []
    assert delivery.state == "failed"  # type: ignore[attr-defined]
    assert "loopback" in (delivery.error or "")  # type: ignore[attr-defined]


def test_redirects_are_not_followed(loopback_settings: Settings) -> None:
    secret = "whsec_" + "B" * 32
    with webhook_receiver(secret) as inside, webhook_receiver(secret) as receiver:
        receiver.answers = [("redirect", inside.url)]
        sender = WebhookSender(loopback_settings.webhooks)
        request = WebhookRequest(
            url=receiver.url,
            message_id="msg_redirect",
            timestamp=datetime.now(UTC),
            body="{}",
            secret=secret,
        )
        answer = sender.send(request)
        sender.close()
    assert answer.status == 307 and answer.location == inside.url
    assert inside.received == []


def test_the_sender_refuses_a_loopback_receiver_without_the_setting(database_url: str) -> None:
    sender = WebhookSender(make_settings(database_url).webhooks)
    with pytest.raises(ReceiverRefused, match="loopback"):
        sender.send(
            WebhookRequest(
                url="http://127.0.0.1:9/",
                message_id="msg_x",
                timestamp=datetime.now(UTC),
                body="{}",
                secret="whsec_" + "C" * 32,
            )
        )
    sender.close()


def test_without_a_subscription_nothing_is_written(loopback_settings: Settings) -> None:
    with running(loopback_settings) as desk:
        desk.submit("nobody-listens")
        with desk.runtime.db.unit_of_work() as uow:
            assert uow.session.scalar(select(func.count()).select_from(WebhookEventRow)) == 0
