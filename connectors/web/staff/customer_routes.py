"""Customers and organisations over HTTP: profiles, search, create, update, merge.

As in Zendesk, every agent reads the customer directory and organisations (who is
asking matters to whoever answers), but a customer's ticket list holds only the
tickets the caller could open; supervisors and admins create, change and merge
(``Ability.EDIT_CUSTOMERS``). The use cases are the command line's
(``relaydesk customers ...``, ``relaydesk orgs ...``), audited with the caller.
"""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from connectors.ports import CustomerDesk
from connectors.web.schemas import BODY_ERRORS, ID, Problem, ValidationProblems
from connectors.web.staff.customer_schemas import (
    PRINTABLE,
    CustomerOut,
    CustomerPage,
    CustomerUpdate,
    MergeRequest,
    NewCustomer,
    NewOrganisation,
    OrganisationOut,
    OrganisationPage,
    OrganisationUpdate,
)
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from router.access import Ability
from router.errors import AlreadyTaken, NotFound
from router.staff_views import Caller
from router.storable import is_id

T = TypeVar("T")
CUSTOMER_ID = Annotated[int, Path(description="The customer's id.", **ID)]
ORGANISATION_ID = Annotated[int, Path(description="The organisation's id.", **ID)]
AFTER = Annotated[int, Query(ge=0, le=2**31 - 1, description="Continue after this id.")]
LIMIT = Annotated[int, Query(ge=1, le=200, description="At most this many.")]
Answers = dict[int | str, dict[str, Any]]
MISSING: Answers = {404: {"model": Problem, "description": "No such customer or organisation."}}
TAKEN: Answers = {
    409: {"model": Problem, "description": "An address, name or domain is another's."}
}
REFUSED: Answers = {
    422: {
        "model": ValidationProblems,
        "description": "Invalid; or it names no organisation, or the merge cannot be made.",
    }
}
CHANGES: Answers = {
    **BODY_ERRORS,
    **AUTH_ERRORS,
    **MISSING,
    **TAKEN,
    **REFUSED,
}


async def _run(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call the desk; its refusals as HTTP answers (404, 409, 422)."""
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from None
    except AlreadyTaken as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None


# OpenAPI links: what the answer to a POST lets a client do next with what it made
CUSTOMER_LINKS = {
    name: {"operationId": operation, "parameters": {"customer_id": "$response.body#/id"}}
    for name, operation in (
        ("GetCustomer", "get_customer"),
        ("UpdateCustomer", "update_customer"),
        ("MergeCustomer", "merge_customer"),
    )
}
ORGANISATION_LINKS = {
    name: {"operationId": operation, "parameters": {"organisation_id": "$response.body#/id"}}
    for name, operation in (
        ("GetOrganisation", "get_organisation"),
        ("UpdateOrganisation", "update_organisation"),
    )
}


def _exists(record_id: int, kind: str) -> None:
    if not is_id(record_id):
        raise HTTPException(404, detail=f"{kind} {record_id} not found")


def customer_router(gate: StaffGate, desk: CustomerDesk) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["customers"])
    reader = gate.allowed(Ability.VIEW_CUSTOMERS)
    editor = gate.allowed(Ability.EDIT_CUSTOMERS)

    @router.get(
        "/customers", summary="Find customers", response_model=CustomerPage, responses=AUTH_ERRORS
    )
    async def list_customers(
        caller: Annotated[Caller, Depends(reader)],
        q: Annotated[
            str, Query(max_length=200, pattern=PRINTABLE, description="In a name or address.")
        ] = "",
        organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        after: AFTER = 0,
        limit: LIMIT = 50,
    ) -> CustomerPage:
        """Customers by id (never one merged into another), whose name or an address
        contains `q`, of an organisation; without their tickets."""
        found = await _run(
            desk.customers,
            text=q.strip(),
            organisation_id=organisation_id,
            after=after,
            limit=limit,
        )
        return CustomerPage(
            customers=[CustomerOut.of(c) for c in found],
            next_after=found[-1].id if len(found) == limit else None,
        )

    @router.post(
        "/customers",
        summary="Create a customer",
        status_code=201,
        response_model=CustomerOut,
        responses={**CHANGES, 201: {"description": "Created.", "links": CUSTOMER_LINKS}},
    )
    async def create_customer(
        body: NewCustomer, caller: Annotated[Caller, Depends(editor)]
    ) -> CustomerOut:
        """A customer entered by staff, with their addresses (each belongs to one customer:
        409 when another has it)."""
        made = await _run(
            desk.create_customer,
            caller,
            name=body.name,
            addresses=[a.pair() for a in body.addresses],
            tier=body.tier,
            organisation_id=body.organisation_id,
            attributes=dict(body.attributes),
        )
        return CustomerOut.of(made)

    @router.get(
        "/customers/{customer_id}",
        operation_id="get_customer",
        summary="A customer's profile",
        response_model=CustomerOut,
        responses={**AUTH_ERRORS, **MISSING},
    )
    async def get_customer(
        customer_id: CUSTOMER_ID, caller: Annotated[Caller, Depends(reader)]
    ) -> CustomerOut:
        """Name, addresses, organisation, tier, custom attributes and their newest tickets
        that the caller may open."""
        _exists(customer_id, "customer")
        return CustomerOut.of(await _run(desk.customer, caller, customer_id))

    @router.patch(
        "/customers/{customer_id}",
        operation_id="update_customer",
        summary="Change a customer",
        response_model=CustomerOut,
        responses=CHANGES,
    )
    async def update_customer(
        customer_id: CUSTOMER_ID, body: CustomerUpdate, caller: Annotated[Caller, Depends(editor)]
    ) -> CustomerOut:
        """Fields left out are kept, `null` empties one; `attributes` sets keys (`null`
        removes one); addresses are added or removed. A new tier or organisation applies to
        the tickets the customer opens from then on."""
        _exists(customer_id, "customer")
        return CustomerOut.of(await _run(desk.update_customer, caller, customer_id, body.changes()))

    @router.post(
        "/customers/{customer_id}/merge",
        operation_id="merge_customer",
        summary="Merge a customer into another",
        response_model=CustomerOut,
        responses=CHANGES,
    )
    async def merge_customer(
        customer_id: CUSTOMER_ID, body: MergeRequest, caller: Annotated[Caller, Depends(editor)]
    ) -> CustomerOut:
        """Fold this customer into `into`: their tickets and addresses move there; `into`
        keeps its profile and takes what it lacks (name, tier, organisation, attributes)
        from this one, which stays readable with `merged_into`. Answers the survivor."""
        _exists(customer_id, "customer")
        return CustomerOut.of(await _run(desk.merge_customers, caller, customer_id, body.into))

    @router.get(
        "/organisations",
        summary="List organisations",
        response_model=OrganisationPage,
        responses=AUTH_ERRORS,
        tags=["organisations"],
    )
    async def list_organisations(
        caller: Annotated[Caller, Depends(reader)], after: AFTER = 0, limit: LIMIT = 100
    ) -> OrganisationPage:
        found = await _run(desk.organisations, after=after, limit=limit)
        return OrganisationPage(
            organisations=[OrganisationOut.of(o) for o in found],
            next_after=found[-1].id if len(found) == limit else None,
        )

    @router.post(
        "/organisations",
        summary="Create an organisation",
        status_code=201,
        response_model=OrganisationOut,
        responses={**CHANGES, 201: {"description": "Created.", "links": ORGANISATION_LINKS}},
        tags=["organisations"],
    )
    async def create_organisation(
        body: NewOrganisation, caller: Annotated[Caller, Depends(editor)]
    ) -> OrganisationOut:
        """Its email domains link customers to it: new ones as they first write, and those
        already writing from a domain who belong to no organisation."""
        made = await _run(
            desk.create_organisation,
            caller,
            name=body.name,
            tier=body.tier,
            domains=tuple(body.domains),
            attributes=dict(body.attributes),
        )
        return OrganisationOut.of(made)

    @router.get(
        "/organisations/{organisation_id}",
        operation_id="get_organisation",
        summary="An organisation",
        response_model=OrganisationOut,
        responses={**AUTH_ERRORS, **MISSING},
        tags=["organisations"],
    )
    async def get_organisation(
        organisation_id: ORGANISATION_ID, caller: Annotated[Caller, Depends(reader)]
    ) -> OrganisationOut:
        _exists(organisation_id, "organisation")
        return OrganisationOut.of(await _run(desk.organisation, organisation_id))

    @router.patch(
        "/organisations/{organisation_id}",
        operation_id="update_organisation",
        summary="Change an organisation",
        response_model=OrganisationOut,
        responses=CHANGES,
        tags=["organisations"],
    )
    async def update_organisation(
        organisation_id: ORGANISATION_ID,
        body: OrganisationUpdate,
        caller: Annotated[Caller, Depends(editor)],
    ) -> OrganisationOut:
        """Fields left out are kept; `domains` replaces the whole list; a new tier applies
        to the tickets its customers open from then on."""
        _exists(organisation_id, "organisation")
        return OrganisationOut.of(
            await _run(desk.update_organisation, caller, organisation_id, body.changes())
        )

    return router
