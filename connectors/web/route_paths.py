"""The paths of the app's named routes, looked up once per route and filled in after.

Starlette's ``url_path_for`` walks every route of the app on each call; with
FastAPI's included routers that walk costs milliseconds (about 70 ms on a loaded
machine for a route near the end), and a page links dozens of them (a form per
message of a long conversation, a link per row of a queue). So the first call for
a route name and set of parameters asks the app once, with a placeholder number
for each parameter (as text: the integer convertor reads it too), and keeps the
path it gives as a template; later calls put the values in its place. A
placeholder passes the integer, string and path convertors alike, and a name the
app does not know still raises ``NoMatchFound``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import NoMatchFound

PLACEHOLDER = 7_390_000_000_000  # + the parameter's index: a number no path holds itself


class RoutePaths:
    """One app's route paths by name (kept on ``app.state``: see ``url_path``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.templates: dict[tuple[str, tuple[str, ...]], str] = {}

    def path(self, name: str, params: dict[str, Any]) -> str:
        keys = tuple(sorted(params))
        template = self.templates.get((name, keys))
        if template is None:
            marked = {key: str(PLACEHOLDER + i) for i, key in enumerate(keys)}
            template = str(self.app.url_path_for(name, **marked))
            self.templates[(name, keys)] = template
        for i, key in enumerate(keys):
            template = template.replace(str(PLACEHOLDER + i), str(params[key]))
        return template


def url_path_if(request: Request, name: str, **params: Any) -> str | None:
    """The path of route ``name`` when this app has it (a page linking to a part that
    only some apps mount), else None."""
    try:
        return url_path(request, name, **params)
    except NoMatchFound:
        return None


def url_path(request: Request, name: str, **params: Any) -> str:
    """The path of route ``name``, right also when the app is mounted below a prefix."""
    state = request.app.state
    paths = getattr(state, "route_paths", None)
    if paths is None:
        paths = state.route_paths = RoutePaths(request.app)
    return str(request.scope.get("root_path", "")).rstrip("/") + paths.path(name, params)
