"""The workspace's frame through the real app on SQLite and PostgreSQL: sign-in and
sign-out pages on the staff API's sessions, the own-status switch, CSRF on every form,
refusals as pages in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from store.models import AuditEvent
from tests.support.staff import PASSWORD, StaffDesk, staff_desk

pytestmark = pytest.mark.integration


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def signed_in_page(desk: StaffDesk, name: str = "ana") -> tuple[TestClient, str]:
    client = desk.client()
    answer = client.post("/desk/sign-in", data={"name": name, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client, csrf_of(answer.text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_page_without_a_session_sends_to_sign_in_and_back_afterwards(desk: StaffDesk) -> None:
    client = desk.client()
    away = client.get("/desk/", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/desk/sign-in?next=%2Fdesk%2F"
    form = client.get(away.headers["location"])
    assert 'name="back" value="/desk/"' in form.text
    answer = client.post(
        "/desk/sign-in",
        data={"name": "ana", "password": PASSWORD, "back": "/desk/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("relaydesk_session=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["name"] == "ana"  # the API's own session


@pytest.mark.parametrize("back", ["https://evil.test/", "//evil.test/desk/", "/desk/\\evil"])
def test_sign_in_never_sends_to_another_site(desk: StaffDesk, back: str) -> None:
    answer = desk.client().post(
        "/desk/sign-in",
        data={"name": "ana", "password": PASSWORD, "back": back},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/desk/"


def test_a_wrong_password_is_told_on_the_page_and_counted_as_the_api_counts(
    desk: StaffDesk,
) -> None:
    client = desk.client()
    for _ in range(3):
        wrong = client.post("/desk/sign-in", data={"name": "ana", "password": "nope"})
        assert wrong.status_code == 401
        assert "Wrong name or password." in wrong.text
        assert 'value="ana"' in wrong.text  # the name is kept, the password is not
    throttled = client.post("/desk/sign-in", data={"name": "ana", "password": PASSWORD})
    assert throttled.status_code == 429 and "Retry-After" in throttled.headers
    assert "Too many failed sign-ins" in throttled.text
    empty = client.post("/desk/sign-in", data={})
    assert empty.status_code == 401


def test_the_status_switch_is_the_apis_use_case_and_needs_the_csrf_token(
    desk: StaffDesk,
) -> None:
    client, csrf = signed_in_page(desk)
    refused = client.post("/desk/status", data={"status": "away", "back": "/desk/"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "Not allowed" in refused.text
    moved = client.post(
        "/desk/status",
        data={"status": "away", "back": "/desk/", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    [ana] = [a for a in client.get("/api/v1/agents").json() if a["name"] == "ana"]
    assert ana["status"] == "away"
    page = client.get("/desk/").text
    assert re.search(r'value="away"[^>]*aria-pressed="true"', page)
    with desk.runtime.db.unit_of_work() as uow:
        [event] = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "agent.status")
        ).all()
        assert event.actor == "agent:ana" and event.data["origin"]["via"] == "session"
    nonsense = client.post("/desk/status", data={"status": "asleep", "csrf_token": csrf})
    assert nonsense.status_code == 422


def test_signing_out_ends_the_session(desk: StaffDesk) -> None:
    client, csrf = signed_in_page(desk)
    without = client.post("/desk/sign-out", data={})
    assert without.status_code == 403  # a page elsewhere cannot sign anyone out
    out = client.post("/desk/sign-out", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/desk/sign-in"
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/desk/", follow_redirects=False).status_code == 303


def test_pages_speak_the_browsers_language_and_refuse_in_it(desk: StaffDesk) -> None:
    client = desk.client()
    client.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"
    page = client.get("/desk/sign-in")
    assert '<html lang="zh-CN">' in page.text and "登录" in page.text
    missing = client.get("/desk/no-such-page")
    assert missing.status_code == 404 and "未找到" in missing.text
    assert client.get("/api/v1/no-such-thing").json() == {"detail": "Not Found"}  # JSON stays


def test_pages_allow_only_our_own_styles_and_scripts(desk: StaffDesk) -> None:
    page = desk.client().get("/desk/sign-in")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    for asset in re.findall(r'(?:href|src)="(/desk/static/[^"]+)"', page.text):
        assert desk.client().get(asset).status_code == 200
