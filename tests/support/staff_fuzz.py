"""The staff API's part of the OpenAPI document, fuzzed as a program with an admin token
would call it, on the real store (SQLite and PostgreSQL): no server error, and no answer
the document does not describe. The operations are fuzzed in four groups, a file each
(tests/integration/test_staff_openapi_fuzz_*.py), so that xdist runs them side by side;
the sequences that follow the links are in test_staff_openapi_sequences.py.

Each request drawn is sent to a desk on SQLite and then to one on PostgreSQL: drawing the
requests is most of the run's CPU, and the draws are derandomized, so each store gets the
requests it got when it had a run of its own, for one drawing instead of two.

Bounded: a quarter of ``RELAYDESK_FUZZ_EXAMPLES`` examples per operation and kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from schemathesis.core.result import Ok

from tests.integration.test_openapi_fuzz import EXAMPLES, HYPOTHESIS
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.api_tokens import create_token
from workers.runtime.context import Runtime

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # as the public API's run, and 401: an invalid request may be invalid by its
            # credentials (a mangled Authorization header), which are checked first
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "404", "405", "409", "413", "415", "422"]
            },
        }
    }
)
# a well-formed body may still name no agent, or a role wider than the agent's, and a
# well-formed cursor may not be one the list gave: 422 as the document says, which the check
# that valid data is accepted cannot know; a customer's address, an organisation's name or
# domain may be taken already (409), an organisation named may not exist and a merge may not
# be possible (422); a webhook's URL may resolve nowhere, or inside (422), and a
# delivery may be under way (409); a ticket action may name an agent or team that does not
# exist (422) or a move the ticket's state refuses (409); a macro may name a team that does
# not exist (422), a name taken (409) or none kept (404); a saved search's name may be taken
# (409) or its team not exist (422)
TICKET = "/api/v1/desk/tickets/{number}"
REFERS_TO_STATE = {
    "POST /api/v1/tokens",
    "GET /api/v1/desk/tickets",
    "POST /api/v1/customers",
    "PATCH /api/v1/customers/{customer_id}",
    "POST /api/v1/customers/{customer_id}/merge",
    "POST /api/v1/organisations",
    "PATCH /api/v1/organisations/{organisation_id}",
    "POST /api/v1/webhooks",
    "POST /api/v1/macros",
    "PUT /api/v1/macros/{name}",
    "POST /api/v1/saved-searches",
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    *(f"POST {TICKET}/{action}" for action in ("replies", "notes", "assign", "transfer")),
    *(f"POST {TICKET}/{action}" for action in ("claim", "unassign")),
    f"PUT {TICKET}/status",
    # a merge into itself, or into a ticket of another requester, or a closed one: 409
    f"POST {TICKET}/merge",
    f"PATCH {TICKET}",
    # a file of a type not accepted (by its content) or empty: 422
    "POST /api/v1/desk/uploads/{number}",
    # a candidate's text may not be a configuration (422), a period may hold no days
    "POST /api/v1/admin/simulations",
    # a simulation may not be done yet (409: no worker runs the jobs here)
    "GET /api/v1/admin/simulations/{job_id}/result",
}
# a report's period is its fields together (422 for `since` with `from` or `to`, a `to` before
# `from` or more than ten years after it); a day or an instant must lie in the years 1970-8999
# (422), which a date's or an instant's format in the document cannot say; two versions
# compared need a pilot that ran when either is not named (422). Only such a request of these
# reads is spared the check that valid data is accepted: their names and lists are held to it
PERIOD_FIELDS = {
    "GET /api/v1/reports": frozenset({"since", "from", "to"}),
    "GET /api/v1/reports/comparison": frozenset({"since", "from", "to"}),
    "GET /api/v1/exports/tickets": frozenset({"created_from", "created_to"}),
}
BOTH_SIDES = {"GET /api/v1/reports/comparison": frozenset({"first", "second"})}


def refers_to_state(label: str, query: dict[str, Any] | None) -> bool:
    """Whether a request of this operation with this query may be refused for what the
    document cannot say (``REFERS_TO_STATE``, ``PERIOD_FIELDS``, ``BOTH_SIDES``)."""
    if label in REFERS_TO_STATE:
        return True
    asked = set(query or {})
    return bool(PERIOD_FIELDS.get(label, frozenset()) & asked) or not (
        BOTH_SIDES.get(label, frozenset()) <= asked
    )


# a list's query parameter (an array) that the negative mode mutates to an object is sent
# exploded, as name=value pairs: on the wire it is a valid list again (a team name no team
# has, which lists nothing), so its acceptance is no contradiction of the document
QUERY_MUTATIONS_SENT_VALID = {"GET /api/v1/desk/tickets"}
# every staff operation fuzzed here
STAFF_PREFIXES = (
    "/api/v1/me",
    "/api/v1/session",
    "/api/v1/agents",
    "/api/v1/tokens",
    "/api/v1/desk",
    "/api/v1/customers",
    "/api/v1/organisations",
    "/api/v1/webhooks",
    "/api/v1/macros",
    "/api/v1/saved-searches",
    "/api/v1/admin",
    "/api/v1/board",
    "/api/v1/reports",
    "/api/v1/exports",
)
# the same operations in four groups, a file each: three of about a third of the run, and the
# board's and the reports' reads
DESK = ("/api/v1/desk",)
PEOPLE = (
    "/api/v1/me",
    "/api/v1/session",
    "/api/v1/agents",
    "/api/v1/tokens",
    "/api/v1/customers",
    "/api/v1/organisations",
)
TOOLS = ("/api/v1/webhooks", "/api/v1/macros", "/api/v1/saved-searches", "/api/v1/admin")
READS = ("/api/v1/board", "/api/v1/reports", "/api/v1/exports")
GROUPS = {"desk": DESK, "people": PEOPLE, "tools": TOOLS, "reads": READS}


def ungrouped(paths: Iterable[str], groups: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    """Each staff path (of ``paths``) that is in no group or in more than one, with the groups
    it is in: empty when the groups share the staff operations out, each to one."""
    staff = [path for path in paths if path.startswith(STAFF_PREFIXES)]
    places = {
        path: [name for name, group in groups.items() if path.startswith(group)] for path in staff
    }
    return {path: names for path, names in places.items() if len(names) != 1}


def staff_paths(desk: StaffDesk) -> list[str]:
    """The paths of the staff desk's document, one per operation."""
    document = desk.app.openapi()
    return [path for path, operations in document["paths"].items() for _ in operations]


def fuzz_operations(
    prefixes: tuple[str, ...], count: int, sqlite_url: str, postgres_url: str, files: Path
) -> None:
    """Fuzz the ``count`` staff operations under ``prefixes`` (a group), each request sent to
    a desk on SQLite (where it is drawn) and then to one on PostgreSQL."""
    with (
        staff_desk(sqlite_url, relaydesk_email__attachments_dir=str(files / "sqlite")) as desk,
        staff_desk(
            postgres_url, relaydesk_email__attachments_dir=str(files / "postgresql")
        ) as postgres_desk,
    ):
        _fuzz(prefixes, count, desk, postgres_desk)


class AdminTokens:
    """The admin token each desk's next request is sent with: one token for a run of reads,
    a new one after any other request (a DELETE may revoke a token, a change of the session
    or of an agent may end what a token may do). A token made for every request cost two
    commits on each store (the token, then its first use), about an eighth of the run."""

    def __init__(self) -> None:
        self._kept: dict[int, str] = {}  # by the desk's runtime
        self._given: set[str] = set()  # the Authorization headers of every token given

    def secret(self, runtime: Runtime) -> str:
        if id(runtime) not in self._kept:
            secret = create_token(runtime, "root").secret
            self._kept[id(runtime)] = secret
            self._given.add(f"Bearer {secret}")
        return self._kept[id(runtime)]

    def gave(self, authorization: str | None) -> bool:
        return authorization in self._given

    def renew(self) -> None:
        self._kept.clear()


def request_of(case: Any, tokens: AdminTokens) -> str:
    """A drawn request as sent, but for which of our admin tokens it carries: a read drawn
    again (an operation without parameters draws the same request again and again) is then
    sent once."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    auth = (case.headers or {}).get("Authorization")
    return repr(
        (
            case.formatted_path,
            case.path_parameters,
            case.query,
            sorted(headers.items()),
            case.cookies,
            case.body,
            case.media_type,
            "ours" if tokens.gave(auth) else auth,
        )
    )


def _fuzz(prefixes: tuple[str, ...], count: int, desk: StaffDesk, postgres_desk: StaffDesk) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app, config=CONFIG)

    tokens = AdminTokens()

    @schema.auth(refresh_interval=None)
    class AdminToken:
        """The SQLite desk's admin token for each request (``AdminTokens``)."""

        def get(self, case: Any, context: Any) -> str:
            return tokens.secret(desk.runtime)

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations() if isinstance(result, Ok))
        if op.path.startswith(prefixes)
    ]
    assert len(operations) == count
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz_operation(operation, mode, tokens, postgres_desk)
            except Unsatisfiable:  # no invalid request can be made (an operation without input)
                assert mode is GenerationMode.NEGATIVE


READS_REPEATED = 2  # a read drawn again is sent this many times in all, then skipped


def _fuzz_operation(
    operation: Any, mode: GenerationMode, tokens: AdminTokens, postgres_desk: StaffDesk
) -> None:
    """One operation's requests of one kind, each sent to the SQLite desk (``operation``'s
    app) and then to the one on PostgreSQL."""
    # the reads answered as documented: within an operation and kind every request is a
    # read, so a read drawn again is sent once more (a read that fails only when asked
    # again, or writes as it reads: a report's rollups, a token's first use) and then not
    reads_sent: Counter[str] = Counter()

    @settings(HYPOTHESIS, max_examples=max(EXAMPLES // 4, 10))
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case: Any) -> None:
        sent = request_of(case, tokens) if case.method == "GET" else None
        if sent is not None and reads_sent[sent] >= READS_REPEATED:
            return  # the same read of the same desks, answered twice already
        label = case.operation.label
        spared = refers_to_state(label, case.query)
        excluded = [positive_data_acceptance] if spared else []
        negative = case.meta.generation.mode is GenerationMode.NEGATIVE
        if negative and label in QUERY_MUTATIONS_SENT_VALID:
            excluded.append(negative_data_rejection)
        try:
            case.call_and_validate(excluded_checks=excluded)
            # the same request to the desk on PostgreSQL: with a token of that desk where
            # AdminToken gave one (an invalid request's own Authorization header is kept)
            if tokens.gave((case.headers or {}).get("Authorization")):
                token = tokens.secret(postgres_desk.runtime)
                case.headers = {**case.headers, "Authorization": f"Bearer {token}"}
            case.call_and_validate(app=postgres_desk.app, excluded_checks=excluded)
            if sent is not None:  # only once answered (a failure's replay sends it again)
                reads_sent[sent] += 1
        finally:
            if case.method != "GET":
                tokens.renew()

    answers_as_documented()
