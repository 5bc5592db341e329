"""Customers and organisations through the desk's use cases on SQLite and PostgreSQL: domains
link customers at ingest, tier and organisation reach the rules and SLA policies, a merge
moves tickets and addresses and is audited; and the migration turns the free organisation
names customers had into organisations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from connectors.web.schemas import TicketResponse
from router.customer_records import CustomerChanges, OrganisationChanges
from router.errors import AlreadyTaken
from router.vocabulary import Channel
from store.customers import CustomerRepository
from store.db import Database
from store.migrate import upgrade
from store.models import AuditEvent, SlaTimer, Ticket
from tests.conftest import make_settings
from tests.integration.test_cli import cli, cli_json, write_config
from tests.support.desk import Desk, desk_for
from workers.desk.customers import (
    create_customer,
    customer_at,
    customer_profile,
    merge_customers,
    update_customer,
)
from workers.desk.organisations import create_organisation, update_organisation

pytestmark = pytest.mark.integration

RULES = {
    "relaydesk_rules__all_match": '[{"name": "acme", "when": {"organisation": "Acme"},'
    ' "set": {"tags": ["acme"]}}]',
    "relaydesk_sla__policies": '[{"name": "gold", "when": {"tier": "gold"},'
    ' "calendar": "24x7", "first_response": "10m"},'
    ' {"name": "standard", "calendar": "24x7", "first_response": "1h"}]',
}


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url, **RULES))


def _policies(desk: Desk, number: int) -> set[str]:
    with desk.runtime.db.unit_of_work() as uow:
        return set(uow.session.scalars(select(SlaTimer.policy).where(SlaTimer.ticket_id == number)))


def _tags(desk: Desk, number: int) -> list[str]:
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(number)
        assert ticket is not None
        return list(ticket.tags)


def test_a_new_customer_from_an_organisations_domain_joins_it_and_its_tier_and_name_reach_the_rules(
    desk: Desk,
) -> None:
    create_organisation(desk.runtime, name="Acme", tier="gold", domains=("ACME.example",))

    number = desk.submit("w1", sender="jo@acme.example")
    other = desk.submit("w2", sender="lee@elsewhere.example", name="Lee")

    jo = customer_profile(desk.runtime, customer_at(desk.runtime, "jo@acme.example"))
    assert jo.organisation is not None and jo.organisation.name == "Acme"
    assert jo.tier == "gold" and jo.own_tier is None
    assert [t.number for t in jo.tickets] == [number]
    assert "acme" in _tags(desk, number) and _policies(desk, number) == {"gold"}
    assert "acme" not in _tags(desk, other) and _policies(desk, other) == {"standard"}
    # the requester's own read of the ticket names their organisation
    public = TicketResponse.from_view(desk.ticket(number))
    assert public.requester.organisation == "Acme"
    assert TicketResponse.from_view(desk.ticket(other)).requester.organisation is None


def test_a_customers_own_tier_set_by_staff_reaches_the_sla_policies_of_their_next_ticket(
    desk: Desk,
) -> None:
    first = desk.submit("w1", sender="lee@elsewhere.example", name="Lee")
    lee = customer_at(desk.runtime, "lee@elsewhere.example")
    update_customer(desk.runtime, lee, CustomerChanges(tier="gold"), actor="agent:sam")
    second = desk.submit("w2", sender="lee@elsewhere.example", name="Lee", subject="again")

    assert _policies(desk, first) == {"standard"} and _policies(desk, second) == {"gold"}
    with desk.runtime.db.unit_of_work() as uow:
        event = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer.updated")
        ).one()
    assert event.actor == "agent:sam"
    assert event.data["before"] == {"tier": None} and event.data["after"] == {"tier": "gold"}


def test_a_domain_added_later_takes_in_the_customers_of_no_organisation_writing_from_it(
    desk: Desk,
) -> None:
    desk.submit("w1", sender="jo@acme.example")
    desk.submit("w2", sender="kim@acme.example", name="Kim")
    globex = create_organisation(desk.runtime, name="Globex")
    kim = customer_at(desk.runtime, "kim@acme.example")
    update_customer(desk.runtime, kim, CustomerChanges(organisation_id=globex.id))
    acme = create_organisation(desk.runtime, name="Acme")

    update_organisation(desk.runtime, acme.id, OrganisationChanges(domains=("acme.example",)))

    jo = customer_profile(desk.runtime, customer_at(desk.runtime, "jo@acme.example"))
    assert jo.organisation is not None and jo.organisation.id == acme.id
    kept = customer_profile(desk.runtime, kim)
    assert kept.organisation is not None and kept.organisation.id == globex.id
    with pytest.raises(AlreadyTaken):
        update_organisation(desk.runtime, globex.id, OrganisationChanges(domains=("acme.example",)))


def test_merging_moves_tickets_and_addresses_keeps_the_survivors_profile_and_is_audited(
    desk: Desk,
) -> None:
    old = desk.submit("w1", sender="jo@home.example", name="Jo")
    new = desk.submit("w2", sender="jo.park@work.example", name="")
    home = customer_at(desk.runtime, "jo@home.example")
    work = customer_at(desk.runtime, "jo.park@work.example")
    update_customer(desk.runtime, home, CustomerChanges(tier="gold", attributes={"plan": "pro"}))
    update_customer(desk.runtime, work, CustomerChanges(attributes={"plan": "free", "seats": 3}))

    survivor = merge_customers(desk.runtime, home, work, actor="agent:sam")

    assert survivor.id == work and survivor.name == "Jo" and survivor.own_tier == "gold"
    assert dict(survivor.attributes) == {"plan": "free", "seats": 3}
    assert {i.address for i in survivor.identities} == {"jo@home.example", "jo.park@work.example"}
    assert sorted(t.number for t in survivor.tickets) == sorted([old, new])
    assert customer_at(desk.runtime, "jo@home.example") == work
    assert customer_profile(desk.runtime, home).merged_into == work
    with desk.runtime.db.unit_of_work() as uow:
        moved = uow.session.scalars(
            select(AuditEvent.ticket_id).where(AuditEvent.action == "ticket.requester_merged")
        ).all()
        requesters = set(uow.session.scalars(select(Ticket.requester_id)))
    assert moved == [old] and requesters == {work}
    with pytest.raises(ValueError, match="already merged"):
        merge_customers(desk.runtime, home, work)
    # a message from the old address now joins the survivor
    desk.submit("w3", sender="jo@home.example", name="Jo", subject="one more")
    assert len(customer_profile(desk.runtime, work).tickets) == 3


def test_an_address_belongs_to_one_customer(desk: Desk) -> None:
    desk.submit("w1", sender="jo@home.example")
    with pytest.raises(AlreadyTaken):
        create_customer(desk.runtime, name="Jo", addresses=[(Channel.EMAIL, "JO@home.example")])
    made = create_customer(
        desk.runtime, name="Kim", addresses=[(Channel.TELEGRAM, "620002")], tier="silver"
    )
    assert [(i.channel, i.address) for i in made.identities] == [("telegram", "620002")]


def test_the_migration_turns_the_free_organisation_names_into_organisations(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(db, "0013")
        at = datetime(2026, 1, 1, tzinfo=UTC).isoformat(sep=" ")
        with db.engine.begin() as conn:
            for name, organisation in (("Jo", "Acme"), ("Kim", "Acme"), ("Lee", None)):
                conn.execute(
                    text(
                        "INSERT INTO customers (name, organisation, created_at) VALUES (:n, :o, :t)"
                    ),
                    {"n": name, "o": organisation, "t": at},
                )
        upgrade(db)
        with db.engine.begin() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.name, o.name FROM customers c "
                    "LEFT JOIN organisations o ON o.id = c.organisation_id ORDER BY c.id"
                )
            ).all()
            organisations = conn.execute(text("SELECT count(*) FROM organisations")).scalar()
    finally:
        db.dispose()
    assert [tuple(r) for r in rows] == [("Jo", "Acme"), ("Kim", "Acme"), ("Lee", None)]
    assert organisations == 1


def test_the_command_line_creates_links_changes_and_merges_customers_as_claimed(
    database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, database_url)
    cli(config, "migrate")
    cli(config, "orgs", "create", "Acme", "--domain", "acme.example", "--tier", "gold")
    cli(config, "customers", "create", "Jo Park", "--email", "jo@acme.example", "--as", "ana")
    cli(config, "customers", "create", "Jo", "--email", "jo@home.example", "--attr", "seats=3")
    refused = cli(config, "customers", "create", "X", "--email", "JO@acme.example", ok=False)
    assert "belongs to customer" in refused.output

    cli(config, "customers", "update", "jo@acme.example", "--attr", "plan=pro", "--no-org")
    merged = cli(config, "customers", "merge", "jo@home.example", "jo@acme.example")
    shown = cli_json(config, "customers", "show", "jo@home.example")
    orgs = cli_json(config, "orgs", "list")

    assert "jo@home.example" in merged.output
    assert shown["attributes"] == {"plan": "pro", "seats": 3} and shown["organisation"] is None
    assert [(o["name"], o["domains"], o["customers"]) for o in orgs] == [
        ("Acme", ["acme.example"], 0)
    ]
    db = Database(database_url)
    try:
        with db.unit_of_work() as uow:
            created = uow.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "customer.created")
            ).first()
    finally:
        db.dispose()
    assert created is not None and created.data["origin"]["claimed_as"] == "ana"


def test_a_batchs_new_customers_are_made_in_two_statements_and_a_raced_address_keeps_one(
    desk: Desk,
) -> None:
    runtime = desk.runtime
    create_organisation(runtime, name="Acme", tier="gold", domains=("acme.example",))
    now = runtime.now()
    people = [
        ("Ana@acme.example", "Ana"),
        ("ana@acme.example", "Ana Souza"),  # the same address: the first name
        ("bo@else.example", ""),
        ("cy@else.example", "Cy"),
    ]
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    with runtime.db.unit_of_work() as uow:
        addresses = [a for a, _ in people]
        uow.customers.look_up(Channel.WEB, addresses)
        # cy gets an identity after the look-up, as another ingest's would (a repository
        # that knows nothing of this one's look-up)
        raced = CustomerRepository(uow.session).identify(Channel.EMAIL, "cy@else.example", "", now)
        event.listen(runtime.db.engine, "before_cursor_execute", count)
        try:
            uow.customers.create_missing(Channel.WEB, people, now)
            made = [uow.customers.identify(Channel.WEB, a, n, now) for a, n in people[:3]]
            cy = uow.customers.identify(Channel.WEB, "cy@else.example", "Cy", now)
        finally:
            event.remove(runtime.db.engine, "before_cursor_execute", count)
    ana, again, bo = made
    assert ana.id == again.id and ana.organisation == "Acme" and ana.tier == "gold"
    assert bo.organisation is None and bo.name == ""
    assert cy.id == raced.id  # the identity another transaction made wins
    # customers and identities: one INSERT each for the batch on PostgreSQL (SQLite cannot
    # return the new customers' ids in order from one statement: one INSERT each there),
    # the loser's customer row removed; ana's second name and cy's are written as identify
    # always does
    customers = 1 if runtime.db.dialect == "postgresql" else 3
    assert seen.count("INSERT") == customers + 1 and seen.count("DELETE") == 1
    assert customer_profile(runtime, customer_at(runtime, "ana@acme.example")).name == "Ana Souza"
    with runtime.db.unit_of_work() as uow:
        names = uow.session.execute(text("SELECT name FROM customers ORDER BY name")).scalars()
        assert list(names) == ["", "Ana Souza", "Cy"]  # no customer left without an identity


def test_a_lone_new_customer_is_made_in_one_statement_on_postgresql_and_a_raced_one_keeps_one(
    desk: Desk,
) -> None:
    runtime = desk.runtime
    create_organisation(runtime, name="Acme", tier="gold", domains=("acme.example",))
    now = runtime.now()
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    with runtime.db.unit_of_work() as uow:
        uow.customers.look_up(Channel.EMAIL, ["ana@acme.example", "cy@else.example"])
        # cy gets an identity after the look-up, as another ingest's would
        raced = CustomerRepository(uow.session).identify(Channel.EMAIL, "cy@else.example", "", now)
        event.listen(runtime.db.engine, "before_cursor_execute", count)
        try:
            ana = uow.customers.identify(Channel.EMAIL, "Ana@acme.example", "Ana", now)
            made = list(seen)
            cy = uow.customers.identify(Channel.EMAIL, "cy@else.example", "Cy", now)
        finally:
            event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert ana.organisation == "Acme" and ana.tier == "gold" and ana.made_here
    assert cy.id == raced.id and not cy.made_here  # the identity another transaction made
    # the customer and the identity: one statement on PostgreSQL (the customer's INSERT in
    # a CTE the identity's reads), two on SQLite; the domain was looked up with ana
    assert made == (["WITH"] if runtime.db.dialect == "postgresql" else ["INSERT", "INSERT"])
    assert "DELETE" in seen[len(made) :]  # cy's customer row made here, removed
    assert customer_profile(runtime, customer_at(runtime, "ana@acme.example")).name == "Ana"
    with runtime.db.unit_of_work() as uow:
        names = uow.session.execute(text("SELECT name FROM customers ORDER BY name")).scalars()
        assert list(names) == ["Ana", "Cy"]  # no customer left without an identity
