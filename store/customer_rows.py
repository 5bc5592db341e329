"""New customers and their identities written: a customer row, then its identity on one
channel (``ON CONFLICT DO NOTHING``: an address another transaction gave an identity
meanwhile keeps theirs, and the customer row made for it here is the caller's to remove).

A lone new customer (a ticket that rides alone) is one statement on PostgreSQL: the
customer's INSERT ... RETURNING in a data-modifying CTE that the identity's INSERT reads.
Several new customers are two multi-row statements (which identity is whose customer is
matched by the order the customers' ids come back in, ``insert_rows``), and so is every
batch on SQLite, which has no data-modifying CTE.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, insert, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from store.dialect import insert_many_ignoring_conflict, insert_rows
from store.models import Customer, CustomerIdentity

NewCustomer = tuple[str, str, int | None, str | None]
"""(address, name, organisation id, language) of a customer to make."""


def insert_customers(
    session: Session, channel: str, new: list[NewCustomer], now: datetime
) -> tuple[dict[str, int], set[int]]:
    """Make a customer with an identity on ``channel`` for each of ``new``: the customers'
    ids by address, and the ids whose identity was made (not one another transaction
    made first)."""
    if len(new) == 1 and session.get_bind().dialect.name == "postgresql":
        address, name, organisation_id, language = new[0]
        values = {
            "name": name,
            "organisation_id": organisation_id,
            "language": language,
            "channel": channel,
            "address": address,
            "now": now,
        }
        customer_id, identity_of = session.execute(_customer_with_identity(), values).one()
        return {address: customer_id}, {identity_of} if identity_of is not None else set()
    rows = [
        {"name": n, "created_at": now, "organisation_id": o, "language": language}
        for _, n, o, language in new
    ]
    ids = dict(zip((a for a, *_ in new), insert_rows(session, Customer, rows), strict=True))
    identities = [
        {"customer_id": ids[a], "channel": channel, "address": a, "created_at": now}
        for a, *_ in new
    ]
    made = insert_many_ignoring_conflict(
        session, CustomerIdentity, identities, returning=("customer_id",)
    )
    return ids, {row[0] for row in made}


@cache
def _customer_with_identity() -> Executable:
    """One customer and its identity (PostgreSQL): the customer's id, and it again when
    its identity was made (NULL: the address had one already)."""
    made = (
        insert(Customer)
        .values(
            name=bindparam("name"),
            organisation_id=bindparam("organisation_id"),
            language=bindparam("language"),
            created_at=bindparam("now"),
        )
        .returning(Customer.id)
        .cte("made")
    )
    given: Any = select(made.c.id, bindparam("channel"), bindparam("address"), bindparam("now"))
    identity = (
        pg_insert(CustomerIdentity)
        .from_select(["customer_id", "channel", "address", "created_at"], given)
        .on_conflict_do_nothing()
        .returning(CustomerIdentity.customer_id)
        .cte("identity")
    )
    return select(made.c.id, identity.c.customer_id).select_from(made.outerjoin(identity, true()))


__all__ = ["NewCustomer", "insert_customers"]
