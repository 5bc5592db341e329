"""The store on both SQLite and PostgreSQL: idempotency, atomic claims, re-drive sweeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from router.envelopes import InboundMessage, OutboundMessage
from router.vocabulary import AgentStatus, AuditAction, Channel, OutboxKind, RowState, SystemActor
from store.db import Database
from store.models import AuditEvent, Base, OutboxItem
from store.ticket_search import SEARCH_INDEXES, SEARCH_TABLES
from tests.support.index_conditions import index_conditions

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def inbound(key: str = "k1", sender: str = "jo@example.org") -> InboundMessage:
    return InboundMessage(
        channel=Channel.WEB, idempotency_key=key, sender_address=sender, body_text="hello"
    )


def outbound(message_id: str) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.EMAIL,
        recipient="jo@x.org",
        subject="s",
        body_text="b",
        message_id=message_id,
    )


def _described_by_models(name: str | None, kind: str, parent: object) -> bool:
    """The search indexes and FTS5 tables are migration 0017's alone (store.ticket_search)."""
    if kind == "index":
        return name not in SEARCH_INDEXES
    if kind == "table":
        return not (name or "").startswith(tuple(SEARCH_TABLES))  # FTS5's shadow tables too
    return True


def test_migrations_produce_exactly_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _described_by_models})
        assert compare_metadata(context, Base.metadata) == []
        # which it does not compare: the partial indexes' conditions, in the database's words
        built, modelled = index_conditions(conn, Base.metadata)
    assert [name for name, condition in modelled.items() if condition] != []  # some to compare
    assert built == modelled


def test_a_second_delivery_of_the_same_idempotency_key_is_a_no_op(db: Database) -> None:
    with db.unit_of_work() as uow:
        first = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE)
    with db.unit_of_work() as uow:
        second = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE)
        assert len(uow.inbox.recent()) == 1
    assert first.created and not second.created
    assert first.inbox_id == second.inbox_id


def test_the_same_key_on_another_channel_is_another_message(db: Database) -> None:
    other = InboundMessage(
        channel=Channel.EMAIL, idempotency_key="k1", sender_address="a@b.c", body_text="x"
    )
    with db.unit_of_work() as uow:
        assert uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE).created
        assert uow.inbox.accept(other, now=NOW, redrive_after=MINUTE).created


def test_messages_accepted_together_are_stored_once_each_in_their_order(db: Database) -> None:
    with db.unit_of_work() as uow:
        before = uow.inbox.accept(inbound("k0"), now=NOW, redrive_after=MINUTE)
    batch = [
        (inbound("k1"), b"raw one"),
        (inbound("k0"), b"raw again"),  # seen in an earlier transaction
        (inbound("k2"), None),
        (inbound("k1"), b"raw twice"),  # seen earlier in this batch
        (inbound("k3", sender="al@example.org"), b"raw three"),
    ]
    with db.unit_of_work() as uow:
        accepted = uow.inbox.accept_many(batch, now=NOW, redrive_after=MINUTE)
    assert [a.created for a in accepted] == [True, False, True, False, True]
    assert accepted[1].inbox_id == before.inbox_id
    assert accepted[3].inbox_id == accepted[0].inbox_id
    assert len({a.inbox_id for a in accepted}) == 4
    with db.unit_of_work() as uow:
        rows = {item.id: item for item in uow.inbox.recent()}
        assert len(rows) == 4
        assert rows[accepted[0].inbox_id].raw == b"raw one"
        assert rows[accepted[2].inbox_id].raw is None
        three = rows[accepted[4].inbox_id]
        assert (three.idempotency_key, three.raw) == ("k3", b"raw three")
        assert three.payload["sender_address"] == "al@example.org"
        assert three.state == RowState.PENDING.value
        assert three.available_at == NOW + MINUTE
        assert uow.inbox.accept_many([], now=NOW, redrive_after=MINUTE) == []


def test_raw_mail_is_compressed_with_lz4_where_the_server_has_it(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL column setting")
    with db.engine.connect() as conn:
        has_lz4 = conn.scalar(
            text(
                "SELECT count(*) FROM pg_settings WHERE name = 'default_toast_compression' "
                "AND 'lz4' = ANY(enumvals)"
            )
        )
        method = conn.scalar(
            text(
                "SELECT attcompression FROM pg_attribute "
                "WHERE attrelid = 'inbox'::regclass AND attname = 'raw'"
            )
        )
    assert has_lz4, "this PostgreSQL has no lz4: the test cannot tell"
    assert method == "l"


def test_timestamps_come_back_timezone_aware_utc(db: Database) -> None:
    with db.unit_of_work() as uow:
        accepted = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE)
    with db.unit_of_work() as uow:
        item = uow.inbox.get(accepted.inbox_id)
        assert item is not None and item.received_at == NOW and item.received_at.tzinfo is not None


def test_a_claimed_inbox_row_cannot_be_claimed_again_and_a_rollback_releases_it(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE).inbox_id
    try:
        with db.unit_of_work() as uow:
            assert uow.inbox.claim(inbox_id, NOW) is not None
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    with db.unit_of_work() as uow:
        assert uow.inbox.claim(inbox_id, NOW) is not None
    with db.unit_of_work() as uow:
        assert uow.inbox.claim(inbox_id, NOW) is None


def test_a_claim_brings_the_rows_raw_bytes_and_reading_them_then_asks_nothing_more(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        kept = uow.inbox.accept(inbound("k1"), now=NOW, redrive_after=MINUTE, raw=b"mail one")
        bare = uow.inbox.accept(inbound("k2"), now=NOW, redrive_after=MINUTE)
        other = uow.inbox.accept(inbound("k3"), now=NOW, redrive_after=MINUTE, raw=b"mail three")
    ids = [kept.inbox_id, bare.inbox_id]
    tally = db.count_statements()
    with db.unit_of_work() as uow:
        assert sorted(uow.inbox.claim_many(ids, NOW)) == ids
        claimed = tally.statements
        assert uow.inbox.raws(ids) == {kept.inbox_id: b"mail one"}
        assert uow.inbox.raw(kept.inbox_id) == b"mail one"
        assert uow.inbox.raw(bare.inbox_id) is None  # kept none, as the claim said
        assert tally.statements == claimed  # read with the claim
        assert uow.inbox.raws([kept.inbox_id, other.inbox_id]) == {
            kept.inbox_id: b"mail one",
            other.inbox_id: b"mail three",  # not claimed here: read from the store
        }


def test_failures_are_counted_and_the_row_fails_for_good_when_attempts_run_out(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE).inbox_id
    states = []
    for attempt in range(1, 4):
        with db.unit_of_work() as uow:
            assert (
                uow.inbox.begin_attempts([inbox_id], now=NOW, lease=MINUTE).get(inbox_id) == attempt
            )
        with db.unit_of_work() as uow:
            states.append(
                uow.inbox.record_failure(
                    inbox_id, error="boom", permanent=False, max_attempts=3, now=NOW
                )
            )
    assert states == [RowState.PENDING, RowState.PENDING, RowState.FAILED]
    with db.unit_of_work() as uow:
        assert uow.inbox.begin_attempts([inbox_id], now=NOW, lease=MINUTE).get(inbox_id) is None
        item = uow.inbox.get(inbox_id)
        assert item is not None and item.error == "boom" and item.attempts == 3
        assert uow.inbox.retry(inbox_id, NOW)
    with db.unit_of_work() as uow:
        assert uow.inbox.get(inbox_id).state == RowState.PENDING.value  # type: ignore[union-attr]


def test_two_concurrent_claims_never_take_an_agent_past_capacity(db: Database) -> None:
    with db.unit_of_work() as uow:
        agent = uow.agents.add(
            name="ana",
            email="ana@x.org",
            capacity=3,
            status=AgentStatus.ONLINE,
            now=NOW,
            teams=("support",),
        )
        agent_id = agent.id
    wins = []
    lock = threading.Lock()

    def claim() -> None:
        for _ in range(5):
            with db.unit_of_work() as uow:
                if uow.agents.claim_slot(agent_id, NOW):
                    with lock:
                        wins.append(1)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.unit_of_work() as uow:
        assert uow.agents.by_name("ana").load == 3  # type: ignore[union-attr]
    assert len(wins) == 3


def test_an_away_agent_cannot_be_claimed(db: Database) -> None:
    with db.unit_of_work() as uow:
        agent_id = uow.agents.add(name="ben", email="b@x.org", status=AgentStatus.AWAY, now=NOW).id
    with db.unit_of_work() as uow:
        assert not uow.agents.claim_slot(agent_id, NOW)


def test_one_customer_per_address_even_when_first_contacts_race(db: Database) -> None:
    barrier = threading.Barrier(4)
    ids = []

    def identify() -> None:
        barrier.wait()
        with db.unit_of_work() as uow:
            ids.append(uow.customers.identify(Channel.EMAIL, "Jo@Example.org", "Jo", NOW).id)

    threads = [threading.Thread(target=identify) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1


def test_a_web_requester_and_an_email_sender_with_one_address_are_one_customer(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        web = uow.customers.identify(Channel.WEB, "jo@example.org", "Jo", NOW)
        mail = uow.customers.identify(Channel.EMAIL, "JO@example.org", "", NOW)
        assert web.id == mail.id


def test_customers_looked_up_together_are_the_ones_identify_finds(db: Database) -> None:
    with db.unit_of_work() as uow:
        known = uow.customers.identify(Channel.EMAIL, "jo@example.org", "Jo", NOW)
    with db.unit_of_work() as uow:
        uow.customers.look_up(Channel.WEB, ["JO@example.org", "new@example.org"])
        assert uow.customers.identify(Channel.EMAIL, "jo@example.org", "", NOW) == known
        created = uow.customers.identify(Channel.EMAIL, "New@example.org", "New", NOW)
        assert uow.customers.identify(Channel.WEB, "new@example.org", "", NOW) == created
        assert created.id != known.id and created.name == "New"
    with db.unit_of_work() as uow:  # and it was stored, once
        assert uow.customers.identify(Channel.EMAIL, "new@example.org", "", NOW) == created


def test_a_looked_up_customer_whose_address_starts_or_stops_bouncing_is_seen_so(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        uow.customers.identify(Channel.EMAIL, "jo@example.org", "Jo", NOW)
    with db.unit_of_work() as uow:
        uow.customers.look_up(Channel.EMAIL, ["jo@example.org"])
        uow.customers.flag_bounced("Jo@Example.org", "550 gone", NOW)
        assert uow.customers.identify(Channel.EMAIL, "jo@example.org", "", NOW).bounced
        assert uow.customers.bounces(["jo@example.org", "x@example.org"], lock=True) == {
            "jo@example.org": "550 gone"
        }
        uow.customers.clear_bounce("jo@example.org")
        assert not uow.customers.identify(Channel.EMAIL, "jo@example.org", "", NOW).bounced
        assert uow.customers.bounces(["jo@example.org"]) == {}


def test_automatic_replies_are_counted_per_recipient_in_one_query(db: Database) -> None:
    with db.unit_of_work() as uow:
        for i, (recipient, automatic, minutes_ago) in enumerate(
            [
                ("a@x.org", True, 1),
                ("a@x.org", True, 2),
                ("a@x.org", False, 1),
                ("a@x.org", True, 90),
                ("b@x.org", True, 1),
            ]
        ):
            item = OutboundMessage(
                channel=Channel.EMAIL,
                recipient=recipient,
                subject="s",
                body_text="b",
                message_id=f"<{i}@x.org>",
                automatic=automatic,
            )
            uow.outbox.add(
                item,
                kind=OutboxKind.ACKNOWLEDGEMENT,
                ticket_id=None,
                now=NOW - minutes_ago * MINUTE,
                redrive_after=MINUTE,
            )
    with db.unit_of_work() as uow:
        since = NOW - 60 * MINUTE
        counts = uow.outbox.automatic_since(["b@x.org", "a@x.org", "c@x.org", "a@x.org"], since)
        assert counts == {"a@x.org": 2, "b@x.org": 1, "c@x.org": 0}
        assert uow.outbox.automatic_since([], since) == {}


def test_two_racing_sweeps_redrive_disjoint_rows(db: Database) -> None:
    with db.unit_of_work() as uow:
        for i in range(40):
            uow.inbox.accept(inbound(f"k{i}"), now=NOW, redrive_after=timedelta(0))
    later = NOW + timedelta(seconds=1)
    results: list[list[tuple[int, str]]] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        with db.unit_of_work() as uow:
            results.append(uow.inbox.due_for_redrive(now=later, again_after=MINUTE, limit=30))

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.unit_of_work() as uow:  # whatever both left is taken by the next sweep
        results.append(uow.inbox.due_for_redrive(now=later, again_after=MINUTE, limit=100))
    ids = [row[0] for batch in results for row in batch]
    assert len(ids) == len(set(ids)) == 40
    with db.unit_of_work() as uow:
        assert uow.inbox.due_for_redrive(now=later, again_after=MINUTE, limit=100) == []


def test_an_outbox_delivery_lease_expires_and_is_redriven(db: Database) -> None:
    message = outbound("<m1@relaydesk>")
    with db.unit_of_work() as uow:
        outbox_id = uow.outbox.add(
            message,
            kind=OutboxKind.ACKNOWLEDGEMENT,
            ticket_id=None,
            now=NOW,
            redrive_after=MINUTE,
            dedupe_key="ack:1",
        )
        assert outbox_id is not None
        assert (
            uow.outbox.add(
                message,
                kind=OutboxKind.ACKNOWLEDGEMENT,
                ticket_id=None,
                now=NOW,
                redrive_after=MINUTE,
                dedupe_key="ack:1",
            )
            is None
        )
    with db.unit_of_work() as uow:
        assert uow.outbox.claim(outbox_id, now=NOW, lease=MINUTE) is not None
    with db.unit_of_work() as uow:
        assert uow.outbox.claim(outbox_id, now=NOW, lease=MINUTE) is None
        assert uow.outbox.due_for_redrive(now=NOW, again_after=MINUTE, limit=10) == []
    after_lease = NOW + 2 * MINUTE
    with db.unit_of_work() as uow:
        assert uow.outbox.due_for_redrive(now=after_lease, again_after=MINUTE, limit=10) == [
            (outbox_id, "email")
        ]
    with db.unit_of_work() as uow:
        assert uow.outbox.claim(outbox_id, now=after_lease, lease=MINUTE) is not None
        uow.outbox.mark_sent(outbox_id, external_id="<m1@relaydesk>", now=after_lease)
    with db.unit_of_work() as uow:
        item = uow.outbox.get(outbox_id)
        assert item is not None and item.attempts == 2  # each claim counted one attempt
        assert item.state == RowState.DONE.value


def test_a_row_never_picked_up_is_redriven_forever_but_never_failed(db: Database) -> None:
    with db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(inbound(), now=NOW, redrive_after=timedelta(0)).inbox_id
    for i in range(10):  # the workers are down for a long time: nothing is lost
        at = NOW + timedelta(minutes=2 * i)
        with db.unit_of_work() as uow:
            assert uow.inbox.give_up_exhausted(now=at, max_attempts=3) == []
            assert uow.inbox.due_for_redrive(now=at, again_after=MINUTE, limit=10) == [
                (inbox_id, "web")
            ]
    with db.unit_of_work() as uow:
        item = uow.inbox.get(inbox_id)
        assert item is not None and item.state == RowState.PENDING.value and item.attempts == 0


def test_a_row_whose_attempts_all_died_unreported_is_failed_by_the_sweep(db: Database) -> None:
    with db.unit_of_work() as uow:
        inbox_id = uow.inbox.accept(inbound(), now=NOW, redrive_after=MINUTE).inbox_id
    for i in range(3):  # three attempts start; each worker is killed before it reports
        with db.unit_of_work() as uow:
            uow.inbox.begin_attempts([inbox_id], now=NOW + 2 * i * MINUTE, lease=MINUTE).get(
                inbox_id
            )
    with db.unit_of_work() as uow:  # the last attempt's lease has not run out yet
        assert uow.inbox.give_up_exhausted(now=NOW + 4 * MINUTE, max_attempts=3) == []
    with db.unit_of_work() as uow:
        assert uow.inbox.give_up_exhausted(now=NOW + 6 * MINUTE, max_attempts=3) == [inbox_id]
    with db.unit_of_work() as uow:
        item = uow.inbox.get(inbox_id)
        assert item is not None and item.state == RowState.FAILED.value
        assert "gave up: unfinished after 3 attempts" in (item.error or "")


def test_an_outbox_row_out_of_attempts_cannot_be_claimed_and_is_failed_by_the_sweep(
    db: Database,
) -> None:
    message = outbound("<m2@relaydesk>")
    with db.unit_of_work() as uow:
        outbox_id = uow.outbox.add(
            message, kind=OutboxKind.ACKNOWLEDGEMENT, ticket_id=None, now=NOW, redrive_after=MINUTE
        )
    assert outbox_id is not None
    for i in range(2):  # two claims whose worker never reports back (killed mid-send)
        with db.unit_of_work() as uow:
            assert (
                uow.outbox.claim(outbox_id, now=NOW + 3 * i * MINUTE, lease=MINUTE, max_attempts=2)
                is not None
            )
    later = NOW + 10 * MINUTE
    with db.unit_of_work() as uow:
        assert uow.outbox.claim(outbox_id, now=later, lease=MINUTE, max_attempts=2) is None
        assert uow.outbox.give_up_exhausted(now=later, max_attempts=2) == [
            (outbox_id, None, "jo@x.org")
        ]
    with db.unit_of_work() as uow:
        item = uow.outbox.get(outbox_id)
        assert item is not None and item.state == RowState.FAILED.value


def test_the_audit_log_and_the_outbox_take_only_their_vocabulary_and_store_its_words(
    db: Database,
) -> None:
    with db.unit_of_work() as uow:
        uow.audit.record(
            ticket_id=None, actor=SystemActor.ROUTE, action=AuditAction.TICKET_WAITING, now=NOW
        )
        added = uow.outbox.add(
            outbound("<vocabulary@x.org>"),
            kind=OutboxKind.SLA_BREACHED,
            ticket_id=None,
            now=NOW,
            redrive_after=MINUTE,
        )
        with pytest.raises(ValueError, match=r"ticket\.waited"):
            uow.audit.record(ticket_id=None, actor="cli", action="ticket.waited", now=NOW)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="acknowledgment"):
            uow.outbox.add(
                outbound("<typo@x.org>"),
                kind="acknowledgment",  # type: ignore[arg-type]
                ticket_id=None,
                now=NOW,
                redrive_after=MINUTE,
            )
    with db.unit_of_work() as uow:
        events = uow.session.execute(select(AuditEvent.actor, AuditEvent.action)).all()
        kinds = uow.session.scalars(select(OutboxItem.kind).where(OutboxItem.id == added)).all()
    assert [tuple(e) for e in events] == [("system:route", "ticket.waiting")]
    assert kinds == ["sla_breached"]
