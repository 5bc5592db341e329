"""Webhooks' pure rules: which receivers are refused, the retry schedule, the events audit
events are, the body and its signature."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from connectors.webhooks.signing import check_secret, new_secret, signed_headers
from router.webhook_events import WebhookEvent, event_details, event_of, parse_events, webhook_body
from router.webhook_policy import (
    AddressPolicy,
    answer_problem,
    delivered,
    first_refusal,
    next_attempt,
    parse_url,
    refusal,
)

STRICT = AddressPolicy()
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "240.0.0.1",
    ],
)
def test_addresses_inside_or_unroutable_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), STRICT) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), STRICT) is None


def test_config_allows_private_networks_or_one_network_but_never_multicast() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert refusal(loopback, AddressPolicy(allow_private=True)) is None
    one = AddressPolicy.of(False, ["10.20.0.0/16"])
    assert refusal(ipaddress.ip_address("10.20.3.4"), one) is None
    assert refusal(ipaddress.ip_address("10.21.3.4"), one) is not None
    assert refusal(ipaddress.ip_address("224.0.0.1"), AddressPolicy(allow_private=True))


def test_a_name_is_refused_when_any_of_its_addresses_is() -> None:
    public, inside = ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")
    assert first_refusal([public], STRICT) is None
    assert "10.0.0.1" in (first_refusal([public, inside], STRICT) or "")
    assert first_refusal([], STRICT) is not None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "file:///etc/passwd",
        "https:///nohost",
        "https://user:pw@example.org/",
        "https://example.org/#frag",
        "https://example.org:99999/",
        "https://exa mple.org/",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "https://example.org/" + "a" * 3000,
    ],
)
def test_urls_that_cannot_be_receivers_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        parse_url(url)


def test_a_receiver_url_is_taken_apart_with_its_default_port() -> None:
    assert parse_url("https://crm.example.org/hooks?x=1").port == 443
    assert parse_url("http://[::1]:8080/h").host == "::1"


def test_retries_follow_the_schedule_and_stop_after_it() -> None:
    schedule = (5.0, 300.0)
    assert next_attempt(1, schedule, NOW) == NOW + timedelta(seconds=5)
    assert next_attempt(2, schedule, NOW) == NOW + timedelta(seconds=300)
    assert next_attempt(3, schedule, NOW) is None


def test_only_a_2xx_is_a_delivery_and_a_redirect_says_it_was_not_followed() -> None:
    assert delivered(200) and delivered(204)
    assert not delivered(301) and not delivered(500) and not delivered(410)
    assert "not followed" in answer_problem(302, "http://10.0.0.1/")


@pytest.mark.parametrize(
    ("action", "data", "event"),
    [
        ("ticket.created", {}, WebhookEvent.TICKET_CREATED),
        ("ticket.assigned", {"agent": "ana"}, WebhookEvent.TICKET_ASSIGNED),
        ("ticket.claimed", {"agent": "ana"}, WebhookEvent.TICKET_ASSIGNED),
        ("ticket.transferred", {"agent": "ben"}, WebhookEvent.TICKET_ASSIGNED),
        ("ticket.transferred", {"team": "billing"}, None),
        ("ticket.status", {}, WebhookEvent.TICKET_STATUS_CHANGED),
        ("ticket.reopened", {}, WebhookEvent.TICKET_STATUS_CHANGED),
        ("message.replied", {}, WebhookEvent.TICKET_REPLIED),
        ("message.received", {}, WebhookEvent.TICKET_REPLIED),
        ("note.added", {}, WebhookEvent.TICKET_NOTE_ADDED),
        ("sla.warning", {}, WebhookEvent.SLA_WARNING),
        ("sla.breached", {}, WebhookEvent.SLA_BREACHED),
        ("outbox.sent", {}, None),
        ("ticket.waiting", {}, None),
    ],
)
def test_audit_events_are_webhook_events_as_the_table_says(
    action: str, data: dict[str, str], event: WebhookEvent | None
) -> None:
    assert event_of(action, data) is event


def test_a_status_change_says_from_and_to_and_a_message_its_direction() -> None:
    details = event_details("ticket.status", "open -> resolved: done", {})
    assert (details["from"], details["to"]) == ("open", "resolved")
    given = event_details("ticket.status", "x", {"from": "new", "to": "open", "origin": {}})
    assert (given["from"], given["to"]) == ("new", "open") and "origin" not in given
    assert event_details("message.received", "", {})["direction"] == "inbound"


def test_event_names_are_checked() -> None:
    assert parse_events(["sla.breached", "ticket.created", "ticket.created"]) == (
        WebhookEvent.TICKET_CREATED,
        WebhookEvent.SLA_BREACHED,
    )
    with pytest.raises(ValueError, match=r"ticket\.deleted"):
        parse_events(["ticket.deleted"])
    with pytest.raises(ValueError):
        parse_events([])


def test_the_body_is_the_same_bytes_every_time_and_carries_the_sequence() -> None:
    body = webhook_body("ticket.created", occurred_at=NOW, sequence=7, data={"b": 1, "a": "é"})
    assert body == webhook_body(
        "ticket.created", occurred_at=NOW, sequence=7, data={"a": "é", "b": 1}
    )
    payload = json.loads(body)
    assert payload == {
        "type": "ticket.created",
        "timestamp": "2026-12-07T09:00:00Z",
        "data": {"a": "é", "b": 1, "sequence": 7},
    }


def test_a_signature_verifies_with_the_standard_library_and_fails_on_another_body() -> None:
    secret = new_secret()
    now = datetime.now(UTC)
    headers = signed_headers(secret, message_id="msg_1", timestamp=now, body='{"a":1}')
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify('{"a":2}', headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify('{"a":1}', headers)


def test_a_given_secret_must_be_whsec_base64_of_24_to_64_bytes() -> None:
    assert check_secret(new_secret()).startswith("whsec_")
    for bad in ("secret", "whsec_not base64!", "whsec_" + "QUJD", "whsec_" + "A" * 200):
        with pytest.raises(ValueError):
            check_secret(bad)


def test_the_paused_notice_speaks_the_admins_language_from_the_catalog() -> None:
    from connectors.webhooks.notices import CATALOG, paused_notice

    zh = CATALOG.texts("zh_CN")
    notice = paused_notice(
        webhook_id=3, url="https://crm.example/h", reason="HTTP 500", helpdesk_name="Desk",
        language="zh_CN",
    )  # fmt: skip
    assert notice.subject == zh.gettext(
        "%(helpdesk)s: webhook %(id)s paused", helpdesk="Desk", id=3
    )
    assert (
        notice.subject != "Desk: webhook 3 paused" and "https://crm.example/h" in notice.body_text
    )
    english = paused_notice(
        webhook_id=3, url="https://crm.example/h", reason="HTTP 500", helpdesk_name="Desk",
        language="en",
    )  # fmt: skip
    assert english.subject == "Desk: webhook 3 paused" and "HTTP 500" in english.body_text
