"""Sign in, sign out, and who am I: ``/api/v1/session`` and ``/api/v1/me``."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from config.staff_settings import StaffSettings
from connectors.ports import StaffAuth
from connectors.web.schemas import BODY_ERRORS, Problem
from connectors.web.staff.gate import (
    INVALID,
    SESSION_COOKIE,
    UNAUTHENTICATED,
    UNAVAILABLE,
    StaffGate,
    client_address,
    unauthenticated,
)
from connectors.web.staff.schemas import Me, SignInRequest
from router.errors import SignInRefused, SignInThrottled
from router.staff_views import Caller

NO_STORE = {"Cache-Control": "no-store"}


def set_session_cookie(
    response: Response, request: Request, secret: str, staff: StaffSettings
) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when the request came over https
    (the JSON sign-in and the workspace's sign-in page set the same one)."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=staff.session_max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def session_router(gate: StaffGate, auth: StaffAuth, staff: StaffSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["staff"])

    @router.post(
        "/session",
        summary="Sign in",
        response_model=Me,
        response_description="Signed in: the session cookie is set; keep the csrf_token.",
        responses={
            **BODY_ERRORS,
            401: {"model": Problem, "description": "Wrong name or password."},
            422: INVALID,
            429: {
                "model": Problem,
                "description": "Too many failed sign-ins for this account or from this "
                "address: retry after Retry-After seconds.",
            },
            503: UNAVAILABLE,
        },
    )
    async def sign_in(request: Request, response: Response, body: SignInRequest) -> Me:
        """Sign in with an agent's name and password (`relaydesk agents password NAME` sets
        one). The answer sets the session cookie (HttpOnly, SameSite=Lax, Secure over
        https) and carries the CSRF token that POST, PUT, PATCH and DELETE need."""
        try:
            signed = await run_in_threadpool(
                auth.sign_in,
                body.name,
                body.password,
                address=client_address(request),
                user_agent=request.headers.get("user-agent", ""),
            )
        except SignInThrottled as exc:
            raise HTTPException(
                429,
                detail=f"too many failed sign-ins: try again in {exc.retry_after_s} s",
                headers={"Retry-After": str(exc.retry_after_s)},
            ) from None
        except SignInRefused:
            raise unauthenticated("wrong name or password") from None
        set_session_cookie(response, request, signed.secret, staff)
        response.headers.update(NO_STORE)
        return Me.of(signed.caller)

    @router.delete(
        "/session",
        summary="Sign out",
        status_code=204,
        responses={
            **BODY_ERRORS,
            401: UNAUTHENTICATED,
            403: {"model": Problem, "description": "The CSRF token is missing or wrong."},
            422: INVALID,
            503: UNAVAILABLE,
        },
    )
    async def sign_out(
        request: Request, caller: Annotated[Caller, Depends(gate.caller)]
    ) -> Response:
        """End this session at once and clear its cookie (with a token: nothing to end)."""
        await run_in_threadpool(auth.sign_out, caller)
        response = Response(status_code=204)
        clear_session_cookie(response, request)
        return response

    @router.get(
        "/me",
        summary="Who am I",
        response_model=Me,
        responses={401: UNAUTHENTICATED, 503: UNAVAILABLE},
    )
    async def me(response: Response, caller: Annotated[Caller, Depends(gate.caller)]) -> Me:
        """The signed-in agent: role, teams, the teams they supervise, and for a session
        its CSRF token."""
        response.headers.update(NO_STORE)
        return Me.of(caller)

    return router
