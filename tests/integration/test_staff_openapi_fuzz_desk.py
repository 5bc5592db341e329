"""The staff OpenAPI fuzz (tests/support/staff_fuzz.py), its first group: the ticket desk's
operations (/api/v1/desk). Also: the four groups share out every staff operation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.staff import staff_desk
from tests.support.staff_fuzz import (
    DESK,
    GROUPS,
    STAFF_PREFIXES,
    fuzz_operations,
    staff_paths,
    ungrouped,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# the requester's API and the probes, one per operation: what the staff fuzz leaves to the
# public one (tests/integration/test_openapi_fuzz.py)
PUBLIC = [
    "/api/v1/tickets",
    "/api/v1/submissions/{submission_id}",
    "/api/v1/tickets/{number}",
    "/healthz",
    "/readyz",
    "/api/v1/tickets/{number}/messages",
    "/api/v1/tickets/{number}/files/{sha256}",
]


def test_the_four_groups_share_out_every_staff_operation(sqlite_url: str, tmp_path: Path) -> None:
    with staff_desk(sqlite_url, relaydesk_email__attachments_dir=str(tmp_path)) as desk:
        paths = staff_paths(desk)
    assert ungrouped(paths, GROUPS) == {}
    # 20 before the webhooks (the macro action made it 20), 9 of them, 10 ticket actions,
    # the split, the macros' 4, the saved searches' 3, the merge, the simulation's 3, the
    # board, the report with its versions and comparison, the export
    assert (
        len([path for path in paths if path.startswith(STAFF_PREFIXES)])
        == 20 + 9 + 10 + 1 + 4 + 3 + 1 + 3 + 1 + 3 + 1
    )
    # no staff operation outside the staff prefixes: only the public API's and the probes
    assert [path for path in paths if not path.startswith(STAFF_PREFIXES)] == PUBLIC


def test_every_ticket_desk_operation_answers_an_admins_program_as_documented(
    sqlite_url: str, empty_postgres_url: str, tmp_path: Path
) -> None:
    # the list, a ticket's read and change, an attachment, 7 actions, the upload, the macro
    # action, the split and the merge
    fuzz_operations(DESK, 15, sqlite_url, empty_postgres_url, tmp_path)
