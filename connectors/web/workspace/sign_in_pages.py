"""Signing in and out of the workspace: the same session use case as ``/api/v1/session``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from config.staff_settings import StaffSettings
from connectors.ports import StaffAuth
from connectors.web.route_paths import url_path
from connectors.web.staff.gate import client_address
from connectors.web.staff.session_routes import clear_session_cookie, set_session_cookie
from connectors.web.workspace.door import PREFIX, PageDoor, local_path
from connectors.web.workspace.pages import Pages
from router.errors import SignInRefused, SignInThrottled
from router.staff_views import Caller

MAX_NAME = 64
MAX_PASSWORD = 1024


def sign_in_router(
    pages: Pages, door: PageDoor, auth: StaffAuth, staff: StaffSettings
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/sign-in", name="workspace_sign_in", response_class=HTMLResponse)
    async def show_sign_in(request: Request, next: str = "") -> HTMLResponse:
        return await pages.page(
            request, "sign_in.html", back=local_path(next, PREFIX + "/"), name="", problem=""
        )

    @router.post("/sign-in", name="workspace_signed_in", response_class=HTMLResponse)
    async def sign_in(
        request: Request,
        name: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        back: Annotated[str, Form()] = "",
    ) -> Response:
        back = local_path(back, PREFIX + "/")
        name = name.strip()
        try:
            if not name or len(name) > MAX_NAME or not password or len(password) > MAX_PASSWORD:
                raise SignInRefused()
            signed = await run_in_threadpool(
                auth.sign_in,
                name,
                password,
                address=client_address(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        except SignInThrottled as exc:
            return await pages.page(
                request,
                "sign_in.html",
                status=429,
                headers={"Retry-After": str(exc.retry_after_s)},
                back=back,
                name=name,
                problem="throttled",
                retry_after_s=exc.retry_after_s,
            )
        except SignInRefused:
            return await pages.page(
                request, "sign_in.html", status=401, back=back, name=name, problem="refused"
            )
        response = RedirectResponse(back, status_code=303)
        set_session_cookie(response, request, signed.secret, staff)
        return response

    @router.post("/sign-out", name="workspace_sign_out")
    async def sign_out(
        request: Request, caller: Annotated[Caller, Depends(door.caller)]
    ) -> Response:
        await run_in_threadpool(auth.sign_out, caller)
        response = RedirectResponse(url_path(request, "workspace_sign_in"), status_code=303)
        clear_session_cookie(response, request)
        return response

    return router
