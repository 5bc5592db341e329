"""Organisations for staff: list, read, create, update; each change audited.

An organisation's tier is its customers' unless they have their own; its email
domains link customers to it (see ``store.organisations``).
"""

from __future__ import annotations

from typing import Any

from router.audit_origin import ActorRef
from router.customer_records import OrganisationChanges, OrganisationView
from router.errors import NotFound
from router.vocabulary import AuditAction, SystemActor
from workers.runtime.context import Runtime


def list_organisations(
    runtime: Runtime, *, after: int = 0, limit: int = 100
) -> list[OrganisationView]:
    with runtime.db.unit_of_work() as uow:
        return uow.organisations.all(after=after, limit=limit)


def organisation(runtime: Runtime, organisation_id: int) -> OrganisationView:
    with runtime.db.unit_of_work() as uow:
        view = uow.organisations.view(organisation_id)
    if view is None:
        raise NotFound(f"no organisation {organisation_id}")
    return view


def organisation_named(runtime: Runtime, name: str) -> OrganisationView:
    """For the command line, which names organisations."""
    with runtime.db.unit_of_work() as uow:
        found = uow.organisations.named(name)
        view = None if found is None else uow.organisations.view(found.id)
    if view is None:
        raise NotFound(f"no organisation named {name!r}")
    return view


def create_organisation(
    runtime: Runtime,
    *,
    name: str,
    tier: str | None = None,
    domains: tuple[str, ...] = (),
    attributes: dict[str, Any] | None = None,
    actor: ActorRef = SystemActor.CLI,
) -> OrganisationView:
    """A new organisation; ``AlreadyTaken`` for a name or domain another one has,
    ``ValueError`` for a domain or attribute refused."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        organisation_id = uow.organisations.create(
            name=name, tier=tier, domains=domains, attributes=dict(attributes or {}), now=now
        )
        view = uow.organisations.view(organisation_id)
        assert view is not None
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.ORGANISATION_CREATED,
            detail=f"organisation {organisation_id}: {view.name}",
            now=now,
            data={"organisation_id": organisation_id, "after": _audited(view)},
        )
    return view


def update_organisation(
    runtime: Runtime,
    organisation_id: int,
    changes: OrganisationChanges,
    *,
    actor: ActorRef = SystemActor.CLI,
) -> OrganisationView:
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        found = uow.organisations.get(organisation_id, for_update=True)
        if found is None:
            raise NotFound(f"no organisation {organisation_id}")
        before = uow.organisations.view(organisation_id)
        changed = uow.organisations.update(found, changes, now)
        view = uow.organisations.view(organisation_id)
        assert before is not None and view is not None
        if changed:
            old, new = _audited(before), _audited(view)
            uow.audit.record(
                ticket_id=None,
                actor=actor,
                action=AuditAction.ORGANISATION_UPDATED,
                detail=f"organisation {organisation_id}: {', '.join(changed)}",
                now=now,
                data={
                    "organisation_id": organisation_id,
                    "before": {k: old[k] for k in changed},
                    "after": {k: new[k] for k in changed},
                },
            )
    return view


def _audited(view: OrganisationView) -> dict[str, Any]:
    return {
        "name": view.name,
        "tier": view.tier,
        "domains": list(view.domains),
        "attributes": dict(view.attributes),
    }
