"""The agents' workspace in the browser: server-rendered pages under ``/desk``.

Each page takes its caller from the staff API's gate (``door.PageDoor``) and
calls the same ``connectors.ports.Staff`` methods the JSON API calls: same scope,
same roles, same audit. Templates, styles, script and texts are the web
package's (``connectors/web/templates``, ``static``, ``locale``); nothing is loaded from
elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from config.settings import Settings
from connectors.ports import Staff
from connectors.web.staff.gate import StaffGate
from connectors.web.workspace.action_pages import action_router
from connectors.web.workspace.board_pages import board_router
from connectors.web.workspace.door import PREFIX, PageDoor, SignInFirst, error_page
from connectors.web.workspace.door import sign_in_redirect as _sign_in_redirect
from connectors.web.workspace.home_pages import home_router
from connectors.web.workspace.merge_pages import merge_router
from connectors.web.workspace.pages import STATIC, Pages
from connectors.web.workspace.report_pages import report_page_router
from connectors.web.workspace.saved_search_pages import saved_search_router
from connectors.web.workspace.sign_in_pages import sign_in_router
from connectors.web.workspace.ticket_pages import ticket_router

__all__ = ["PREFIX", "mount_workspace"]


def mount_workspace(app: FastAPI, staff: Staff, settings: Settings, gate: StaffGate) -> None:
    """Add the workspace's pages, its static files and its error pages to ``app``."""
    pages = Pages(settings, staff)
    door = PageDoor(gate)
    app.include_router(sign_in_router(pages, door, staff, settings.staff))
    app.include_router(home_router(pages, door, staff))
    app.include_router(board_router(pages, door, staff))
    app.include_router(ticket_router(pages, door, staff))
    app.include_router(report_page_router(pages, door, staff))
    app.include_router(saved_search_router(door, staff))
    app.include_router(action_router(pages, door, staff, settings.web))
    app.include_router(merge_router(pages, door, staff))
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="workspace_static")
    app.add_exception_handler(SignInFirst, _sign_in_redirect)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, error_page(pages))  # type: ignore[arg-type]
