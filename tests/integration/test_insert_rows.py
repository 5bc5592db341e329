"""``store.dialect.insert_rows``: many rows' new keys, in the order given, on both stores;
with ``match_on``, matched back by that column's value (one statement), and as without
when two rows share a value or one has none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from store.db import Database
from store.dialect import insert_rows
from store.models import Customer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "names",
    [["ann", "bob", "cy", "dee"], ["ann", "bob", "ann"], ["solo"]],
    ids=["distinct", "shared", "one"],
)
@pytest.mark.parametrize("match_on", [None, "name"])
def test_the_keys_come_back_in_the_order_of_the_rows(
    db: Database, names: list[str], match_on: str | None
) -> None:
    rows = [{"name": n, "created_at": NOW} for n in names]
    with db.unit_of_work() as uow:
        ids = insert_rows(uow.session, Customer, rows, match_on=match_on)
    assert len(set(ids)) == len(names)
    with db.unit_of_work() as uow:
        stored = dict(uow.session.execute(select(Customer.id, Customer.name)).tuples().all())
    assert [stored[i] for i in ids] == names
