"""The staff OpenAPI fuzz's four groups (tests/support/staff_fuzz.py): each staff operation
in exactly one, so that no operation goes unfuzzed when the fuzz is split into files."""

from __future__ import annotations

from tests.support.staff_fuzz import DESK, GROUPS, PEOPLE, READS, TOOLS, ungrouped

PATHS = [
    "/api/v1/tickets",  # the public API's: not a staff operation, in no group
    "/api/v1/session",
    "/api/v1/me",
    "/api/v1/agents/me/status",
    "/api/v1/tokens/{token_id}",
    "/api/v1/desk/tickets/{number}",
    "/api/v1/customers/{customer_id}/merge",
    "/api/v1/organisations",
    "/api/v1/webhooks/{webhook_id}/pause",
    "/api/v1/macros/{name}",
    "/api/v1/saved-searches",
    "/api/v1/admin/simulations",
    "/api/v1/board",
    "/api/v1/reports/comparison",
    "/api/v1/exports/tickets",
]


def test_the_groups_share_out_the_staff_operations_each_to_one() -> None:
    assert ungrouped(PATHS, GROUPS) == {}


def test_a_prefix_a_group_lost_leaves_its_operations_in_no_group() -> None:
    people = tuple(prefix for prefix in PEOPLE if prefix != "/api/v1/tokens")
    groups = {"desk": DESK, "people": people, "tools": TOOLS, "reads": READS}
    assert ungrouped(PATHS, groups) == {"/api/v1/tokens/{token_id}": []}


def test_a_prefix_in_two_groups_is_found_in_both() -> None:
    groups = {"desk": DESK, "people": PEOPLE, "tools": (*TOOLS, "/api/v1/me"), "reads": READS}
    assert ungrouped(PATHS, groups) == {"/api/v1/me": ["people", "tools"]}
