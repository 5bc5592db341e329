"""The whole pipeline in one process (stub broker, real worker threads) on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.envelopes import InboundMessage
from router.errors import PermanentError, TransientError
from router.vocabulary import AgentStatus, Channel, Priority, RowState, Status
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from workers.desk.agents import set_agent_status
from workers.desk.ticket_status import set_ticket_status
from workers.runtime.scheduler import Scheduler


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    settings = make_settings(
        database_url, **FAST_RETRIES, relaydesk_retries__deliver__max_attempts="3"
    )
    yield from desk_for(settings)


def test_a_web_request_becomes_an_assigned_ticket_and_both_sides_are_told(desk: Desk) -> None:
    number = desk.submit("w1", subject="Printer on fire", body="smoke everywhere")
    view = desk.ticket(number)
    assert view.status == "open" and view.assignee in ("ana", "ben")
    ack = desk.sender.to("jo@example.org")
    assert len(ack) == 1 and f"[#{number}]" in ack[0].subject and ack[0].automatic
    notice = desk.sender.to(f"{view.assignee}@relaydesk.localhost")
    assert len(notice) == 1 and "smoke everywhere" in notice[0].body_text
    with desk.runtime.db.unit_of_work() as uow:
        actions = [e.action for e in uow.audit.for_ticket(number)]
    assert actions[:3] == ["ticket.created", "sla.policy", "outbox.queued"]  # demo SLA
    assert "ticket.assigned" in actions and actions.count("outbox.sent") == 2


def test_the_same_submission_twice_is_one_ticket_and_one_acknowledgement(desk: Desk) -> None:
    first = desk.submit("dup")
    second = desk.submit("dup")
    assert first == second
    assert len(desk.sender.to("jo@example.org")) == 1


def test_the_same_key_with_other_content_is_a_conflict_not_a_duplicate(desk: Desk) -> None:
    first = desk.intake.accept(
        InboundMessage(
            channel=Channel.WEB, idempotency_key="web:k", sender_address="a@x.org", body_text="one"
        )
    )
    again = desk.intake.accept(
        InboundMessage(
            channel=Channel.WEB, idempotency_key="web:k", sender_address="b@x.org", body_text="two"
        )
    )
    assert not first.conflict and again.conflict and again.access_key is None


def test_a_reply_with_the_subject_tag_from_the_requester_joins_the_ticket(desk: Desk) -> None:
    number = desk.submit("t1")
    again = desk.submit(
        "t2", channel=Channel.EMAIL, subject=f"Re: [#{number}] help", body="more details"
    )
    assert again == number
    assert [m.body_text for m in desk.ticket(number).messages] == ["it is broken", "more details"]
    assert len(desk.sender.to("jo@example.org")) == 1  # no second acknowledgement


def test_a_subject_tag_from_a_stranger_opens_a_new_ticket(desk: Desk) -> None:
    number = desk.submit("t1")
    other = desk.submit(
        "t2", channel=Channel.EMAIL, sender="mallory@example.net", subject=f"[#{number}] hijack"
    )
    assert other != number


def test_a_web_form_with_a_subject_tag_opens_a_new_ticket_even_from_the_same_address(
    desk: Desk,
) -> None:
    number = desk.submit("t1")
    assert desk.submit("t2", subject=f"[#{number}] anyone can type this") != number


def test_a_reply_to_our_message_id_joins_the_ticket_whatever_the_subject(desk: Desk) -> None:
    number = desk.submit("m1")
    ack = desk.sender.to("jo@example.org")[0]
    joined = desk.submit(
        "m2", channel=Channel.EMAIL, subject="no tag here", in_reply_to=(ack.message_id,)
    )
    assert joined == number


def test_a_reply_to_a_resolved_ticket_reopens_it_and_one_to_a_closed_ticket_starts_anew(
    desk: Desk,
) -> None:
    number = desk.submit("r1")
    set_ticket_status(desk.runtime, number, Status.RESOLVED)
    assert desk.submit("r2", channel=Channel.EMAIL, subject=f"[#{number}] still broken") == number
    assert desk.ticket(number).status == "open"
    set_ticket_status(desk.runtime, number, Status.CLOSED)
    follow_up = desk.submit("r3", channel=Channel.EMAIL, subject=f"[#{number}] broken again")
    assert follow_up != number
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.tickets.get(follow_up).parent_id == number  # type: ignore[union-attr]


def test_an_automatic_message_answering_nothing_is_kept_quietly_without_a_ticket(
    desk: Desk,
) -> None:
    assert desk.submit("auto", channel=Channel.EMAIL, is_automatic=True, subject="Away") == 0
    assert desk.sender.sent == []
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.inbox.recent()[0].state == RowState.QUIET.value
        assert uow.tickets.recent() == []


def test_an_auto_reply_to_a_resolved_ticket_is_recorded_but_reopens_nothing(
    desk: Desk,
) -> None:
    number = desk.submit("a1")
    ack = desk.sender.to("jo@example.org")[0]
    set_ticket_status(desk.runtime, number, Status.RESOLVED)
    with desk.runtime.db.unit_of_work() as uow:
        load = uow.agents.by_name(desk.ticket(number).assignee).load  # type: ignore[union-attr]
    joined = desk.submit(
        "a2",
        channel=Channel.EMAIL,
        is_automatic=True,
        subject="Auto: out of office",
        in_reply_to=(ack.message_id,),
        body="I am away until Monday",
    )
    assert joined == number
    view = desk.ticket(number)
    assert view.status == "resolved"
    assert [m.body_text for m in view.messages][-1] == "I am away until Monday"
    # the acknowledgement, the assignment and the resolution's notice: nothing new
    assert len(desk.sender.sent) == 3
    with desk.runtime.db.unit_of_work() as uow:
        agent = uow.agents.by_name(view.assignee or "")
        assert agent is not None and agent.load == load
    set_ticket_status(desk.runtime, number, Status.CLOSED)
    again = desk.submit(
        "a3",
        channel=Channel.EMAIL,
        is_automatic=True,
        subject="Auto: out of office",
        in_reply_to=(ack.message_id,),
    )
    assert again == number  # recorded on the closed ticket, no new ticket for a robot


def test_an_unreadable_inbox_row_is_kept_with_its_reason_and_not_retried(desk: Desk) -> None:
    runtime = desk.runtime
    with runtime.db.unit_of_work() as uow:
        accepted = uow.inbox.accept(
            InboundMessage(
                channel=Channel.WEB, idempotency_key="bad", sender_address="x@y.z", body_text=""
            ),
            now=runtime.now(),
            redrive_after=runtime.redrive_after,
        )
        item = uow.inbox.get(accepted.inbox_id)
        assert item is not None
        item.payload = {"channel": "web", "idempotency_key": "bad"}  # the sender is lost
    runtime.enqueue_ingest(accepted.inbox_id, Channel.WEB)
    desk.settle()
    with runtime.db.unit_of_work() as uow:
        item = uow.inbox.get(accepted.inbox_id)
        assert item is not None and item.state == RowState.FAILED.value
        assert item.attempts == 1 and "unreadable inbox payload" in (item.error or "")


def test_a_temporary_send_failure_is_retried_and_then_delivered(desk: Desk) -> None:
    desk.sender.failures.append(TransientError("451 try later"))
    number = desk.submit("tf")
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.outbox.recent(ticket_id=number)
    assert {r.state for r in rows} == {RowState.DONE.value}
    assert max(r.attempts for r in rows) == 2


def test_a_permanent_send_failure_is_recorded_on_the_row_and_in_the_audit_log(
    desk: Desk,
) -> None:
    desk.sender.failures.append(PermanentError("550 no such user"))
    number = desk.submit("pf")
    with desk.runtime.db.unit_of_work() as uow:
        failed = [r for r in uow.outbox.recent(ticket_id=number) if r.state == "failed"]
        audit = [e for e in uow.audit.for_ticket(number) if e.action == "outbox.failed"]
    assert len(failed) == 1 and "550 no such user" in (failed[0].error or "")
    assert failed[0].attempts == 1
    assert len(audit) == 1


def test_a_send_cut_off_by_the_time_limit_every_time_ends_failed_not_retried_forever(
    desk: Desk,
) -> None:
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    desk.sender.failures.extend(TimeLimitExceeded() for _ in range(6))  # 3 tries x 2 rows
    number = desk.submit("slow")
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.outbox.recent(ticket_id=number)
    assert [(r.state, r.attempts) for r in rows] == [(RowState.FAILED.value, 3)] * 2
    assert all("TimeLimitExceeded" in (r.error or "") for r in rows)
    assert desk.sender.failures == [] and desk.sender.sent == []


def test_a_full_team_keeps_tickets_waiting_and_drains_them_by_priority_when_a_slot_frees(
    desk: Desk,
) -> None:
    set_agent_status(desk.runtime, "ben", AgentStatus.OFFLINE)
    taken = [desk.submit(f"fill{i}", sender=f"c{i}@x.org") for i in range(5)]  # ana: 5/5
    low = desk.submit("low", sender="low@x.org", priority_hint=Priority.LOW)
    urgent = desk.submit("urgent", sender="urg@x.org", priority_hint=Priority.URGENT)
    assert desk.ticket(low).assignee is None and desk.ticket(urgent).assignee is None
    set_ticket_status(desk.runtime, taken[0], Status.RESOLVED)
    desk.settle()
    assert desk.ticket(urgent).assignee == "ana"
    assert desk.ticket(low).assignee is None
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.agents.by_name("ana").load == 5  # type: ignore[union-attr]
        waiting = [e.detail for e in uow.audit.for_ticket(low) if e.action == "ticket.waiting"]
    assert waiting and "ben: offline" in waiting[0] and "ana: full 5/5" in waiting[0]
    set_agent_status(desk.runtime, "ben", AgentStatus.ONLINE)
    desk.settle()
    assert desk.ticket(low).assignee == "ben"


def test_a_lost_broker_message_is_redriven_by_the_scheduler(desk: Desk) -> None:
    runtime = desk.runtime
    with runtime.db.unit_of_work() as uow:  # accepted, but the ingest message was never sent
        accepted = uow.inbox.accept(
            InboundMessage(
                channel=Channel.WEB,
                idempotency_key="lost",
                sender_address="jo@example.org",
                subject="lost",
                body_text="x",
            ),
            now=runtime.now(),
            redrive_after=runtime.redrive_after,
        )
    scheduler = Scheduler(runtime)
    assert scheduler.sweep().inbox == 0  # not due yet
    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + runtime.redrive_after * 2
    try:
        assert scheduler.sweep().inbox == 1
        assert scheduler.sweep().inbox == 0  # claimed: a second scheduler finds nothing
        desk.settle()
    finally:
        runtime.clock = real_clock
    receipt = desk.intake.receipt(accepted.inbox_id)
    assert receipt is not None and receipt.ticket_number is not None
    assert desk.ticket(receipt.ticket_number).assignee is not None


def test_the_name_given_last_is_the_requesters_name_and_no_name_keeps_it(desk: Desk) -> None:
    first = desk.submit("n1", sender="jo@example.org", name="Jo")
    second = desk.submit("n2", sender="jo@example.org", name="Jo Park")
    desk.submit("n3", sender="jo@example.org", name="")

    assert desk.ticket(second).requester_name == "Jo Park"
    assert desk.ticket(first).requester_name == "Jo Park"  # one person, one name
