"""API tokens over HTTP, for admins: create (shown once), list, revoke."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from starlette.concurrency import run_in_threadpool

from connectors.ports import TokenAdmin
from connectors.web.schemas import BODY_ERRORS, ID, Problem, ValidationProblems
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.schemas import NewTokenOut, TokenOut, TokenRequest
from router.access import Ability
from router.credentials import parse_lifetime
from router.errors import NotFound
from router.staff_views import Caller
from router.storable import is_id

Admin = Ability.MANAGE_TOKENS


def token_router(gate: StaffGate, tokens: TokenAdmin) -> APIRouter:
    router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])

    @router.post(
        "",
        summary="Create a token",
        status_code=201,
        response_model=NewTokenOut,
        responses={
            **BODY_ERRORS,
            **AUTH_ERRORS,
            422: {
                "model": ValidationProblems,
                "description": "Invalid, or no such agent, or a role wider than theirs.",
            },
        },
    )
    async def create_token(
        body: TokenRequest, caller: Annotated[Caller, Depends(gate.allowed(Admin))]
    ) -> NewTokenOut:
        """A token acting for an agent, with the agent's role or a narrower one. The answer
        holds the token itself, this once; only its hash is kept."""
        try:
            made = await run_in_threadpool(
                tokens.create_token,
                caller,
                agent=body.agent,
                role=body.role,
                lifetime=parse_lifetime(body.expires_in),
                name=body.name,
            )
        except (NotFound, ValueError) as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return NewTokenOut(**TokenOut.of(made.token).model_dump(), token=made.secret)

    @router.get("", summary="List tokens", response_model=list[TokenOut], responses=AUTH_ERRORS)
    async def list_tokens(
        caller: Annotated[Caller, Depends(gate.allowed(Admin))],
    ) -> list[TokenOut]:
        """Every token (never its secret): agent, role, expiry, revocation, last use."""
        return [TokenOut.of(t) for t in await run_in_threadpool(tokens.tokens)]

    @router.delete(
        "/{token_id}",
        summary="Revoke a token",
        response_model=TokenOut,
        responses={**AUTH_ERRORS, 404: {"model": Problem, "description": "No such token."}},
    )
    async def revoke_token(
        token_id: Annotated[int, Path(description="The token's id.", **ID)],
        caller: Annotated[Caller, Depends(gate.allowed(Admin))],
    ) -> TokenOut:
        """Revoke a token: it stops working at once. Revoking it again changes nothing."""
        try:
            if not is_id(token_id):
                raise NotFound(f"no token {token_id}")
            return TokenOut.of(await run_in_threadpool(tokens.revoke_token, caller, token_id))
        except NotFound:
            raise HTTPException(404, detail=f"token {token_id} not found") from None

    return router
