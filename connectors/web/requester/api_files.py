"""Files sent through the JSON API (``files`` of a new ticket or of a requester's
message), each in base64: decoded, then checked as the pages check an upload (count,
size, type by content: ``connectors.web.uploads``) and kept content-addressed. A problem
is a 422 naming the file (``files.<i>``), in the shape of every other field's problem.

Base64 in the JSON body rather than multipart: one body, one schema, one
Idempotency-Key; a retry carries the same bytes, which are kept under their SHA-256
and so never twice.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool

from config.settings import WebSettings
from connectors.web.schemas import FileIn
from connectors.web.uploads import FileProblem, Upload, check_uploads
from router.envelopes import AttachmentRef

KeepFile = Callable[[bytes], str]

_WORDS = {
    "too_large": "the file is larger than {limit} bytes",
    "empty": "the file is empty",
    "type": "files of type {content_type} (as its content says) are not accepted",
}


def read_files(files: Sequence[FileIn], web: WebSettings) -> list[Upload]:
    """The uploads of ``files``; raises a 422 naming every file that cannot be kept."""
    problems: list[dict[str, Any]] = []
    if len(files) > web.files_per_message:
        problems.append(_problem(["files"], "too_many_files", f"at most {web.files_per_message}"))
    uploads: list[Upload] = []
    for i, sent in enumerate(files):
        try:
            data = base64.b64decode(sent.content_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.append(_problem(["files", str(i), "content_base64"], "base64", "not base64"))
            continue
        kept, refused = check_uploads(
            [(sent.filename, data)],
            max_files=1,
            max_bytes=web.max_file_bytes,
            accepted=web.file_types,
        )
        uploads.extend(kept)
        problems.extend(_refusal(i, p) for p in refused)
    if problems:
        raise HTTPException(422, detail=problems)
    return uploads


async def keep_files(uploads: Sequence[Upload], keep: KeepFile | None) -> tuple[AttachmentRef, ...]:
    """Keep each upload's bytes; their references for the message. ``TransientError``
    when they cannot be kept; a 422 when this app keeps no files at all."""
    if not uploads:
        return ()
    if keep is None:
        raise HTTPException(
            422, detail=[_problem(["files"], "files_not_taken", "this desk takes no files")]
        )
    kept = [
        AttachmentRef(u.filename, u.content_type, len(u.data), sha256=sha)
        for u in uploads
        for sha in [await run_in_threadpool(keep, u.data)]
    ]
    return tuple(kept)


def _refusal(index: int, problem: FileProblem) -> dict[str, Any]:
    words = _WORDS.get(problem.kind, problem.kind)
    msg = words.format(limit=problem.limit, content_type=problem.content_type)
    return _problem(["files", str(index)], f"file_{problem.kind}", msg)


def _problem(where: list[str], kind: str, msg: str) -> dict[str, Any]:
    loc = ["body", *where]
    return {"type": kind, "loc": loc, "field": ".".join(where), "msg": msg}
