"""Standard Webhooks signatures (https://www.standardwebhooks.com), through the
``standardwebhooks`` library: the headers a receiver verifies, and the secrets.

``webhook-id`` is the event's id (the same on every retry: a receiver drops
duplicates by it), ``webhook-timestamp`` the attempt's time in Unix seconds,
and ``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
keyed with the secret's bytes; a secret is written ``whsec_<base64>``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import datetime
from math import floor

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def check_secret(secret: str) -> str:
    """A secret given by an admin, as it will be used; ``ValueError`` says what is wrong."""
    secret = secret.strip()
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a secret is written {SECRET_PREFIX}<base64 of 24 to 64 bytes>")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the secret after whsec_ is not base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"the secret is {len(key)} bytes; it must be 24 to 64")
    return secret


def signed_headers(
    secret: str, *, message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` sent at ``timestamp``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(floor(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }
