"""Files a requester uploads: counted, measured and typed by their content, never by name.

Pure checks on bytes already read (at most one byte past the limit of each, so an
oversized file is known without reading it all): what a file *is* comes from its
first bytes (``filetype``'s signatures), or, for bytes that are readable UTF-8 text
without control characters, ``text/plain``. A name saying ``.pdf`` on an executable
changes nothing. The problems are codes with their figures; the page says them in
the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

import filetype

from connectors.email.bodies import safe_filename

OCTET_STREAM = "application/octet-stream"
_TEXT_CONTROLS = set(range(0, 32)) - {9, 10, 12, 13}


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str  # as its content says
    data: bytes


@dataclass(frozen=True)
class FileProblem:
    """Why a file was refused: ``too_many`` (``limit`` files), ``too_large`` (``limit``
    bytes), ``empty``, or ``type`` (its ``content_type`` is not accepted)."""

    kind: str
    filename: str = ""
    limit: int = 0
    content_type: str = ""


def content_type_of(data: bytes) -> str:
    """The type of ``data`` by its content: a known signature, else plain text when it
    reads as UTF-8 text, else ``application/octet-stream``."""
    kind = filetype.guess(data[:8192])
    if kind is not None:
        return str(kind.mime)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return OCTET_STREAM
    return OCTET_STREAM if any(ord(c) in _TEXT_CONTROLS for c in text) else "text/plain"


def accepted_type(content_type: str, accepted: tuple[str, ...]) -> bool:
    """Whether ``content_type`` is one of ``accepted`` (``image/*`` takes every image)."""
    major = content_type.split("/", 1)[0]
    return any(a == content_type or a == f"{major}/*" for a in accepted)


def check_uploads(
    files: list[tuple[str, bytes]],
    *,
    max_files: int,
    max_bytes: int,
    accepted: tuple[str, ...],
) -> tuple[list[Upload], list[FileProblem]]:
    """The uploads of ``files`` (name, bytes) that may be kept, and the problems of the
    others; any problem refuses the whole message (the requester fixes and sends again)."""
    problems: list[FileProblem] = []
    if len(files) > max_files:
        problems.append(FileProblem("too_many", limit=max_files))
    uploads: list[Upload] = []
    for name, data in files:
        filename = safe_filename(name) or "file"
        if not data:
            problems.append(FileProblem("empty", filename))
        elif len(data) > max_bytes:
            problems.append(FileProblem("too_large", filename, limit=max_bytes))
        else:
            kind = content_type_of(data)
            if not accepted_type(kind, accepted):
                problems.append(FileProblem("type", filename, content_type=kind))
            else:
                uploads.append(Upload(filename, kind, data))
    return uploads, problems
