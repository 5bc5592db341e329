"""Refuse oversized request bodies before they are read: a small pure ASGI middleware.

A declared ``Content-Length`` over the limit is answered 413 at once, without
calling the app. A body without one (chunked) is counted as the app reads it;
once past the limit, the read raises, and whatever the app makes of that is
replaced by the same 413. Pages that take files (``upload_prefixes``) have a
limit of their own, ``upload_max_bytes``. ``too_large_page`` may answer a person
with a page instead of the JSON (a browser posting a form that is too large).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TooLargePage = Callable[[Scope, int], str | None]
"""The page a person sees for a body over ``limit`` (HTML), or None: the JSON answer."""


class BodyTooLarge(Exception):
    """Raised inside the app's ``receive`` when the body goes past the limit."""


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        upload_prefixes: tuple[str, ...] = (),
        upload_max_bytes: int = 0,
        too_large_page: TooLargePage | None = None,
    ) -> None:
        self.app = app
        self.too_large_page = too_large_page
        self.max_bytes = max_bytes
        self.upload_prefixes = upload_prefixes
        self.upload_max_bytes = max(upload_max_bytes, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = (
            self.upload_max_bytes
            if self.upload_prefixes and path.startswith(self.upload_prefixes)
            else self.max_bytes
        )
        declared = _declared_length(scope)
        if declared == -1:
            await _answer(send, 400, "invalid Content-Length header")
            return
        if declared is not None and declared > limit:
            await self._too_large(scope, send, limit)
            return

        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge(_too_large(limit))
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large and not started:
                return  # the app's answer to the aborted read is replaced below
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not too_large or started:
                raise
        if too_large and not started:
            await self._too_large(scope, send, limit)

    async def _too_large(self, scope: Scope, send: Send, limit: int) -> None:
        page = self.too_large_page(scope, limit) if self.too_large_page else None
        if page is None:
            await _answer(send, 413, _too_large(limit))
        else:
            await _send(send, 413, page.encode(), b"text/html; charset=utf-8")


def _too_large(limit: int) -> str:
    return f"request body too large: the limit is {limit} bytes"


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as an int, None when absent, -1 when malformed."""
    values = [v for k, v in scope.get("headers", ()) if k.lower() == b"content-length"]
    if not values:
        return None
    if len(set(values)) != 1 or not values[0].isdigit():
        return -1
    return int(values[0])


async def _answer(send: Send, status: int, detail: str) -> None:
    await _send(send, status, json.dumps({"detail": detail}).encode(), b"application/json")


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
