"""The staff API under ``/api/v1``: sign-in, who am I, agents, tokens, reports, tickets.

``staff_router`` mounts it; endpoints added later take their caller from the
same ``StaffGate`` (see ``connectors.web.staff.gate``).
"""

from __future__ import annotations

from fastapi import APIRouter

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
from connectors.web.staff.ticket_action_routes import ticket_action_router
from connectors.web.staff.ticket_routes import ticket_router
from connectors.web.staff.token_routes import token_router
from connectors.web.staff.webhook_routes import webhook_router

__all__ = ["StaffGate", "TicketAccess", "staff_router"]


def staff_router(staff: Staff, desk_settings: Settings, gate: StaffGate | None = None) -> APIRouter:
    gate = gate or StaffGate(staff, staff)
    settings, web = desk_settings.staff, desk_settings.web
    router = APIRouter()
    router.include_router(session_router(gate, staff, settings))
    router.include_router(agent_router(gate, staff))
    router.include_router(board_router(gate, staff))
    router.include_router(macro_router(gate, staff))
    router.include_router(saved_search_router(gate, staff))
    router.include_router(split_router(gate, staff))
    router.include_router(merge_router(gate, staff, staff))
    router.include_router(token_router(gate, staff))
    router.include_router(report_router(gate, staff))
    router.include_router(comparison_router(gate, staff))
    router.include_router(ticket_router(gate, staff, FormTitles(desk_settings)))
    router.include_router(customer_router(gate, staff))
    router.include_router(webhook_router(gate, staff))
    router.include_router(simulation_router(gate, staff))
    router.include_router(ticket_action_router(gate, staff, web))
    return router
