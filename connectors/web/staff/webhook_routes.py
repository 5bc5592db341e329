"""Webhook subscriptions over HTTP, for admins: add (the secret shown once), list, read,
pause, resume, remove, test, their deliveries, and redeliver one."""

# no `from __future__ import annotations`: FastAPI reads these endpoints' annotations at
# run time, and they name dependencies made inside functions (no module global to resolve)

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from connectors.ports import WebhookAdmin
from connectors.web.schemas import BODY_ERRORS, ID, Problem, ValidationProblems
from connectors.web.staff.gate import AUTH_ERRORS, StaffGate
from connectors.web.staff.webhook_schemas import (
    DeliveryOut,
    DeliveryState,
    NewWebhookOut,
    PauseRequest,
    WebhookOut,
    WebhookRequest,
)
from router.access import Ability
from router.errors import NotFound
from router.staff_views import Caller
from router.storable import is_id
from router.vocabulary import RowState

Admin = Ability.MANAGE_WEBHOOKS
NO_SUCH = {"model": Problem, "description": "No such webhook (or delivery of it)."}
REFUSED = {
    "model": ValidationProblems,
    "description": "Invalid; or the URL is refused (its host resolves inside the desk's "
    "network, or not at all), or the secret is not whsec_<base64>.",
}
UNDER_WAY = {"model": Problem, "description": "The delivery is still under way."}
WebhookId = Annotated[int, Path(description="The webhook's id.", **ID)]
DeliveryId = Annotated[int, Path(description="The delivery's id.", **ID)]


def webhook_router(gate: StaffGate, hooks: WebhookAdmin) -> APIRouter:
    router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
    Caller_ = Annotated[Caller, Depends(gate.allowed(Admin))]

    def known(webhook_id: int) -> None:
        if not is_id(webhook_id):
            raise NotFound(f"no webhook {webhook_id}")

    @router.post(
        "",
        summary="Subscribe a URL to events",
        status_code=201,
        response_model=NewWebhookOut,
        responses={**BODY_ERRORS, **AUTH_ERRORS, 422: REFUSED},
    )
    async def add(body: WebhookRequest, caller: Caller_) -> NewWebhookOut:
        """Deliveries are signed the Standard Webhooks way with the secret, which this
        answer shows once."""
        try:
            made = await run_in_threadpool(
                hooks.add_webhook,
                caller,
                url=body.url,
                events=[e.value for e in body.events],
                secret=body.secret,
                description=body.description,
            )
        except ValueError as exc:
            raise HTTPException(422, detail=str(exc)) from None
        return NewWebhookOut(**WebhookOut.of(made.webhook).model_dump(), secret=made.secret)

    @router.get("", summary="List webhooks", response_model=list[WebhookOut], responses=AUTH_ERRORS)
    async def list_all(caller: Caller_) -> list[WebhookOut]:
        """Every subscription (never its secret)."""
        return [WebhookOut.of(h) for h in await run_in_threadpool(hooks.webhooks)]

    @router.get(
        "/{webhook_id}",
        summary="Read a webhook",
        response_model=WebhookOut,
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def read(webhook_id: WebhookId, caller: Caller_) -> WebhookOut:
        try:
            known(webhook_id)
            return WebhookOut.of(await run_in_threadpool(hooks.webhook, webhook_id))
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None

    @router.post(
        "/{webhook_id}/pause",
        summary="Pause a webhook",
        response_model=WebhookOut,
        responses={**BODY_ERRORS, **AUTH_ERRORS, 404: NO_SUCH},
    )
    async def pause(
        webhook_id: WebhookId, caller: Caller_, body: PauseRequest | None = None
    ) -> WebhookOut:
        """Stop delivering; its events are kept and wait. Pausing it again changes nothing."""
        try:
            known(webhook_id)
            reason = body.reason if body else ""
            return WebhookOut.of(
                await run_in_threadpool(hooks.pause_webhook, caller, webhook_id, reason)
            )
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None

    @router.post(
        "/{webhook_id}/resume",
        summary="Resume a webhook",
        response_model=WebhookOut,
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def resume(webhook_id: WebhookId, caller: Caller_) -> WebhookOut:
        """Deliver again: what waited goes now, oldest first."""
        try:
            known(webhook_id)
            return WebhookOut.of(await run_in_threadpool(hooks.resume_webhook, caller, webhook_id))
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None

    @router.delete(
        "/{webhook_id}",
        summary="Remove a webhook",
        status_code=204,
        response_class=Response,
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def remove(webhook_id: WebhookId, caller: Caller_) -> Response:
        """Delete the subscription and its deliveries."""
        try:
            known(webhook_id)
            await run_in_threadpool(hooks.remove_webhook, caller, webhook_id)
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        return Response(status_code=204)

    @router.post(
        "/{webhook_id}/test",
        summary="Send a test event",
        status_code=202,
        response_model=DeliveryOut,
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def test(webhook_id: WebhookId, caller: Caller_) -> DeliveryOut:
        """A `webhook.test` event to this webhook alone; its delivery, queued."""
        try:
            known(webhook_id)
            return DeliveryOut.of(
                await run_in_threadpool(hooks.send_test_event, caller, webhook_id)
            )
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None

    @router.get(
        "/{webhook_id}/deliveries",
        summary="A webhook's deliveries",
        response_model=list[DeliveryOut],
        responses={**AUTH_ERRORS, 404: NO_SUCH},
    )
    async def deliveries(
        webhook_id: WebhookId,
        caller: Caller_,
        state: Annotated[list[DeliveryState] | None, Query(description="Only these.")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[DeliveryOut]:
        """Newest first: attempts, the receiver's last status, the last error."""
        try:
            known(webhook_id)
            found = await run_in_threadpool(
                hooks.webhook_deliveries,
                webhook_id,
                states=[RowState(s) for s in state or []],
                limit=limit,
            )
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        return [DeliveryOut.of(d) for d in found]

    @router.post(
        "/{webhook_id}/deliveries/{delivery_id}/redeliver",
        summary="Redeliver",
        status_code=202,
        response_model=DeliveryOut,
        responses={**AUTH_ERRORS, 404: NO_SUCH, 409: UNDER_WAY},
    )
    async def redeliver(
        webhook_id: WebhookId, delivery_id: DeliveryId, caller: Caller_
    ) -> DeliveryOut:
        """Send a delivery that was done or failed again, with its webhook-id and body."""
        try:
            known(webhook_id)
            known(delivery_id)
            again = await run_in_threadpool(hooks.redeliver, caller, webhook_id, delivery_id)
        except NotFound as exc:
            raise HTTPException(404, detail=str(exc)) from None
        except ValueError as exc:
            raise HTTPException(409, detail=str(exc)) from None
        return DeliveryOut.of(again)

    return router
