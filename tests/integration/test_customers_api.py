"""Customers and organisations through the staff API on SQLite and PostgreSQL: an agent reads
a profile but only the tickets they may open; supervisors create, change and merge; taken
addresses and names answer 409, impossible merges 422; every change audited with the caller."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from store.models import AuditEvent
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.customers import customer_at

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def test_an_agent_reads_a_customer_with_only_the_tickets_in_their_scope(desk: StaffDesk) -> None:
    own = desk.ticket("support", "ana")
    desk.ticket("billing", None)  # the same requester (jo@x.test), outside ana's scope
    jo = customer_at(desk.runtime, "jo@x.test")

    as_ana = desk.signed_in("ana").get(f"/api/v1/customers/{jo}")
    as_root = desk.with_token("root").get(f"/api/v1/customers/{jo}")

    assert as_ana.status_code == 200, as_ana.text
    assert [t["number"] for t in as_ana.json()["tickets"]] == [own]
    assert len(as_root.json()["tickets"]) == 2
    assert as_ana.json()["addresses"] == [
        {"channel": "email", "address": "jo@x.test", "bounced": False}
    ]


def test_a_supervisor_creates_an_organisation_and_a_customer_in_it_and_finds_them(
    desk: StaffDesk,
) -> None:
    sam = desk.signed_in("sam")
    org = sam.post(
        "/api/v1/organisations",
        json={"name": "Acme", "tier": "gold", "domains": ["Acme.example"], "attributes": {"n": 1}},
    )
    assert org.status_code == 201, org.text
    assert org.json()["domains"] == ["acme.example"]
    made = sam.post(
        "/api/v1/customers",
        json={
            "name": "Kim Lee",
            "addresses": [{"channel": "email", "address": "kim@acme.example"}],
            "organisation_id": org.json()["id"],
            "attributes": {"plan": "pro", "seats": 3},
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["tier"] == "gold" and made.json()["own_tier"] is None
    assert made.json()["organisation"]["name"] == "Acme"

    found = desk.signed_in("ana").get("/api/v1/customers", params={"q": "ACME.ex"}).json()
    assert [c["name"] for c in found["customers"]] == ["Kim Lee"]
    again = sam.post("/api/v1/organisations", json={"name": "Acme"})
    taken = sam.post(
        "/api/v1/customers",
        json={"name": "K", "addresses": [{"channel": "email", "address": "KIM@acme.example"}]},
    )
    assert (again.status_code, taken.status_code) == (409, 409)
    nowhere = sam.post("/api/v1/customers", json={"name": "K", "organisation_id": 999})
    assert nowhere.status_code == 422, nowhere.text


def test_the_staff_ticket_view_shows_the_requesters_organisation_and_tier(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", None)
    root = desk.with_token("root")
    acme = root.post("/api/v1/organisations", json={"name": "Acme", "tier": "gold"}).json()
    jo = customer_at(desk.runtime, "jo@x.test")
    assert root.patch(f"/api/v1/customers/{jo}", json={"organisation_id": acme["id"]}).is_success

    ticket = root.get(f"/api/v1/desk/tickets/{number}").json()
    listed = root.get("/api/v1/desk/tickets", params={"organisation": "Acme"}).json()

    assert (ticket["customer_id"], ticket["organisation"], ticket["tier"]) == (jo, "Acme", "gold")
    assert [t["number"] for t in listed["tickets"]] == [number]


def test_a_patch_keeps_what_it_leaves_out_and_null_empties_a_field_or_an_attribute(
    desk: StaffDesk,
) -> None:
    sam = desk.signed_in("sam")
    made = sam.post(
        "/api/v1/customers",
        json={"name": "Kim", "tier": "gold", "attributes": {"plan": "pro", "seats": 3}},
    ).json()

    changed = sam.patch(
        f"/api/v1/customers/{made['id']}", json={"tier": None, "attributes": {"seats": None}}
    )

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["tier"], body["attributes"]) == ("Kim", None, {"plan": "pro"})
    with desk.runtime.db.unit_of_work() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.updated")
        ).one()
    assert event.actor == "agent:sam" and event.data["origin"]["via"] == "session"
    assert event.data["before"]["tier"] == "gold" and event.data["after"]["tier"] is None


def test_a_merge_through_the_api_moves_the_tickets_and_cannot_be_made_twice(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", None)
    jo = customer_at(desk.runtime, "jo@x.test")
    root = desk.with_token("root")
    other = root.post("/api/v1/customers", json={"name": "Jo Park"}).json()["id"]

    merged = root.post(f"/api/v1/customers/{jo}/merge", json={"into": other})

    assert merged.status_code == 200, merged.text
    assert [t["number"] for t in merged.json()["tickets"]] == [number]
    assert merged.json()["addresses"][0]["address"] == "jo@x.test"
    assert root.get(f"/api/v1/customers/{jo}").json()["merged_into"] == other
    twice = root.post(f"/api/v1/customers/{jo}/merge", json={"into": other})
    itself = root.post(f"/api/v1/customers/{other}/merge", json={"into": other})
    assert (twice.status_code, itself.status_code) == (422, 422)
    assert (
        desk.signed_in("ana")
        .post(f"/api/v1/customers/{other}/merge", json={"into": jo})
        .status_code
        == 403
    )
