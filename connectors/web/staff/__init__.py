"""The staff API under ``/api/v1``: sign-in, who am I, agents, tokens, reports, tickets.

``mount_staff_api`` mounts it; endpoints added later take their caller from the
same ``StaffGate`` (see ``connectors.web.staff.gate``).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from config.settings import Settings
from connectors.ports import Staff
from connectors.web.form_titles import FormTitles
from connectors.web.staff.agent_routes import agent_router
from connectors.web.staff.board_routes import board_router
from connectors.web.staff.comparison_routes import comparison_router
from connectors.web.staff.customer_routes import customer_router
from connectors.web.staff.gate import StaffGate, TicketAccess
from connectors.web.staff.macro_routes import macro_router
from connectors.web.staff.merge_routes import merge_router
from connectors.web.staff.report_routes import report_router
from connectors.web.staff.saved_search_routes import saved_search_router
from connectors.web.staff.session_routes import session_router
from connectors.web.staff.simulation_routes import simulation_router
from connectors.web.staff.split_routes import split_router
from connectors.web.staff.ticket_action_routes import ticket_action_routers
from connectors.web.staff.ticket_routes import ticket_router
from connectors.web.staff.token_routes import token_router
from connectors.web.staff.webhook_routes import webhook_router

__all__ = ["StaffGate", "TicketAccess", "mount_staff_api"]


def mount_staff_api(
    app: FastAPI, staff: Staff, desk_settings: Settings, gate: StaffGate | None = None
) -> None:
    """Each of the staff API's routers included in ``app`` itself, as the workspace's are:
    a router included in a router that the app then includes had its every route built
    once more (FastAPI builds a route's models again at each include; a third of the app's
    construction, which the tests pay for each desk they make)."""
    for router in staff_routers(staff, desk_settings, gate or StaffGate(staff, staff)):
        app.include_router(router)


def staff_routers(staff: Staff, desk_settings: Settings, gate: StaffGate) -> list[APIRouter]:
    settings, web = desk_settings.staff, desk_settings.web
    return [
        session_router(gate, staff, settings),
        agent_router(gate, staff),
        board_router(gate, staff),
        macro_router(gate, staff),
        saved_search_router(gate, staff),
        split_router(gate, staff),
        merge_router(gate, staff, staff),
        token_router(gate, staff),
        report_router(gate, staff),
        comparison_router(gate, staff),
        ticket_router(gate, staff, FormTitles(desk_settings)),
        customer_router(gate, staff),
        webhook_router(gate, staff),
        simulation_router(gate, staff),
        *ticket_action_routers(gate, staff, web),
    ]
