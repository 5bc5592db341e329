"""When delivery's record of a row sent is one statement (``sent_in_one_statement``)."""

from __future__ import annotations

from datetime import UTC, datetime

from router.vocabulary import AuditAction, SystemActor
from store.audit import make_event
from store.outbox_sent import sent_in_one_statement

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _event(action: AuditAction) -> dict[str, object]:
    return make_event(
        ticket_id=7,
        actor=SystemActor.DELIVER,
        action=action,
        now=NOW,
        data={"outbox_id": 1},
        config_version=None,
    )


def test_a_record_with_its_event_is_one_statement_on_postgresql_only() -> None:
    event = _event(AuditAction.OUTBOX_SENT)
    assert sent_in_one_statement("postgresql", event=event, token="t")
    assert not sent_in_one_statement("sqlite", event=event, token="t")  # INSERT after


def test_a_record_without_an_event_is_one_statement_on_both() -> None:
    assert sent_in_one_statement("postgresql", event=None, token="t")
    assert sent_in_one_statement("sqlite", event=None, token="t")


def test_a_record_without_a_claims_token_is_not() -> None:
    assert not sent_in_one_statement("postgresql", event=None, token=None)


def test_an_event_that_tells_a_webhook_needs_the_unit_of_work() -> None:
    assert not sent_in_one_statement(
        "postgresql", event=_event(AuditAction.TICKET_CREATED), token="t"
    )
