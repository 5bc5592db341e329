"""The staff OpenAPI fuzz (tests/support/staff_fuzz.py), its second group: people and access
(me, the session, agents, tokens, customers, organisations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.staff_fuzz import PEOPLE, fuzz_operations

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_every_people_and_access_operation_answers_an_admins_program_as_documented(
    sqlite_url: str, empty_postgres_url: str, tmp_path: Path
) -> None:
    # the session's 2, me, the agents' 2, the tokens' 3, the customers' 5, the organisations' 4
    fuzz_operations(PEOPLE, 17, sqlite_url, empty_postgres_url, tmp_path)
