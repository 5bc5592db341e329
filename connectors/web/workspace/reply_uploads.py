"""The files of the ticket page's reply form: read from the multipart body with the staff
API's limits (``web.files_per_message``, ``web.max_file_bytes``, ``web.file_types``, typed
by their content), then kept content-addressed as the API's uploads are."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from config.settings import WebSettings
from connectors.ports import Staff
from connectors.web.uploads import FileProblem, Upload, check_uploads


async def reply_uploads(
    request: Request, web: WebSettings
) -> tuple[list[Upload], list[FileProblem]]:
    """The files chosen in the form's ``files`` field (an empty file input sends a part
    without a name: not a file), and the problems of those that may not go."""
    async with request.form(max_files=web.files_per_message + 1) as form:
        files = [
            (part.filename or "", await part.read(web.max_file_bytes + 1))
            for part in form.getlist("files")
            if isinstance(part, UploadFile) and (part.filename or part.size)
        ]
    return check_uploads(
        files,
        max_files=web.files_per_message,
        max_bytes=web.max_file_bytes,
        accepted=web.file_types,
    )


async def keep_uploads(desk: Staff, uploads: list[Upload]) -> tuple[tuple[str, str], ...]:
    """Each upload kept; (sha256, filename) as the reply names its files."""
    return tuple([(await run_in_threadpool(desk.keep_file, u.data), u.filename) for u in uploads])
