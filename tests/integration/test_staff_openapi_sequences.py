"""The staff API's links followed in sequences, as a program with an admin token would, on
the real store (SQLite and PostgreSQL): from a customer or an organisation made
(POST /api/v1/customers, /organisations) to its read, change and merge, and from a ticket made
(POST /api/v1/tickets) to the staff's read and actions on it; no server error, and no answer
the document does not describe. (The operations one by one: test_staff_openapi_fuzz_desk.py,
_people.py and _tools.py, on tests/support/staff_fuzz.py.)

Bounded: a quarter (an eighth from a ticket) of ``RELAYDESK_FUZZ_EXAMPLES`` runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import delete

from router.vocabulary import Channel
from store.models import Customer, CustomerIdentity, Organisation
from tests.integration.test_openapi_fuzz import EXAMPLES, HYPOTHESIS, with_real_files
from tests.support.desk import CollectingSender
from tests.support.staff import StaffDesk, staff_desk
from tests.support.staff_fuzz import CONFIG, REFERS_TO_STATE
from workers.desk.api_tokens import create_token

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    with staff_desk(database_url, relaydesk_email__attachments_dir=str(tmp_path)) as staff:
        yield staff


# a kind's operations, and those that make what its records may name: a customer's
# organisation (without its POST, schemathesis takes POST /api/v1/customers for an unlikely
# start, as its input names a record nothing makes, and starts every run from the merge)
RUNS = {
    "customers": r"^/api/v1/(customers(/|$)|organisations$)",
    "organisations": r"^/api/v1/organisations(/|$)",
}


@pytest.mark.parametrize(
    ("kind", "key"), [("customers", "customer_id"), ("organisations", "organisation_id")]
)
def test_sequences_that_follow_the_links_read_change_and_merge_what_a_post_made(
    desk: StaffDesk, kind: str, key: str
) -> None:
    """A run per kind: in one run of both, Hypothesis may spend all its examples on the
    links of one kind (it did on organisations' after the project's every module was
    imported, as in the full suite: see tests/support/project_modules.py)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app, config=CONFIG).include(
        path_regex=RUNS[kind]
    )
    answered: Counter[tuple[str, int]] = Counter()

    @schema.auth(refresh_interval=None)
    class AdminToken:
        def get(self, case: Any, context: Any) -> str:
            return create_token(desk.runtime, "root").secret

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def teardown(self) -> None:
            """Each run starts from the same store: what a step may do next depends on
            the answers before it, and Hypothesis requires a run to repeat as it went."""
            with desk.runtime.db.unit_of_work() as uow:
                for model in (CustomerIdentity, Customer, Organisation):
                    uow.session.execute(delete(model))

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

    # a record made by a POST was reached through its links (read or changed): which of
    # the linked operations a run takes is Hypothesis's choice
    reached = answered[(f"GET /api/v1/{kind}/{{{key}}}", 200)]
    reached += answered[(f"PATCH /api/v1/{kind}/{{{key}}}", 200)]
    assert reached > 0, sorted(answered.items())


@pytest.fixture
def working_desk(database_url: str, tmp_path: Path) -> Iterator[StaffDesk]:
    """A desk whose worker ingests what is submitted (a ticket number comes back at once)
    and collects the mail it sends."""
    env = {
        "relaydesk_email__attachments_dir": str(tmp_path),
        "relaydesk_web__intake_wait_s": "0.5",
        "relaydesk_web__max_body_bytes": "2000000",
    }
    with staff_desk(database_url, **env) as staff:
        staff.runtime._senders[Channel.EMAIL] = CollectingSender()
        worker = dramatiq.Worker(staff.runtime.broker, worker_threads=2, worker_timeout=50)
        worker.start()
        try:
            yield staff
        finally:
            worker.stop()


def test_sequences_from_a_new_ticket_read_and_change_it_as_documented(
    working_desk: StaffDesk,
) -> None:
    desk = working_desk
    schema = schemathesis.openapi.from_asgi("/openapi.json", desk.app, config=CONFIG).include(
        path_regex=r"^/api/v1/(tickets|desk/tickets/\{number\}(/[a-z]+)?)$"
    )
    with_real_files(schema)  # a new ticket's files: none in a sequence (the public fuzz's)
    answered: Counter[tuple[str, int]] = Counter()

    @schema.auth(refresh_interval=None)
    class AdminToken:
        def get(self, case: Any, context: Any) -> str:
            return create_token(desk.runtime, "root").secret

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            refers = case.operation.label in REFERS_TO_STATE
            excluded = [positive_data_acceptance] if refers else []
            case.validate_response(response, excluded_checks=excluded)

        def after_call(self, response: Any, case: Any) -> None:
            answered[(case.operation.label, response.status_code)] += 1

    Machine.run(
        settings=settings(HYPOTHESIS, max_examples=max(EXAMPLES // 8, 10), stateful_step_count=6)
    )
    assert answered[("GET /api/v1/desk/tickets/{number}", 200)] > 0, answered
    changed = sum(
        n for (label, status), n in answered.items() if "{number}/" in label and status < 300
    )
    assert changed > 0, answered
