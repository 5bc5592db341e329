"""The whole OpenAPI document, run against the app on the real store (SQLite and PostgreSQL):
generated requests, valid and invalid, to every operation (each sent to both stores), then
sequences that follow the POST's links to the reads. No server error, and no answer the
document does not describe.

Bounded: ``RELAYDESK_FUZZ_EXAMPLES`` examples per operation and kind (200 by default).
"""

from __future__ import annotations

import base64
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.generation.meta import TestPhase

from connectors.web.app import create_app
from tests.conftest import make_settings
from tests.support.desk import Desk, desk_for
from tests.support.project_modules import import_project_modules
from workers.desk.requester_ports import RequesterPorts

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = int(os.environ.get("RELAYDESK_FUZZ_EXAMPLES", "200"))
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # refusals the document lists besides schemathesis' defaults: 413 (the body is
            # over web.max_body_bytes: a request can be invalid by its size alone)
            "negative_data_rejection": {
                "expected-statuses": ["400", "404", "405", "409", "413", "415", "422"]
            },
        }
    }
)
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)
# derandomized draws are the same only from the same pool of the project's literals, which
# Hypothesis takes from the modules loaded so far: all of them, whatever ran before here
import_project_modules()


def fuzzed_desk(database_url: str, wait_s: float) -> Iterator[Desk]:
    # large enough for the longest request the document allows (100,000 characters of body
    # and 50 custom values of 1,000, each character escaped as \uXXXX)
    yield from desk_for(
        make_settings(
            database_url,
            relaydesk_web__intake_wait_s=str(wait_s),
            relaydesk_web__intake_backlog_s=str(wait_s),
            relaydesk_web__max_body_bytes="2000000",
        )
    )


def app_of(desk: Desk) -> FastAPI:
    return create_app(
        intake=desk.intake,
        tickets=desk.intake,
        settings=desk.runtime.settings,
        requester=RequesterPorts(desk.runtime),
    )


@pytest.fixture
def app(sqlite_url: str) -> Iterator[FastAPI]:
    """The app the requests are drawn for, on SQLite."""
    for desk in fuzzed_desk(sqlite_url, wait_s=0.5):
        yield app_of(desk)


@pytest.fixture
def postgres_app(empty_postgres_url: str) -> Iterator[FastAPI]:
    """The app each request is sent to next, on PostgreSQL."""
    for desk in fuzzed_desk(empty_postgres_url, wait_s=0.5):
        yield app_of(desk)


@pytest.fixture
def steady_app(database_url: str) -> Iterator[FastAPI]:
    """For sequences: a POST answers 201 whenever its ticket is made within 30 s, however
    busy the machine. Hypothesis replays a run and requires the same answers: a POST that
    answered 202 on the replay (it waited past 0.5 s, or earlier ones had) left the next
    step's link without its record (FlakyStrategyDefinition, on a loaded machine)."""
    for desk in fuzzed_desk(database_url, wait_s=30):
        yield app_of(desk)


FILES = [bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001"), b"plain text"]


def with_real_files(schema: Any) -> Any:
    """A file's type is read from its content, which no schema can say: a valid request's
    files (``content_base64``) are made real ones, a picture or a text, so a refusal of
    what the document allows is still a failure; invalid requests are left as made. In
    the sequences a valid request sends none: keeping files (each written and synced)
    may make a POST outlast its wait and answer 202 instead of 201, and the links a run
    may follow next would then differ from one run of the same draws to the next."""

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        body = case.body
        positive = case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE
        if positive and isinstance(body, dict) and isinstance(body.get("files"), list):
            if case.meta.phase.name is TestPhase.STATEFUL:
                body["files"] = []
            for i, sent in enumerate(body["files"]):
                if isinstance(sent, dict) and "content_base64" in sent:
                    sent["content_base64"] = base64.b64encode(FILES[i % 2]).decode()
        return case

    return schema


def test_every_operation_answers_valid_and_invalid_requests_as_documented(
    app: FastAPI, postgres_app: FastAPI
) -> None:
    """Each request drawn is sent to the app on SQLite, then to the one on PostgreSQL:
    drawing is most of the run's CPU, and derandomized draws give each store the requests
    it got when it had a run of its own, for one drawing instead of two."""
    schema = with_real_files(schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/v1/tickets",
        "GET /api/v1/tickets/{number}",
        "GET /api/v1/submissions/{submission_id}",
        "GET /api/v1/tickets/{number}/files/{sha256}",
        "POST /api/v1/tickets/{number}/messages",
    }
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @HYPOTHESIS
            @given(case=operation.as_strategy(generation_mode=mode))
            def answers_as_documented(case: Any) -> None:
                case.call_and_validate()
                case.call_and_validate(app=postgres_app)

            try:
                answers_as_documented()
            except Unsatisfiable:  # no invalid request can be made (an operation without input)
                assert mode is GenerationMode.NEGATIVE


def test_sequences_that_follow_the_links_read_what_the_post_made(steady_app: FastAPI) -> None:
    schema = with_real_files(
        schemathesis.openapi.from_asgi("/openapi.json", steady_app, config=CONFIG)
    )
    answered: Counter[tuple[str, int]] = Counter()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: Any) -> None:
            answered[(case.operation.label, response.status_code)] += 1

    Machine.run(
        settings=settings(HYPOTHESIS, max_examples=max(EXAMPLES // 4, 10), stateful_step_count=6)
    )

    assert answered[("GET /api/v1/tickets/{number}", 200)] > 0, answered
    assert answered[("GET /api/v1/submissions/{submission_id}", 200)] > 0, answered
