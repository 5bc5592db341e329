"""Files an agent sends with a reply: kept first (content-addressed, as email attachments),
then named by their hash in the reply; what a file is comes from its bytes, not its name."""

from __future__ import annotations

import logging

from connectors.web.uploads import content_type_of
from router.envelopes import AttachmentRef
from router.errors import NotFound, TransientError
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def keep_file(runtime: Runtime, data: bytes) -> str:
    """Keep ``data``; its SHA-256 (``TransientError`` when the disk refuses it)."""
    try:
        return runtime.files.put(data)
    except OSError as exc:
        log.warning("an uploaded file could not be kept: %s", exc)
        raise TransientError(f"the file could not be kept: {exc}") from None


def kept_file(runtime: Runtime, sha256: str, filename: str) -> AttachmentRef:
    """The kept file ``sha256`` as an attachment named ``filename``; ``NotFound`` when no
    such file is kept."""
    try:
        data = runtime.files.read(sha256)
    except (OSError, ValueError):
        raise NotFound(f"no kept file {sha256[:12]}...: upload it first") from None
    return AttachmentRef(
        filename=filename, content_type=content_type_of(data), size=len(data), sha256=sha256
    )
