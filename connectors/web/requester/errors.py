"""The requester's pages' own refusal: a link that opens nothing."""

from __future__ import annotations

from fastapi import HTTPException


class RequesterNotFound(HTTPException):
    """404 for a requester's link: ``detail`` for a program, a page in the reader's
    language for a browser (``connectors.web.requester.missing_page``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(404, detail=detail)
