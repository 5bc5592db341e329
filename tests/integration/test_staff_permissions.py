"""The permission matrix: every staff operation against every role and ticket scope, through
the real app, with a session and with a token, on SQLite and PostgreSQL.

The table below is the contract. Adding an endpoint to the staff API means adding its row
(the test fails on an operation of the OpenAPI document that has none): for a ticket
operation, the answer for each role in each scope; for any other, the answer for each role.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from router.envelopes import AttachmentRef
from router.macros import MacroDefinition
from router.vocabulary import Channel, Direction, Role
from store.simulation_jobs import SimulationJobs
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.api_tokens import create_token
from workers.desk.customers import create_customer
from workers.desk.macro_book import create_macro
from workers.desk.organisations import create_organisation
from workers.desk.webhooks import add_webhook, send_test_event
from workers.steps.simulation_jobs import run_simulation_job

ROLES = ("agent", "supervisor", "admin", "nobody")
ACCOUNT = {"agent": "ana", "supervisor": "sam", "admin": "root"}  # sam supervises support
# a ticket's scope for the one asking: theirs (in support), support's unassigned one, one
# of support a colleague (ben) has, billing's unassigned one, and a number no ticket has
SCOPES = ("own", "team", "colleague's", "other team", "none")


@dataclass(frozen=True)
class Operation:
    method: str
    # {number}: a ticket of the scope under test; {token_id}: a token to revoke;
    # {attachment_id}: a file of the ticket under test
    path: str
    expected: dict[str, Any]  # role -> status, or for a ticket operation role -> per scope
    body: dict[str, Any] | None = None
    on_ticket: bool = field(default=False)
    files: dict[str, Any] | None = None  # a multipart body instead of JSON

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def everyone(status: int) -> dict[str, Any]:
    return {"agent": status, "supervisor": status, "admin": status, "nobody": 401}


def supervisors(status: int) -> dict[str, Any]:
    return {"agent": 403, "supervisor": status, "admin": status, "nobody": 401}


def admins_only(status: int) -> dict[str, Any]:
    return {"agent": 403, "supervisor": 403, "admin": status, "nobody": 401}


#                          own  team colleague's other none
TICKET_READ = {
    "agent": (200, 200, 404, 404, 404),
    "supervisor": (200, 200, 200, 404, 404),
    "admin": (200, 200, 200, 200, 404),
    "nobody": (401, 401, 401, 401, 401),
}


def on_tickets(agent: tuple[int, ...], supervisor: tuple[int, ...], admin: tuple[int, ...]):  # type: ignore[no-untyped-def]
    return {"agent": agent, "supervisor": supervisor, "admin": admin, "nobody": (401,) * 5}


TICKET_WRITE = on_tickets((201, 201, 404, 404, 404), (201, 201, 201, 404, 404), (201,) * 4 + (404,))
TICKET_EDIT = on_tickets((200, 200, 404, 404, 404), (200, 200, 200, 404, 404), (200,) * 4 + (404,))
# an unassigned ticket cannot be unassigned (409), nor one taken be claimed; sam and root
# are in no team, so they may claim nothing; root has no room either
TICKET_UNASSIGN = on_tickets(
    (403, 403, 404, 404, 404), (200, 409, 200, 404, 404), (200, 409, 200, 409, 404)
)
TICKET_CLAIM = on_tickets(
    (409, 200, 404, 404, 404), (409, 409, 409, 404, 404), (409, 409, 409, 409, 404)
)
# a body that cannot be taken: 422 once the ticket is in scope, 404 before that
TICKET_SEEN_THEN_INVALID = {
    "agent": (422, 422, 404, 404, 404),
    "supervisor": (422, 422, 422, 404, 404),
    "admin": (422, 422, 422, 422, 404),
    "nobody": (401, 401, 401, 401, 401),
}
TICKET_REASSIGN = {
    "agent": (403, 403, 404, 404, 404),
    "supervisor": (200, 200, 200, 404, 404),
    "admin": (200, 200, 200, 200, 404),
    "nobody": (401, 401, 401, 401, 401),
}

# a receiver by address (no name to resolve), outside any private network
NEW_WEBHOOK: dict[str, Any] = {"url": "https://93.184.216.34/hooks", "events": ["ticket.created"]}

# a macro an admin makes (and, for PUT and DELETE, one made for the row: its name filled)
NEW_MACRO = {"name": "{name}", "title": "Made", "body": "Hi {{requester_name}}"}

# a search each caller saves (and, for DELETE, one of the caller's own made for the row)
NEW_SEARCH = {"name": "Search {unique}", "filters": {"q": "printer"}}

T = "/api/v1/desk/tickets/{number}"
MATRIX = [
    # first: later rows set ana away and fill her room in email
    Operation("POST", T + "/claim", TICKET_CLAIM, on_ticket=True),
    Operation("GET", "/api/v1/me", everyone(200)),
    Operation("GET", "/api/v1/agents", everyone(200)),
    Operation("PUT", "/api/v1/agents/me/status", everyone(200), body={"status": "away"}),
    Operation("GET", "/api/v1/tokens", admins_only(200)),
    Operation("POST", "/api/v1/tokens", admins_only(201), body={"agent": "ben"}),
    Operation("DELETE", "/api/v1/tokens/{token_id}", admins_only(200)),
    Operation("DELETE", "/api/v1/session", everyone(204)),
    Operation("GET", "/api/v1/reports", supervisors(200)),
    Operation("GET", "/api/v1/reports/versions", supervisors(200)),
    # past the gate, nothing to compare: this desk ran no pilot and names no version
    Operation("GET", "/api/v1/reports/comparison", supervisors(422)),
    Operation("GET", "/api/v1/board", supervisors(200)),
    Operation("GET", "/api/v1/macros", everyone(200)),
    Operation("POST", "/api/v1/macros", admins_only(201), body=NEW_MACRO),
    Operation("PUT", "/api/v1/macros/{name}", admins_only(200), body=NEW_MACRO),
    Operation("DELETE", "/api/v1/macros/{name}", admins_only(204)),
    Operation("POST", "/api/v1/admin/simulations", admins_only(202), body={"candidate": ""}),
    Operation("GET", "/api/v1/admin/simulations/{job_id}", admins_only(200)),
    Operation("GET", "/api/v1/admin/simulations/{job_id}/result", admins_only(200)),
    Operation("GET", "/api/v1/saved-searches", everyone(200)),
    Operation("POST", "/api/v1/saved-searches", everyone(201), body=NEW_SEARCH),
    Operation("DELETE", "/api/v1/saved-searches/{search_id}", everyone(204)),
    Operation(
        "POST", "/api/v1/desk/tickets/{number}/macro", TICKET_READ, {"macro": "thanks"}, True
    ),
    Operation(
        "POST",
        "/api/v1/desk/tickets/{number}/split",
        TICKET_SEEN_THEN_INVALID,
        {"message_id": "not a number"},
        True,
    ),
    Operation(
        "POST",
        "/api/v1/desk/tickets/{number}/merge",
        TICKET_SEEN_THEN_INVALID,
        {"into": "not a number"},
        True,
    ),
    Operation("GET", "/api/v1/exports/tickets", supervisors(200)),
    Operation("GET", "/api/v1/desk/tickets", everyone(200)),
    Operation("GET", T, TICKET_READ, on_ticket=True),
    Operation("GET", T + "/attachments/{attachment_id}", TICKET_READ, on_ticket=True),
    Operation("POST", T + "/replies", TICKET_WRITE, body={"text": "on it"}, on_ticket=True),
    Operation("POST", T + "/notes", TICKET_WRITE, body={"text": "@ben look"}, on_ticket=True),
    Operation("PUT", T + "/status", TICKET_EDIT, body={"status": "pending"}, on_ticket=True),
    Operation("PATCH", T, TICKET_EDIT, body={"tags": ["vip"]}, on_ticket=True),
    Operation(
        "POST", T + "/assign", TICKET_REASSIGN, body={"agent": "ben", "force": True}, on_ticket=True
    ),
    Operation(
        "POST",
        T + "/transfer",
        TICKET_REASSIGN,
        body={"team": "sales", "reason": "theirs"},
        on_ticket=True,
    ),
    Operation("POST", T + "/unassign", TICKET_UNASSIGN, body={}, on_ticket=True),
    Operation(
        "POST",
        "/api/v1/desk/uploads/{number}",
        TICKET_WRITE,
        on_ticket=True,
        files={"file": ("note.txt", b"plain words")},
    ),
    # customers and organisations: every agent reads them (a profile lists only the tickets
    # the reader may open), supervisors and admins change them; as Zendesk does
    Operation("GET", "/api/v1/customers", everyone(200)),
    Operation("POST", "/api/v1/customers", supervisors(201), body={"name": "Kim Lee"}),
    Operation("GET", "/api/v1/customers/{customer_id}", everyone(200)),
    Operation("PATCH", "/api/v1/customers/{customer_id}", supervisors(200), body={"tier": "gold"}),
    Operation(
        "POST",
        "/api/v1/customers/{customer_id}/merge",
        supervisors(200),
        body={"into": "{other_customer_id}"},
    ),
    Operation("GET", "/api/v1/organisations", everyone(200)),
    Operation("POST", "/api/v1/organisations", supervisors(201), body={"name": "Org {unique}"}),
    Operation("GET", "/api/v1/organisations/{organisation_id}", everyone(200)),
    Operation(
        "PATCH", "/api/v1/organisations/{organisation_id}", supervisors(200), body={"tier": "gold"}
    ),
    Operation("GET", "/api/v1/webhooks", admins_only(200)),
    Operation("POST", "/api/v1/webhooks", admins_only(201), body=NEW_WEBHOOK),
    Operation("GET", "/api/v1/webhooks/{webhook_id}", admins_only(200)),
    Operation("POST", "/api/v1/webhooks/{webhook_id}/pause", admins_only(200)),
    Operation("POST", "/api/v1/webhooks/{webhook_id}/resume", admins_only(200)),
    Operation("POST", "/api/v1/webhooks/{webhook_id}/test", admins_only(202)),
    Operation("GET", "/api/v1/webhooks/{webhook_id}/deliveries", admins_only(200)),
    Operation(
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
        admins_only(202),
    ),
    Operation("DELETE", "/api/v1/webhooks/{webhook_id}", admins_only(204)),
]
OPEN_TO_ALL = {"POST /api/v1/session"}
UNIQUE = itertools.count(1)  # signing in needs no credential


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    with staff_desk(database_url, relaydesk_email__attachments_dir=str(tmp_path)) as staff:
        yield staff


def tickets_by_scope(desk: StaffDesk, role: str) -> dict[str, int]:
    me = ACCOUNT.get(role, "ana")
    return {
        "own": desk.ticket("support", me),
        "team": desk.ticket("support", None),
        "colleague's": desk.ticket("support", "ben"),
        "other team": desk.ticket("billing", None),
        "none": 999_999,
    }


def records_for(desk: StaffDesk, op: Operation, role: str) -> dict[str, int]:
    """Fresh customers and an organisation for an operation that names them (a merge uses
    its customer up); a macro, a saved search of ``role``'s account."""
    if "/api/v1/saved-searches" in op.path and op.method != "GET":
        unique = next(UNIQUE)
        owner = desk.signed_in(ACCOUNT.get(role, "ana"))
        made = owner.post("/api/v1/saved-searches", json={"name": f"Kept {unique}", "filters": {}})
        return {"unique": unique, "search_id": made.json()["id"]}
    if "/api/v1/macros" in op.path and op.method != "GET":
        name = f"made-{next(UNIQUE)}"
        if "{name}" in op.path:
            create_macro(desk.runtime, MacroDefinition(name, "Kept", "Hello"), by="root")
        return {"name": name}  # type: ignore[dict-item]
    if "{job_id}" in op.path:  # a simulation an admin asked for, run to its end
        with desk.runtime.db.unit_of_work() as uow:
            job_id = SimulationJobs(uow.session).add(
                {"candidate": "", "since": "today"}, requested_by="agent:root", now=desk.clock()
            )
        run_simulation_job(desk.runtime, job_id)
        return {"job_id": job_id}
    if "customer" not in op.path and "organisation" not in op.path:
        return {}
    unique = next(UNIQUE)
    made = [create_customer(desk.runtime, name=f"Customer {unique}-{n}").id for n in (1, 2)]
    org = create_organisation(desk.runtime, name=f"Made {unique}").id
    return {
        "customer_id": made[0],
        "other_customer_id": made[1],
        "organisation_id": org,
        "unique": unique,
    }


def filled(body: dict[str, Any] | None, ids: dict[str, int]) -> dict[str, Any] | None:
    """The body with its ``{name}`` placeholders filled (a whole placeholder: the number)."""
    if body is None:
        return None
    result: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            value = ids[value[1:-1]]
        elif isinstance(value, str):
            value = value.format(**ids)
        result[key] = value
    return result


def finished_delivery(desk: StaffDesk) -> tuple[int, int]:
    """A webhook with one delivery that has failed (so it may be redelivered)."""
    made = add_webhook(desk.runtime, NEW_WEBHOOK["url"], NEW_WEBHOOK["events"])
    delivery = send_test_event(desk.runtime, made.webhook.id).id
    with desk.runtime.db.unit_of_work() as uow:
        assert uow.webhook_deliveries.claim(delivery, now=desk.clock(), lease=timedelta(minutes=1))
        uow.webhook_deliveries.mark_failed_attempt(
            delivery, error="HTTP 500", status=500, retry_at=None, now=desk.clock()
        )
    return made.webhook.id, delivery


def attach(desk: StaffDesk, number: int) -> int:
    """A kept file on a message of ticket ``number`` (none: a number no file has)."""
    if number == 999_999:
        return 999_999
    with desk.runtime.db.unit_of_work() as uow:
        message = uow.messages.add(
            number,
            direction=Direction.INBOUND,
            channel=Channel.EMAIL,
            author="jo@x.test",
            body_text="see the photo",
            now=desk.clock(),
            attachments=[
                AttachmentRef(
                    filename="photo.jpg",
                    content_type="image/jpeg",
                    size=4,
                    sha256=desk.runtime.files.put(b"\xff\xd8\xff\xe0"),
                )
            ],
        )
        [file] = uow.messages.attachments(message)
        return file.id


def client_for(desk: StaffDesk, role: str, credential: str) -> TestClient:
    if role == "nobody":
        return desk.client()
    if credential == "session":
        return desk.signed_in(ACCOUNT[role])
    return desk.with_token(ACCOUNT[role])


@pytest.mark.parametrize("credential", ["session", "token"])
def test_every_operation_answers_each_role_and_scope_as_the_matrix_says(
    desk: StaffDesk, credential: str
) -> None:
    mismatches = []
    for op in MATRIX:
        for role in ROLES:
            scopes = tickets_by_scope(desk, role) if op.on_ticket else {"-": 0}
            for i, (scope, number) in enumerate(scopes.items()):
                expected = op.expected[role][i] if op.on_ticket else op.expected[role]
                victim = create_token(desk.runtime, "kim", role=Role.AGENT).token.id
                ids = records_for(desk, op, role)
                if "{webhook_id}" in op.path:
                    ids["webhook_id"], ids["delivery_id"] = finished_delivery(desk)
                if "{attachment_id}" in op.path:
                    ids["attachment_id"] = attach(desk, number)
                path = op.path.format(number=number, token_id=victim, **ids)
                client = client_for(desk, role, credential)
                if op.files is not None:
                    answer = client.request(op.method, path, files=op.files)
                else:
                    answer = client.request(op.method, path, json=filled(op.body, ids))
                if answer.status_code != expected:
                    mismatches.append(
                        f"{op.name} as {role} ({credential}), {scope}: {answer.status_code} "
                        f"instead of {expected}: {answer.text[:120]}"
                    )
    assert mismatches == []


def test_a_narrower_token_is_judged_by_its_own_role(desk: StaffDesk) -> None:
    numbers = tickets_by_scope(desk, "admin")
    as_agent = desk.with_token("root", Role.AGENT)
    assert as_agent.get("/api/v1/tokens").status_code == 403
    assert as_agent.get(f"/api/v1/desk/tickets/{numbers['other team']}").status_code == 404
    assert as_agent.get(f"/api/v1/desk/tickets/{numbers['own']}").status_code == 200
    unassign = "/api/v1/desk/tickets/{}/unassign"
    assert as_agent.post(unassign.format(numbers["own"]), json={}).status_code == 403
    as_supervisor = desk.with_token("root", Role.SUPERVISOR)  # supervises no team
    assert as_supervisor.post(unassign.format(numbers["team"]), json={}).status_code == 404


def test_every_staff_operation_of_the_document_has_a_row(desk: StaffDesk) -> None:
    document = desk.app.openapi()
    secured = {
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    }
    rows = {op.name for op in MATRIX}
    assert secured - rows == set(), "add these operations to MATRIX"
    staff_paths = {
        f"{m.upper()} {p}"
        for p, ops in document["paths"].items()
        for m in ops
        if p.startswith(
            ("/api/v1/me", "/api/v1/session", "/api/v1/agents", "/api/v1/tokens", "/api/v1/desk")
        )
    }
    assert staff_paths - rows == OPEN_TO_ALL
