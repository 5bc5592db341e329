"""Show a URL to humans without its secrets."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """``url`` with any password masked and the query dropped (it may carry one).

    >>> redact_url("postgresql+psycopg://app:s3cret@db:5432/desk?sslpassword=x")
    'postgresql+psycopg://app:***@db:5432/desk'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    netloc = parts.netloc
    if "@" not in netloc and not parts.query:
        return url  # nothing secret in it (sqlite:///file.db keeps its three slashes)
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
