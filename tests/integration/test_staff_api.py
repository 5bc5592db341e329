"""The staff API through the real app on SQLite and PostgreSQL: sign-in and its limits,
sessions and CSRF, API tokens, agents, and the audit of changes made through it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from router.vocabulary import Role
from store.models import AuditEvent
from tests.support.staff import PASSWORD, StaffDesk, staff_desk
from workers.desk.api_tokens import revoke_token
from workers.desk.sign_in import set_password
from workers.runtime.build import build_runtime
from workers.runtime.processes import make_web_app


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def events(desk: StaffDesk, action: str) -> list[AuditEvent]:
    with desk.runtime.db.unit_of_work() as uow:
        return list(uow.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def sign_in(client: Any, name: str = "ana", password: str = PASSWORD) -> Any:
    return client.post("/api/v1/session", json={"name": name, "password": password})


def test_signing_in_sets_a_session_cookie_and_tells_who_i_am(desk: StaffDesk) -> None:
    client = desk.client()
    answer = sign_in(client, "sam")
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("relaydesk_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    assert answer.headers["cache-control"] == "no-store"
    me = client.get("/api/v1/me").json()
    assert me["name"] == "sam" and me["display_name"] == "Sam Novak"
    assert (me["role"], me["teams"], me["supervised_teams"]) == ("supervisor", [], ["support"])
    assert me["via"] == "session" and me["csrf_token"] == answer.json()["csrf_token"]
    [signed_in] = events(desk, "staff.signed_in")
    assert signed_in.actor == "agent:sam"
    assert signed_in.data["origin"] == {"via": "session", "address": "203.0.113.9"}


def test_over_https_the_session_cookie_is_secure(desk: StaffDesk) -> None:
    answer = sign_in(desk.client(https=True))
    assert "Secure" in answer.headers["set-cookie"]


def test_a_wrong_password_and_an_unknown_name_get_the_same_401(desk: StaffDesk) -> None:
    client = desk.client()
    wrong = sign_in(client, "ana", "not the password")
    unknown = sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong name or password"}
    assert "set-cookie" not in wrong.headers
    assert client.get("/api/v1/me").status_code == 401


def test_an_agent_without_a_password_cannot_sign_in(database_url: str) -> None:
    with staff_desk(database_url) as desk:
        with desk.runtime.db.unit_of_work() as uow:
            agent = uow.agents.by_name("ben")
            assert agent is not None
            agent.password_hash = None
        assert sign_in(desk.client(), "ben").status_code == 401


def test_an_account_that_failed_too_often_waits_even_with_the_right_password(
    desk: StaffDesk,
) -> None:
    for i in range(3):  # failures_per_account = 3, each from another address
        assert sign_in(desk.client(f"192.0.2.{i}"), "ana", "guess").status_code == 401
    refused = sign_in(desk.client("192.0.2.50"), "ana")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"
    assert "too many failed sign-ins" in refused.json()["detail"]
    assert sign_in(desk.client("192.0.2.50"), "ben").status_code == 200  # others are not
    desk.clock.advance(seconds=599)
    assert sign_in(desk.client(), "ana").headers["retry-after"] == "1"
    desk.clock.advance(seconds=1)
    assert sign_in(desk.client(), "ana").status_code == 200


def test_an_address_that_failed_too_often_waits_for_every_account(desk: StaffDesk) -> None:
    prober = desk.client("192.0.2.66")
    for name in ("ana", "ben", "sam", "kim", "root"):  # failures_per_address = 5
        assert sign_in(prober, name, "guess").status_code == 401
    assert sign_in(prober, "ana").status_code == 429
    assert sign_in(desk.client("192.0.2.67"), "ana").status_code == 200


def test_a_success_forgets_the_accounts_failures_but_not_the_addresses(desk: StaffDesk) -> None:
    client = desk.client("192.0.2.70")
    for _ in range(2):
        assert sign_in(client, "ana", "guess").status_code == 401
    assert sign_in(client, "ana").status_code == 200
    for _ in range(2):
        assert sign_in(client, "ana", "guess").status_code == 401
    assert sign_in(client, "ana").status_code == 200  # 2 again, not 4: the account forgot
    assert sign_in(client, "ben", "guess").status_code == 401  # the address's fifth
    assert sign_in(client, "ben").status_code == 429


def test_web_processes_share_the_failure_counts_through_the_store(
    desk: StaffDesk, database_url: str
) -> None:
    other = build_runtime(desk.runtime.settings, clock=desk.clock)
    try:
        second_process = desk.client("192.0.2.80", app=make_web_app(other))
        for _ in range(3):
            assert sign_in(desk.client("192.0.2.80"), "kim", "guess").status_code == 401
        assert sign_in(second_process, "kim").status_code == 429
    finally:
        other.close()


def test_an_unsafe_request_on_a_session_needs_its_csrf_token(desk: StaffDesk) -> None:
    client = desk.signed_in("ana")
    token = client.headers.pop("X-CSRF-Token")
    body = {"status": "away"}
    missing = client.put("/api/v1/agents/me/status", json=body)
    assert missing.status_code == 403
    assert "CSRF token" in missing.json()["detail"]
    wrong = client.put("/api/v1/agents/me/status", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert client.get("/api/v1/agents").status_code == 200  # a safe method needs none
    right = client.put("/api/v1/agents/me/status", json=body, headers={"X-CSRF-Token": token})
    assert right.status_code == 200
    assert right.json() == {"name": "ana", "status": "away", "previous": "online"}


def test_an_html_form_sends_the_csrf_token_as_a_field(desk: StaffDesk) -> None:
    client = desk.signed_in("ana")
    token = client.headers.pop("X-CSRF-Token")
    form = "application/x-www-form-urlencoded"
    refused = client.request(
        "DELETE", "/api/v1/session", content="csrf_token=nope", headers={"Content-Type": form}
    )
    assert refused.status_code == 403
    signed_out = client.request(
        "DELETE", "/api/v1/session", content=f"csrf_token={token}", headers={"Content-Type": form}
    )
    assert signed_out.status_code == 204


def test_signing_out_ends_the_session_at_once(desk: StaffDesk) -> None:
    client = desk.signed_in("ana")
    cookie = client.cookies["relaydesk_session"]
    answer = client.delete("/api/v1/session")
    assert answer.status_code == 204
    assert 'relaydesk_session=""' in answer.headers["set-cookie"]
    again = desk.client()
    again.cookies["relaydesk_session"] = cookie  # a copy of the cookie kept elsewhere
    ended = again.get("/api/v1/me")
    assert ended.status_code == 401
    assert ended.json() == {"detail": "the session has ended: sign in again"}
    assert ended.headers["www-authenticate"] == 'Bearer realm="staff"'
    [signed_out] = events(desk, "staff.signed_out")
    assert signed_out.actor == "agent:ana"


def test_a_session_ends_after_idling_and_at_its_maximum_age(desk: StaffDesk) -> None:
    idle = desk.signed_in("ana")
    busy = desk.signed_in("ben")
    for _ in range(23):
        desk.clock.advance(minutes=59)
        assert busy.get("/api/v1/me").status_code == 200  # seen: the idle clock restarts
    desk.clock.advance(minutes=59)
    assert idle.get("/api/v1/me").status_code == 401  # 23 h without a request
    assert busy.get("/api/v1/me").status_code == 200
    desk.clock.advance(minutes=30)  # 24 h 6 min after sign-in: past session_max_age_s
    assert busy.get("/api/v1/me").status_code == 401


def test_a_new_password_ends_the_agents_sessions(desk: StaffDesk) -> None:
    client = desk.signed_in("ana")
    set_password(desk.runtime, "ana", "another long password")
    assert client.get("/api/v1/me").status_code == 401
    assert sign_in(desk.client(), "ana", "another long password").status_code == 200


def test_nothing_but_a_valid_credential_gets_in(desk: StaffDesk) -> None:
    client = desk.client()
    assert client.get("/api/v1/agents").json() == {
        "detail": "sign in first (POST /api/v1/session) or send Authorization: Bearer <API token>"
    }
    for header in ("Bearer rdk_forged", "Bearer not-a-token", "Basic YW5hOnB3"):
        assert client.get("/api/v1/me", headers={"Authorization": header}).status_code == 401
    client.cookies["relaydesk_session"] = "forged"
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_acts_for_its_agent_without_csrf_and_records_its_last_use(
    desk: StaffDesk,
) -> None:
    client = desk.with_token("ana", address="198.51.100.7")
    me = client.get("/api/v1/me").json()
    assert (me["name"], me["role"], me["via"], me["csrf_token"]) == ("ana", "agent", "token", None)
    answer = client.put("/api/v1/agents/me/status", json={"status": "offline"})
    assert answer.status_code == 200
    [change] = [e for e in events(desk, "agent.status") if e.actor == "agent:ana"]
    assert change.detail == "ana: online -> offline"
    assert change.data["origin"] == {
        "via": "token",
        "address": "198.51.100.7",
        "token_id": me["token_id"],
        "token_name": "",
    }
    [listed] = [
        t for t in desk.with_token("root").get("/api/v1/tokens").json() if t["agent"] == "ana"
    ]
    assert listed["last_used_from"] == "198.51.100.7"
    assert listed["last_used_at"] == "2026-12-07T09:00:00Z"


def test_an_expired_or_revoked_token_gets_401(desk: StaffDesk) -> None:
    from datetime import timedelta

    short = desk.client()
    short.headers["Authorization"] = f"Bearer {desk.token('ana', lifetime=timedelta(hours=1))}"
    assert short.get("/api/v1/me").status_code == 200
    desk.clock.advance(hours=1)
    assert short.get("/api/v1/me").json() == {
        "detail": "the API token is unknown, expired or revoked"
    }
    revoked = desk.with_token("ben")
    me = revoked.get("/api/v1/me").json()
    revoke_token(desk.runtime, me["token_id"])
    assert revoked.get("/api/v1/me").status_code == 401


def test_a_narrower_token_acts_with_its_role_only(desk: StaffDesk) -> None:
    as_agent = desk.with_token("root", Role.AGENT)
    assert as_agent.get("/api/v1/me").json()["role"] == "agent"
    assert as_agent.get("/api/v1/tokens").status_code == 403
    assert desk.with_token("root").get("/api/v1/tokens").status_code == 200


def test_agents_are_listed_with_status_and_load_against_capacity_per_channel(
    desk: StaffDesk,
) -> None:
    desk.ticket("support", "ana")
    with desk.runtime.db.unit_of_work() as uow:
        ana = uow.agents.by_name("ana")
        assert ana is not None
        ana.load = 1
    agents = {a["name"]: a for a in desk.with_token("ben").get("/api/v1/agents").json()}
    assert list(agents) == ["ana", "ben", "kim", "root", "sam"]
    ana_out = agents["ana"]
    assert (ana_out["status"], ana_out["load"], ana_out["capacity"]) == ("online", 1, 5)
    assert ana_out["teams"] == ["support"]
    assert ana_out["channels"] == [
        {"channel": "email", "load": 1, "capacity": 2},
        {"channel": "telegram", "load": 0, "capacity": None},
        {"channel": "web", "load": 0, "capacity": None},
    ]


def test_an_admin_creates_lists_and_revokes_tokens_over_http(desk: StaffDesk) -> None:
    admin = desk.signed_in("root")
    made = admin.post(
        "/api/v1/tokens", json={"agent": "ben", "expires_in": "30d", "name": "crm-sync"}
    )
    assert made.status_code == 201
    created = made.json()
    assert created["token"].startswith(created["hint"])
    assert (created["agent"], created["role"], created["created_by"]) == (
        "ben",
        "agent",
        "agent:root",
    )
    assert created["expires_at"] == "2027-01-06T09:00:00Z"
    program = desk.client()
    program.headers["Authorization"] = f"Bearer {created['token']}"
    assert program.get("/api/v1/me").json()["name"] == "ben"
    listed = admin.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    revoked = admin.delete(f"/api/v1/tokens/{created['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert program.get("/api/v1/me").status_code == 401
    [event] = events(desk, "token.revoked")
    assert event.data["origin"]["via"] == "session"
    assert admin.delete("/api/v1/tokens/999").status_code == 404


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"agent": "ana", "role": "admin"}, "ana is agent: a token for them may not be admin"),
        ({"agent": "zed"}, "no agent named 'zed'"),
    ],
)
def test_a_token_for_no_agent_or_wider_than_its_agent_is_refused(
    desk: StaffDesk, body: dict[str, str], problem: str
) -> None:
    answer = desk.with_token("root").post("/api/v1/tokens", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith(problem)


def test_a_bad_lifetime_is_refused_naming_the_field(desk: StaffDesk) -> None:
    answer = desk.with_token("root").post(
        "/api/v1/tokens", json={"agent": "ana", "expires_in": "1y"}
    )
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == "expires_in" and "30d" in problem["msg"]


def test_the_command_line_ends_every_session_of_an_agent(desk: StaffDesk) -> None:
    from click.testing import CliRunner

    from workers.cli import main

    laptop, phone, other = desk.signed_in("ana"), desk.signed_in("ana"), desk.signed_in("ben")
    config = {"RELAYDESK_DATABASE_URL": desk.runtime.settings.database_url}
    result = CliRunner().invoke(main, ["agents", "sign-out", "ana"], env=config)
    assert result.exit_code == 0, result.output
    assert "ana: 2 open sessions ended" in result.output
    assert laptop.get("/api/v1/me").status_code == phone.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200
    [ended] = events(desk, "agent.sessions_ended")
    assert ended.actor == "cli"
