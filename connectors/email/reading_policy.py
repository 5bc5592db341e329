"""The policy a received mail is parsed with: ``POLICY``, whose plain Content-Type
values are handed out as the text of their header objects, without building them.

The stdlib's MIME parser asks every part for its content type and boundary
(``get_content_type``, ``get_boundary``), and ``policy.default`` answers each ask
with a header object: a ``ContentTypeHeader`` parsed into a token tree, whose text
is the tree written back. A multipart's boundary makes its value new in every mail,
so the parsed-header cache of ``email_policy`` seldom holds it. What the parser, and
every ``Message`` method the connector calls, reads of the object is its text (the
stdlib splits the type and the parameters from the string; no attribute of the object
is read).

For a plain value (``type/subtype``, then parameters with distinct plain names and
values of token characters or quoted printable ASCII without a backslash, a quote or
what could be an encoded word) that text is known without the parser: the type, then
each parameter as ``; name="value"`` (``plain_headers.plain_content_type``; ``tests/
unit/test_email_reading_policy.py`` checks generated values against the stdlib), and
it is handed out as a plain ``str``. Anything else (an empty value, a comment, an RFC
2231 name, 8-bit bytes, a repeated name, spaces before a semicolon) gets the stdlib's
header object, as before.
"""

from __future__ import annotations

from typing import Any

from connectors.email import plain_headers
from connectors.email.email_policy import POLICY, FoldedOncePolicy


class _ReadingPolicy(FoldedOncePolicy):
    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if type(value) is str and name.lower() == "content-type":
            text = plain_headers.plain_content_type(value)
            if text is not None:
                return text
        return super().header_fetch_parse(name, value)


# POLICY's settings and header registry (its cache of parsed headers shared)
READING_POLICY = _ReadingPolicy(header_factory=POLICY.header_factory)
