"""``/healthz`` (liveness): the process serves requests. ``/readyz``: the process can do
its work (the store and the broker answer, the schema is current). ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

# each check by name: None when it passes, else what is wrong
Readiness = Callable[[], Mapping[str, str | None]]

NOT_READY = {
    503: {
        "description": "Not ready: a check failed (each check's problem is named)",
        "content": {"application/json": {}},
    }
}


def liveness_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", operation_id="healthz", tags=["health"], summary="Liveness")
    def healthz() -> dict[str, str]:
        """Always `{"status": "ok"}` while the process serves requests."""
        return {"status": "ok"}

    return router


def readiness_router(ready: Readiness) -> APIRouter:
    router = APIRouter()

    @router.get(
        "/readyz",
        operation_id="readyz",
        tags=["health"],
        summary="Readiness",
        responses=NOT_READY,  # type: ignore[arg-type]
    )
    def readyz() -> JSONResponse:
        """`{"status": "ready", "checks": {...}}` when the store and the broker answer and
        the schema is current; 503 with the failing checks' problems otherwise."""
        checks = {name: problem or "ok" for name, problem in ready().items()}
        fine = all(problem == "ok" for problem in checks.values())
        return JSONResponse(
            {"status": "ready" if fine else "not ready", "checks": checks},
            status_code=200 if fine else 503,
        )

    return router


def metrics_router(render: Callable[[], bytes]) -> APIRouter:
    """``/metrics``: Prometheus's text format, for a scraper (not in the API's schema)."""
    from fastapi.responses import Response

    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return router
