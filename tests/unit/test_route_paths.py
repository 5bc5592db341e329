"""Route paths found once per route name give what Starlette's own lookup gives."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.routing import NoMatchFound
from starlette.staticfiles import StaticFiles

from connectors.web.route_paths import url_path


def app_with_routes(tmp_path: object) -> FastAPI:
    app = FastAPI()
    desk = APIRouter(prefix="/desk")

    @desk.get("/tickets/{number}", name="ticket")
    def ticket(number: int) -> None: ...

    @desk.get("/tickets/{number}/files/{sha256}", name="file")
    def file(number: int, sha256: str) -> None: ...

    @desk.get("/", name="home")
    def home() -> None: ...

    app.include_router(desk)
    app.mount("/static", StaticFiles(directory=str(tmp_path)), name="static")
    return app


def request_to(app: FastAPI, root_path: str = "") -> Request:
    return Request({"type": "http", "app": app, "root_path": root_path, "headers": []})


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ticket", {"number": 42}),
        ("ticket", {"number": 7}),
        ("file", {"number": 3, "sha256": "ab" * 32}),
        ("home", {}),
        ("static", {"path": "workspace.css"}),
    ],
)
def test_a_path_is_what_the_app_itself_gives_again_and_again(
    tmp_path: object, name: str, params: dict[str, object]
) -> None:
    app = app_with_routes(tmp_path)
    request = request_to(app)
    for _ in range(2):  # asked, then from its template
        assert url_path(request, name, **params) == app.url_path_for(name, **params)
    assert url_path(request_to(app, "/help/"), name, **params) == "/help" + str(
        app.url_path_for(name, **params)
    )


def test_an_unknown_route_or_parameter_is_no_match(tmp_path: object) -> None:
    request = request_to(app_with_routes(tmp_path))
    with pytest.raises(NoMatchFound):
        url_path(request, "nowhere")
    with pytest.raises(NoMatchFound):
        url_path(request, "ticket", ticket=1)
