"""The staff API's part of the OpenAPI document, fuzzed as a program with an admin token
would call it, on the real store (SQLite and PostgreSQL): no server error, and no answer
the document does not describe.

Bounded: a quarter of ``RELAYDESK_FUZZ_EXAMPLES`` examples per operation and kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

from tests.integration.test_openapi_fuzz import EXAMPLES, HYPOTHESIS
from tests.support.staff import StaffDesk, staff_desk
from workers.desk.api_tokens import create_token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

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
# delivery may be under way (409)
REFERS_TO_STATE = {
    "POST /api/v1/tokens",
    "GET /api/v1/desk/tickets",
    "POST /api/v1/customers",
    "PATCH /api/v1/customers/{customer_id}",
    "POST /api/v1/customers/{customer_id}/merge",
    "POST /api/v1/organisations",
    "PATCH /api/v1/organisations/{organisation_id}",
    "POST /api/v1/webhooks",
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
}
STAFF_PREFIXES = (
    "/api/v1/me",
    "/api/v1/session",
    "/api/v1/agents",
    "/api/v1/tokens",
    "/api/v1/desk",
    "/api/v1/customers",
    "/api/v1/organisations",
    "/api/v1/webhooks",
)


@pytest.fixture
def desk(database_url: str) -> Iterator[StaffDesk]:
    with staff_desk(database_url) as staff:
        yield staff


def test_every_staff_operation_answers_an_admins_program_as_documented(desk: StaffDesk) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app, config=CONFIG)

    @schema.auth(refresh_interval=None)
    class AdminToken:
        """A token of its own for each request: a generated DELETE may revoke any earlier one."""

        def get(self, case: Any, context: Any) -> str:
            return create_token(desk.runtime, "root").secret

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if op.path.startswith(STAFF_PREFIXES)
    ]
    assert len(operations) == 20 + 9  # 20 before the webhooks (the macro action made it 20)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(HYPOTHESIS, max_examples=max(EXAMPLES // 4, 10))
            @given(case=operation.as_strategy(generation_mode=mode))
            def answers_as_documented(case: Any) -> None:
                refers = case.operation.label in REFERS_TO_STATE
                case.call_and_validate(excluded_checks=[positive_data_acceptance] if refers else [])

            try:
                answers_as_documented()
            except Unsatisfiable:  # no invalid request can be made (an operation without input)
                assert mode is GenerationMode.NEGATIVE


def test_sequences_that_follow_the_links_read_change_and_merge_what_a_post_made(
    desk: StaffDesk,
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app, config=CONFIG).include(
        path_regex=r"^/api/v1/(customers|organisations)"
    )
    answered: Counter[tuple[str, int]] = Counter()

    @schema.auth(refresh_interval=None)
    class AdminToken:
        def get(self, case: Any, context: Any) -> str:
            return create_token(desk.runtime, "root").secret

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: Any) -> None:
            answered[(case.operation.label, response.status_code)] += 1

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            refers = case.operation.label in REFERS_TO_STATE
            case.validate_response(
                response,
                excluded_checks=[positive_data_acceptance] if refers else [],
                transport_kwargs=kwargs,
            )

    Machine.run(
        settings=settings(HYPOTHESIS, max_examples=max(EXAMPLES // 4, 10), stateful_step_count=6)
    )

    assert answered[("GET /api/v1/customers/{customer_id}", 200)] > 0, answered
    assert answered[("GET /api/v1/organisations/{organisation_id}", 200)] > 0, answered
