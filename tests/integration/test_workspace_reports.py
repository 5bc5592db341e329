"""The reports dashboard (/desk/reports) through the real app on SQLite and PostgreSQL:
a supervisor sees their teams' figures, three SVG charts drawn on the server with their
numbers beside them, and export links carrying the same filters; another team's report
is refused, as it is to an agent; the page speaks the reader's language."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from router.vocabulary import Channel
from store.models.ratings import Rating
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        staff.ticket("support", "ana")
        staff.ticket("support", None, Channel.TELEGRAM)
        staff.ticket("billing", None)
        yield staff


def page_client(desk: StaffDesk, name: str, **headers: str) -> TestClient:
    client = desk.client()
    client.headers.update(headers)
    answer = client.post("/desk/sign-in", data={"name": name, "password": PASSWORD})
    assert answer.status_code in (200, 303), answer.text
    return client


def charts(text: str) -> dict[str, str]:
    """Each chart's SVG by its name."""
    found = re.findall(
        r'data-chart="(\w+)">\s*<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', text
    )
    return {name: base64.b64decode(data).decode("utf-8") for name, data in found}


def test_a_supervisor_sees_the_charts_their_numbers_and_export_links(desk: StaffDesk) -> None:
    sam = page_client(desk, "sam")
    page = sam.get("/desk/reports", params={"since": "today"})
    assert page.status_code == 200, page.text
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
    text = page.text
    created = re.search(r'data-figure="created">.*?<td class="num">(\d+)</td>', text, re.S)
    assert created is not None and created.group(1) == "2"  # support's two, not billing's
    drawn = charts(text)
    assert sorted(drawn) == ["backlog", "channels", "volume"]
    for svg in drawn.values():
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "<script" not in svg and "kozea" not in svg  # nothing loaded from elsewhere
    assert "Tickets created by channel" in drawn["channels"] and "Telegram" in drawn["channels"]
    # the numbers one click away: the channels' table has today's row, one of each
    table = text.split('data-chart="channels"')[1].split("</figure>")[0]
    assert re.search(
        r"<th scope=\"row\">2026-12-07</th><td class=\"num\">1</td>"
        r"<td class=\"num\">1</td>",
        table,
    ), table
    backlog = text.split('data-chart="backlog"')[1].split("</figure>")[0]
    assert '<th scope="row">under 1 day</th><td class="num">2</td>' in backlog

    [link] = re.findall(r'href="(/api/v1/exports/tickets\?[^"]*format=csv[^"]*)"', text)
    link = html.unescape(link)
    assert "team=support" in link and "created_from=" in link
    exported = sam.get(link)
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 2 and {r["team"] for r in rows} == {"support"}


def test_filters_narrow_the_figures_and_foreign_teams_are_refused(desk: StaffDesk) -> None:
    sam = page_client(desk, "sam")
    telegram = sam.get("/desk/reports", params={"since": "7d", "channel": "telegram"})
    created = re.search(r'data-figure="created">.*?<td class="num">(\d+)</td>', telegram.text, re.S)
    assert created is not None and created.group(1) == "1"
    assert 'value="telegram" selected' in telegram.text
    assert "channel=telegram" in telegram.text  # the export links carry the filter
    assert sam.get("/desk/reports", params={"team": "billing"}).status_code == 403
    assert (
        sam.get("/desk/reports", params={"from": "2026-03-01", "to": "2026-01-01"}).status_code
        == 422
    )
    assert sam.get("/desk/reports", params={"since": "yesterday"}).status_code == 422
    assert page_client(desk, "ana").get("/desk/reports").status_code == 403
    root = page_client(desk, "root").get("/desk/reports", params={"since": "today"})
    created = re.search(r'data-figure="created">.*?<td class="num">(\d+)</td>', root.text, re.S)
    assert created is not None and created.group(1) == "3"


def test_the_dashboard_and_its_charts_speak_chinese(desk: StaffDesk) -> None:
    sam = page_client(desk, "sam", **{"Accept-Language": "zh-CN"})
    page = sam.get("/desk/reports", params={"since": "today"})
    assert page.status_code == 200
    assert "<h1>报表" in page.text
    drawn = charts(page.text)
    assert "按渠道新建的工单" in drawn["channels"]
    assert "不到 1 天" in page.text


def test_the_agents_satisfaction_comes_from_the_requesters_ratings(desk: StaffDesk) -> None:
    agents, teams = desk.ids()
    resolved = desk.ticket("support", "ana")
    earlier = desk.ticket("support", "ben")  # rated now, resolved before the period
    with desk.runtime.db.unit_of_work() as uow:
        ticket = uow.tickets.get(resolved)
        assert ticket is not None
        ticket.status, ticket.resolved_at, ticket.done_at = "resolved", desk.clock(), desk.clock()
        for i, (number, agent, good) in enumerate(
            [
                (resolved, "ana", True),
                (resolved, "ana", True),
                (resolved, "ana", False),
                (earlier, "ben", True),
            ]
        ):
            uow.session.add(
                Rating(
                    ticket_id=number,
                    resolution=i,
                    agent_id=agents[agent],
                    team_id=teams["support"],
                    good=good,
                    via="page",
                    created_at=desk.clock(),
                    updated_at=desk.clock(),
                )
            )
    page = page_client(desk, "sam").get("/desk/reports", params={"since": "today"})
    ana = page.text.split('data-agent="ana"')[1].split("</tr>")[0]
    assert ana.rstrip().endswith('<td class="num">67%</td>'), ana
    ben = page.text.split('data-agent="ben"')[1].split("</tr>")[0]
    assert ben.rstrip().endswith('<td class="num">100%</td>'), ben


def test_organisation_and_form_filters_narrow_the_figures_and_the_export(
    desk: StaffDesk,
) -> None:
    from store.models import Customer, Organisation, Ticket

    via_form = desk.ticket("support", None)  # support's #1, #2 and this one today
    with desk.runtime.db.unit_of_work() as uow:
        acme = Organisation(name="Acme", created_at=desk.clock(), updated_at=desk.clock())
        kim = uow.customers.identify(Channel.EMAIL, "kim@y.test", "Kim", desk.clock())
        uow.session.add(acme)
        uow.session.flush()
        for number in (1, 2, via_form):
            ticket = uow.session.get(Ticket, number)
            assert ticket is not None
            ticket.requester_id = kim.id
            if number == 1:  # Jo's, in Acme
                jo = uow.customers.identify(Channel.EMAIL, "jo@x.test", "Jo", desk.clock())
                record = uow.session.get(Customer, jo.id)
                assert record is not None
                record.organisation_id = acme.id
                ticket.requester_id = jo.id
            if number == via_form:
                ticket.form = "refund"
    sam = page_client(desk, "sam")

    def created(**params: str) -> tuple[int, str]:
        page = sam.get("/desk/reports", params={"since": "today", **params})
        assert page.status_code == 200, page.text
        found = re.search(r'data-figure="created">.*?<td class="num">(\d+)</td>', page.text, re.S)
        assert found is not None
        [link] = re.findall(r'href="(/api/v1/exports/tickets\?[^"]*format=csv[^"]*)"', page.text)
        return int(found.group(1)), html.unescape(link)

    assert created()[0] == 3
    count, link = created(organisation="Acme")
    assert count == 1 and "organisation=Acme" in link
    rows = list(csv.DictReader(io.StringIO(sam.get(link).text)))
    assert [int(r["number"]) for r in rows] == [1]
    count, link = created(form="refund")
    assert count == 1 and "form=refund" in link
    page = sam.get("/desk/reports", params={"since": "today", "form": "refund"})
    assert 'id="f-form" name="form" value="refund"' in page.text
    rows = list(csv.DictReader(io.StringIO(sam.get(link).text)))
    assert [int(r["number"]) for r in rows] == [via_form]
    assert created(form="refund", organisation="Acme")[0] == 0


def test_load_against_capacity_over_time_and_the_other_top_tens(desk: StaffDesk) -> None:
    from store.models import AgentLoadDay

    agents, _ = desk.ids()
    today = desk.clock().date()
    with desk.runtime.db.unit_of_work() as uow:
        for name, load, capacity, peak in (("ana", 2, 10, 1), ("ben", 4, 10, 3), ("kim", 9, 10, 5)):
            uow.session.add(
                AgentLoadDay(
                    day=today,
                    agent_id=agents[name],
                    samples=2,
                    load_sum=load,
                    capacity_sum=capacity,
                    peak=peak,
                    last_sample_at=desk.clock(),
                )
            )
    sam = page_client(desk, "sam")
    page = sam.get("/desk/reports", params={"since": "today"}).text
    # support's agents: (2 + 4) of (10 + 10) sampled, ben's 3 the peak; kim is billing's
    row = page.split(f'data-load="{today.isoformat()}"')[1].split("</tr>")[0]
    assert '<td class="num">30%</td><td class="num">3</td>' in row, row
    ana = sam.get("/desk/reports", params={"since": "today", "agent": "ana"}).text
    row = ana.split(f'data-load="{today.isoformat()}"')[1].split("</tr>")[0]
    assert '<td class="num">20%</td><td class="num">1</td>' in row, row
    assert 'id="steps-title"' in page and 'data-top="requester"' in page
    requesters = page.split('data-top="requester"')[1].split("</table>")[0]
    assert '<td class="num">2</td>' in requesters  # Jo's two tickets of support
    chinese = page_client(desk, "sam", **{"Accept-Language": "zh-CN"})
    assert "负载与容量随时间变化" in chinese.get("/desk/reports", params={"since": "today"}).text
