"""The views and the ticket page through the real app on SQLite and PostgreSQL: counts per
view in the caller's scope, a view's tickets, the search, the ticket page for whoever may
see it (404 for anyone else), and a macro applied from its form with the CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.support.staff import PASSWORD, StaffDesk, staff_desk
from workers.desk.replies import answer_ticket

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def page_client(desk: StaffDesk, name: str) -> tuple[TestClient, str]:
    client = desk.client()
    home = client.post("/desk/sign-in", data={"name": name, "password": PASSWORD})
    assert home.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert found is not None
    return client, found.group(1)


def counts(html: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'\?view=([a-z-]+)"[^>]*>\s*<span>[^<]*</span> <span class="count">'
            r"([^<]+)</span>",
            html,
        )
    )


def test_each_view_counts_and_lists_the_tickets_of_the_callers_scope(desk: StaffDesk) -> None:
    mine = desk.ticket("support", "ana")
    unassigned = desk.ticket("support", None)
    desk.ticket("support", "ben")
    desk.ticket("billing", None)

    ana, _ = page_client(desk, "ana")
    home = ana.get("/desk/")
    assert counts(home.text) == {
        "mine": "1",
        "mine-pending": "0",
        "unassigned": "1",
        "waiting": "0",
        "due-soon": "0",
    }
    assert re.findall(r'data-ticket="(\d+)"', home.text) == [str(mine)]
    listed = ana.get("/desk/?view=unassigned").text
    assert re.findall(r'data-ticket="(\d+)"', listed) == [str(unassigned)]

    sam, _ = page_client(desk, "sam")  # supervises support: all of support's, none of billing's
    assert counts(sam.get("/desk/").text)["all"] == "3"


def test_the_search_finds_in_scope_only(desk: StaffDesk) -> None:
    own = desk.ticket("support", "ana")
    desk.ticket("billing", None)  # same subject, another team
    ana, _ = page_client(desk, "ana")
    found = ana.get("/desk/", params={"q": "printer"}).text
    assert "Search: printer" in found
    assert re.findall(r'data-ticket="(\d+)"', found) == [str(own)]


def test_the_ticket_page_shows_the_conversation_and_hides_from_other_teams(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    answer_ticket(desk.runtime, number, "ana", "checked the <b>fuse</b> @ben", internal=True)
    ana, _ = page_client(desk, "ana")
    page = ana.get(f"/desk/tickets/{number}")
    assert page.status_code == 200
    assert 'class="message note"' in page.text and "Internal note" in page.text
    assert "checked the &lt;b&gt;fuse&lt;/b&gt;" in page.text  # escaped, never markup
    kim, _ = page_client(desk, "kim")  # billing's supervisor
    hidden = kim.get(f"/desk/tickets/{number}")
    assert hidden.status_code == 404 and "Not found" in hidden.text
    assert kim.get("/desk/tickets/99999999999").status_code == 404


def test_a_macro_from_the_page_needs_the_csrf_token_and_changes_the_ticket(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana, csrf = page_client(desk, "ana")
    refused = ana.post(f"/desk/tickets/{number}/macro", data={"macro": "on-it"})
    assert refused.status_code == 403
    applied = ana.post(
        f"/desk/tickets/{number}/macro",
        data={"macro": "on-it", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    assert applied.headers["location"] == f"/desk/tickets/{number}?done=macro"
    page = ana.get(applied.headers["location"]).text
    assert '<dd class="status">Pending</dd>' in page and "Hello Jo, I am on it." in page
    missing = ana.post(f"/desk/tickets/{number}/macro", data={"macro": "nope", "csrf_token": csrf})
    assert missing.status_code == 404


def test_a_search_by_the_lists_filters_is_a_page_to_bookmark(desk: StaffDesk) -> None:
    support = desk.ticket("support", "ana")
    desk.ticket("billing", None)
    sam, _ = page_client(desk, "root")
    found = sam.get("/desk/", params={"team": "support", "status": "open"})
    assert found.status_code == 200 and "Bookmark this page" in found.text
    assert re.findall(r'data-ticket="(\d+)"', found.text) == [str(support)]
    assert 'value="support" selected' in found.text
    bad = sam.get("/desk/", params={"team": "\u0001"})
    assert bad.status_code == 422  # not a name: refused, never a 5xx
