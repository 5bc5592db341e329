"""The staff ticket list's cursors and an edit's changes: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.sla_clock import SlaTargets, TicketClocks, retarget, start_timer
from router.ticket_edits import TicketEdit, TicketFields, describe, edited, replans_clocks
from router.ticket_list import ORDER_KEYS, TicketOrder, decode_cursor, encode_cursor

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def key_for(order: TicketOrder, at: datetime, number: int, rank: int) -> tuple[int | str, ...]:
    values: dict[str, int | str] = {"updated_at": at.isoformat(), "created_at": at.isoformat()}
    values |= {"priority_rank": rank, "number": number, "rank": rank * 300_000_000}
    return tuple(values[name] for name, _ in ORDER_KEYS[order])


@given(
    order=st.sampled_from(list(TicketOrder)),
    seconds=st.integers(0, 10**9),
    number=st.integers(1, 2**31 - 1),
    rank=st.integers(0, 3),
)
def test_a_cursor_gives_back_the_sort_values_it_was_made_of(
    order: TicketOrder, seconds: int, number: int, rank: int
) -> None:
    key = key_for(order, NOW + timedelta(seconds=seconds), number, rank)
    assert decode_cursor(order, encode_cursor(order, key)) == key


def test_a_cursor_is_refused_by_another_order_and_when_edited() -> None:
    cursor = encode_cursor(TicketOrder.CREATED, (NOW.isoformat(), 7))
    assert decode_cursor(TicketOrder.CREATED, cursor) == (NOW.isoformat(), 7)
    with pytest.raises(ValueError):
        decode_cursor(TicketOrder.UPDATED, cursor)
    for junk in (cursor[:-3], cursor + "A", "%%%", encode_cursor(TicketOrder.CREATED, ("x", 7))):
        with pytest.raises(ValueError):
            decode_cursor(TicketOrder.CREATED, junk)
    naive = encode_cursor(TicketOrder.CREATED, (NOW.replace(tzinfo=None).isoformat(), 7))
    with pytest.raises(ValueError):
        decode_cursor(TicketOrder.CREATED, naive)


FIELDS = TicketFields("normal", "general", "support", ("a",), {"k": 1})


def test_an_edit_changes_only_what_differs_and_says_how() -> None:
    after, changes = edited(FIELDS, TicketEdit(priority="normal", tags=("a", " b ", "a", "")))
    assert after.tags == ("a", "b")
    assert [c.name for c in changes] == ["tags"]
    assert describe(changes) == "tags a -> a, b"
    assert not replans_clocks(changes)
    _, changes = edited(FIELDS, TicketEdit(team="billing", custom_fields={"k": None, "n": "x"}))
    assert [c.name for c in changes] == ["team", "custom_fields"]
    assert describe(changes) == "team support -> billing; custom_fields k=1 -> n=x"
    assert replans_clocks(changes)
    assert edited(FIELDS, TicketEdit()) == (FIELDS, ())
    with pytest.raises(ValueError):
        edited(FIELDS, TicketEdit(tags=tuple(f"t{i}" for i in range(51))))


def test_retargeted_clocks_keep_the_time_they_have_run() -> None:
    timer = start_timer("first_response", timedelta(hours=4), NOW, 0.75)
    clocks = TicketClocks(first_response=timer, resolution=None)
    urgent = SlaTargets(timedelta(minutes=30), None, timedelta(hours=4), warn_share=0.5)
    after = retarget(clocks, urgent)
    assert after.first_response is not None
    assert after.first_response.target == timedelta(minutes=30)
    assert after.first_response.warn_share == 0.5
    assert after.first_response.started_at == NOW and after.first_response.is_running
    assert after.resolution is None  # none was started: none is made
