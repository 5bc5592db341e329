"""A number past the store's id range names nothing: "not found", never a database error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from router.storable import MAX_ID
from router.vocabulary import Channel
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from workers.channels.intake import StoreIntake

pytestmark = pytest.mark.integration

OUT_OF_RANGE = (MAX_ID + 1, 2**63, 10**30, 0, -1)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    yield from desk_for(make_settings(database_url))


def test_lookups_by_an_id_out_of_range_find_nothing(desk: Desk) -> None:
    intake = StoreIntake(desk.runtime)
    for number in OUT_OF_RANGE:
        assert intake.ticket(number) is None
        assert intake.receipt(number) is None
        with desk.runtime.db.unit_of_work() as uow:
            assert uow.tickets.get(number) is None
            assert uow.inbox.get(number) is None
            assert uow.outbox.get(number) is None


def test_an_email_tagged_with_a_number_out_of_range_opens_a_ticket(desk: Desk) -> None:
    first = desk.submit("w1", sender="kim@example.org")
    for key, subject in (("e1", f"[#{MAX_ID + 1}] VPN down"), ("e2", "[#999999999999] again")):
        number = desk.submit(
            key,
            sender="kim@example.org",
            channel=Channel.EMAIL,
            subject=subject,
            recipients=(f"support+{10**11}@relaydesk.localhost",),
        )
        assert number not in (0, first)
