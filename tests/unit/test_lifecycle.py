from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.errors import InvalidTransition
from router.lifecycle import (
    ACTIVE_STATUSES,
    DONE_STATUSES,
    ROUTABLE_STATUSES,
    can_transition,
    check_transition,
    is_active,
    status_after_customer_reply,
)
from router.vocabulary import Status


def test_the_happy_path_new_open_pending_resolved_closed_is_allowed() -> None:
    path = [Status.NEW, Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED]
    for current, target in itertools.pairwise(path):
        assert check_transition(current, target) is target


def test_a_resolved_ticket_can_be_reopened() -> None:
    assert can_transition(Status.RESOLVED, Status.OPEN)


def test_a_closed_ticket_cannot_change_and_the_error_says_why() -> None:
    with pytest.raises(InvalidTransition, match="a closed ticket cannot become open"):
        check_transition(Status.CLOSED, Status.OPEN)


def test_a_pending_ticket_cannot_go_back_to_new() -> None:
    assert not can_transition(Status.PENDING, Status.NEW)


@given(st.sampled_from(list(Status)))
def test_a_customer_reply_never_leaves_a_ticket_pending_or_resolved(status: Status) -> None:
    after = status_after_customer_reply(status)
    if status is Status.CLOSED:
        assert after is None
    else:
        assert after in (Status.NEW, Status.OPEN)
        assert after is status or can_transition(status, after)


def test_only_new_open_and_pending_tickets_hold_an_agent_slot() -> None:
    assert [s for s in Status if is_active(s)] == [Status.NEW, Status.OPEN, Status.PENDING]


def test_every_status_is_either_active_or_done_and_routing_takes_only_active_ones() -> None:
    assert sorted(ACTIVE_STATUSES + DONE_STATUSES) == sorted(Status)
    assert set(ROUTABLE_STATUSES) <= set(ACTIVE_STATUSES)
    assert [s for s in Status if is_active(s)] == list(ACTIVE_STATUSES)
