"""Saved searches on SQLite and PostgreSQL, through the staff API and the workspace's forms:
an agent's own, a supervisor's shared with their team, each listed with its count in the
reader's scope; who may share and remove; filters that are not the list's refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def test_an_agent_keeps_a_search_and_a_supervisor_shares_one_with_the_team(
    desk: StaffDesk,
) -> None:
    desk.ticket("support", "ana")
    desk.ticket("support", None)
    desk.ticket("billing", None)  # outside ana's scope
    ana, ben, sam, kim = (desk.signed_in(n) for n in ("ana", "ben", "sam", "kim"))
    mine = ana.post(
        "/api/v1/saved-searches",
        json={"name": "Fires", "filters": {"q": "fire", "status": ["open", "new"]}},
    )
    assert mine.status_code == 201, mine.text
    assert mine.json()["filters"] == {"q": "fire", "status": ["open", "new"]}
    [listed] = ana.get("/api/v1/saved-searches").json()
    assert (listed["name"], listed["count"], listed["team"]) == ("Fires", 2, None)
    assert ben.get("/api/v1/saved-searches").json() == []  # ana's own

    assert (
        ana.post(
            "/api/v1/saved-searches",
            json={"name": "Team", "filters": {}, "team": "support"},
        ).status_code
        == 403
    )  # an agent shares nothing
    shared = sam.post(
        "/api/v1/saved-searches",
        json={
            "name": "Unassigned printers",
            "filters": {"unassigned": True, "q": "printer"},
            "team": "support",
        },
    )
    assert shared.status_code == 201, shared.text
    for client in (ana, ben):
        names = {s["name"]: s["count"] for s in client.get("/api/v1/saved-searches").json()}
        assert names["Unassigned printers"] == 1  # in each reader's own scope
    assert kim.get("/api/v1/saved-searches").json() == []  # another team's supervisor
    shared_id = shared.json()["id"]
    assert ana.delete(f"/api/v1/saved-searches/{shared_id}").status_code == 403
    assert kim.delete(f"/api/v1/saved-searches/{shared_id}").status_code == 404
    assert sam.delete(f"/api/v1/saved-searches/{shared_id}").status_code == 204
    assert ben.get("/api/v1/saved-searches").json() == []


def test_a_search_that_is_not_the_lists_or_a_name_used_twice_is_refused(desk: StaffDesk) -> None:
    ana = desk.signed_in("ana")
    for filters in ({"status": ["lost"]}, {"colour": ["red"]}, {"due_within": -1}):
        answer = ana.post("/api/v1/saved-searches", json={"name": "x", "filters": filters})
        assert answer.status_code == 422, (filters, answer.text)
    body = {"name": "Mine", "filters": {}}
    assert ana.post("/api/v1/saved-searches", json=body).status_code == 201
    assert ana.post("/api/v1/saved-searches", json=body).status_code == 409
    assert (
        desk.signed_in("root")
        .post("/api/v1/saved-searches", json={**body, "team": "nope"})
        .status_code
        == 422
    )


def test_the_search_page_saves_a_search_that_the_views_list_with_its_count(
    desk: StaffDesk,
) -> None:
    number = desk.ticket("support", "ana")
    ana = desk.client()
    assert ana.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD}).is_success
    page = ana.get("/desk/", params={"q": "fire", "status": "open"}).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None
    saved = ana.post(
        "/desk/saved-searches",
        data={"csrf_token": csrf.group(1), "name": "Fires", "q": "fire", "status": "open"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text[:300]
    listing = ana.get(saved.headers["location"]).text
    assert "<h1>Fires</h1>" in listing
    assert f"/desk/tickets/{number}" in listing
    assert re.search(r"<span>Fires</span> <span class=\"count\">1</span>", listing)
    search_id = saved.headers["location"].rsplit("=", 1)[1]
    assert ana.post(f"/desk/saved-searches/{search_id}/remove").status_code == 403  # no CSRF
    assert ana.post(
        f"/desk/saved-searches/{search_id}/remove", data={"csrf_token": csrf.group(1)}
    ).is_success
    assert ana.get(f"/desk/?saved={search_id}").status_code == 404
    # an id past what the store keeps names nothing: 404, never a database error
    for huge in (2**31, 10**20):
        gone = ana.post(f"/desk/saved-searches/{huge}/remove", data={"csrf_token": csrf.group(1)})
        assert gone.status_code == 404, gone.text[:200]
        assert ana.get(f"/desk/?saved={huge}").status_code in (404, 422)
