"""A channel plugged in from outside the core: the test suite's pager (tests/support/pager),
one adapter in the registry, and a message goes through ingest, route and deliver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.vocabulary import RowState
from tests.conftest import FAST_RETRIES, make_settings
from tests.support.desk import Desk, desk_for
from tests.support.pager.channel import PagerChannel
from tests.support.pager.gateway import PAGER, PagerPoller, PagerSender
from workers.channels.standard import standard_channels
from workers.desk.replies import answer_ticket
from workers.runtime.queues import all_queues


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    path = tmp_path / "pager"
    path.mkdir()
    return path


@pytest.fixture
def desk(database_url: str, spool: Path) -> Iterator[Desk]:
    channels = standard_channels().plus(PagerChannel(spool))
    yield from desk_for(make_settings(database_url, **FAST_RETRIES), channels=channels)


def _page_in(spool: Path, message_id: str, text: str, sender: str = "5550100") -> None:
    with (spool / "inbound.jsonl").open("a") as gateway:
        gateway.write(json.dumps({"id": message_id, "from": sender, "name": "Kim", "text": text}))
        gateway.write("\n")


def test_a_plugged_in_channel_has_its_queues_and_actors(desk: Desk) -> None:
    queues = all_queues(desk.runtime.channels)
    assert "ingest.pager" in queues and "outbound.pager" in queues
    assert PAGER in desk.runtime.ingest_actors and PAGER in desk.runtime.deliver_actors
    assert "ingest.pager" not in all_queues(standard_channels())  # the registry's, not global


def test_a_pager_message_is_ingested_routed_and_answered_on_the_pager(
    desk: Desk, spool: Path
) -> None:
    poller = PagerPoller(spool, desk.intake)
    _page_in(spool, "m1", "The lift is stuck on floor 3")
    assert poller.poll() == 1
    desk.settle()
    with desk.runtime.db.unit_of_work() as uow:
        rows = uow.inbox.recent(limit=10)
    assert [(r.channel, r.state) for r in rows] == [("pager", RowState.DONE.value)]
    number = rows[0].ticket_id
    assert number is not None
    view = desk.ticket(number)
    assert view.channel == "pager" and view.status == "open" and view.assignee in ("ana", "ben")
    # the agent is told by email (the pager reaches no agent); the requester on the pager
    notice = desk.sender.to(f"{view.assignee}@relaydesk.localhost")
    assert len(notice) == 1 and "The lift is stuck" in notice[0].body_text
    pages = PagerSender(spool).sent()
    assert pages == [{"to": "5550100", "text": f"Got it: your request is #{number}."}]

    answer_ticket(desk.runtime, number, str(view.assignee), "A technician is on the way.")
    desk.settle()
    pages = PagerSender(spool).sent()
    assert len(pages) == 2 and pages[1]["to"] == "5550100"
    assert pages[1]["text"].endswith(f"(#{number}): A technician is on the way.")
    assert desk.sender.to("5550100") == []  # nothing of the pager's went by email

    _page_in(spool, "m2", "Thanks, they are here")  # the same number: the same ticket
    poller.poll()
    desk.settle()
    texts = [m.body_text for m in desk.ticket(number).messages]
    with desk.runtime.db.unit_of_work() as uow:
        actions = [e.action for e in uow.audit.for_ticket(number)]
    assert texts[-1] == "Thanks, they are here" and "message.received" in actions
    # the acknowledgement, the assignment notice, the answer, the notice of the reply
    assert actions.count("outbox.sent") == 4
    told = desk.sender.to(f"{view.assignee}@relaydesk.localhost")
    assert len(told) == 2 and "Thanks, they are here" in told[1].body_text
