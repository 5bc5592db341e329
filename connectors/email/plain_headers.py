"""Header values whose parse and folding are known without the stdlib's header parser.

Composing a mail parses each header set on it (``policy.default``'s header registry
builds a parse tree of a token object per run of characters) and folds each as it is
written (``_refold_parse_tree`` walks that tree again). For a value of plain ASCII
words, on a line that fits, both are known in advance:

* the parse trees of unstructured, message-id and address headers hold every character
  of the value, in order (the parsers split text into tokens, they drop or rewrite
  nothing of such a value: no encoded word, no quoting, no comment, no obsolete form);
* the folder writes ``Name: value`` on one line when that line is at most
  ``max_line_length`` long and ASCII: it appends each top-level token that fits
  whole, and looks inside one only when it does not fit or must be encoded.

So such a header's line is written here as it is, and anything else is ``None``:
the caller hands it to the stdlib. Only the shapes below count as plain; a value
that merely looks harmless (a dot in a name, a quoted string, a long line) is not.

Reading a received mail's header is known in advance for the same shapes, at any
length: the header's text is the value itself, without a defect, and a mailbox's
display name and address are its phrase and its address (``plain_text``,
``plain_address``). The stdlib's parse of a mail's From alone was a seventh of the
ingest worker's parse of it, on values that are new in every mail (so the parsed-header
cache of ``email_policy`` seldom holds them). A plain Content-Type's text is its type
and each parameter as ``; name="value"`` (``plain_content_type``: distinct plain names,
values of token characters or quoted printable ASCII without a backslash or a quote),
the parser's own asks for it included (``reading_policy``).
"""

from __future__ import annotations

import re
from email.headerregistry import (
    AddressHeader,
    ContentTypeHeader,
    HeaderRegistry,
    MessageIDHeader,
    UnstructuredHeader,
)
from functools import lru_cache
from typing import cast

from connectors.email.email_policy import POLICY

_REGISTRY = cast(HeaderRegistry, POLICY.header_factory)
_LONGEST = POLICY.max_line_length or 0  # 78: policy.default's

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext: no specials, no space
_DOT_ATOM = rf"{_ATEXT}(?:\.{_ATEXT})*"
_DOMAIN = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"  # labels only: no literal, no comment
_SPEC = rf"{_DOT_ATOM}@{_DOMAIN}"
_PHRASE = rf"{_ATEXT}(?: {_ATEXT})*"  # atoms, one space apart: no dot, no quote

_MIME_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_NAME = r"[A-Za-z0-9_.-]+"  # no "*": RFC 2231's continuations and charsets
_QUOTED = r'"[ !#-\[\]-~]+"'  # printable ASCII, no backslash, no quote, not empty
_CONTENT_TYPE = re.compile(
    rf"{_MIME_TOKEN}/{_MIME_TOKEN}(?:;[ \t]*{_NAME}=(?:{_QUOTED}|{_MIME_TOKEN}))*"
)
_PARAMETER = re.compile(rf";[ \t]*({_NAME})=(?:\"([^\"]*)\"|({_MIME_TOKEN}))")
_UNSTRUCTURED = re.compile(r"[!-~]+(?: [!-~]+)*")  # printable ASCII words, one space apart
_MESSAGE_ID = re.compile(rf"<{_DOT_ATOM}@{_DOMAIN}>")
_MAILBOX = re.compile(rf"(?:(?P<display>{_PHRASE}) <(?P<spec>{_SPEC})>|(?P<bare>{_SPEC}))")
_PLAIN_PHRASE = re.compile(_PHRASE)
_PLAIN_SPEC = re.compile(_SPEC)

_SHAPES = (
    (UnstructuredHeader, _UNSTRUCTURED),
    (MessageIDHeader, _MESSAGE_ID),
    (AddressHeader, _MAILBOX),  # one mailbox: a list has separators the folder may move
)


@lru_cache(maxsize=64)
def _shape(name: str) -> re.Pattern[str] | None:
    """The plain shape of a value of header ``name``, by the class the policy parses it
    with; None for the others (dates, MIME headers, ...)."""
    kind = _REGISTRY[name]
    for base, shape in _SHAPES:
        if issubclass(kind, base):
            return shape
    return None


@lru_cache(maxsize=64)
def _is_content_type(name: str) -> bool:
    return issubclass(_REGISTRY[name], ContentTypeHeader)


def plain_line(name: str, value: str) -> bytes | None:
    """The header line ``name: value`` (CRLF) as ``POLICY`` writes it at 78 characters a
    line, or None when the value is not plain (then only the stdlib can tell)."""
    if len(name) + 2 + len(value) > _LONGEST or "=?" in value:
        return None  # a line to fold, or what could be an encoded word
    shape = _shape(name)
    if shape is None or not shape.fullmatch(value):
        return None
    return f"{name}: {value}\r\n".encode("ascii")


def plain_mailbox(display: str, spec: str) -> str | None:
    """``display`` at ``spec`` as a header's text when both are plain (the stdlib's
    ``str(Address(...))`` of them, which its parser reads back as ``spec`` without a
    defect), else None: the stdlib must parse and check the address."""
    if "=?" in display or "=?" in spec or not _PLAIN_SPEC.fullmatch(spec):
        return None
    if not display:
        return spec
    return f"{display} <{spec}>" if _PLAIN_PHRASE.fullmatch(display) else None


def plain_text(name: str, value: str) -> str | None:
    """The text of header ``name`` holding ``value`` (``str`` of the stdlib's header
    object, which then has no defect) when the value is plain: the value itself; else
    None (then only the stdlib can tell: the header may be decoded, quoted or rewritten,
    or have defects)."""
    if "=?" in value:  # what could be an encoded word
        return None
    if _is_content_type(name):
        return plain_content_type(value)
    shape = _shape(name)
    return value if shape is not None and shape.fullmatch(value) else None


def plain_address(name: str, value: str) -> tuple[str, str] | None:
    """``(display name, address)`` of the one mailbox in address header ``name`` holding
    ``value`` when the value is plain (what the stdlib's header object of it lists,
    without a defect); else None."""
    if "=?" in value or _shape(name) is not _MAILBOX:
        return None
    found = _MAILBOX.fullmatch(value)
    if found is None:
        return None
    if found["bare"] is not None:
        return "", found["bare"]
    return found["display"], found["spec"]


_LONGEST_KEPT = 256  # characters: a longer Content-Type is read again at each ask (a
# hostile boundary or name may be as long as a mail, and 512 of those would stay in memory)


def plain_content_type(value: str) -> str | None:
    """The text of the stdlib's header object of ``value``, a Content-Type header's
    (unfolded), when the value is plain: its type, then each parameter as
    ``; name="value"`` (quoted: the stdlib quotes every value); else None. The last 512
    answers for values of up to ``_LONGEST_KEPT`` characters are kept: the parser asks each
    part's type several times."""
    if len(value) > _LONGEST_KEPT:
        return _content_type_text(value)
    return _kept_content_type_text(value)


def _content_type_text(value: str) -> str | None:
    """``plain_content_type``'s answer, worked out."""
    unfolded = value.replace("\r", "").replace("\n", "")  # as the policy unfolds it
    if "=?" in unfolded or not _CONTENT_TYPE.fullmatch(unfolded):
        return None
    kind = unfolded.split(";", 1)[0]
    parameters = [(name, quoted or token) for name, quoted, token in _PARAMETER.findall(unfolded)]
    if len({name.lower() for name, _ in parameters}) < len(parameters):
        return None  # a name twice: the stdlib keeps one
    return kind + "".join(f'; {name}="{text}"' for name, text in parameters)


_kept_content_type_text = lru_cache(maxsize=512)(_content_type_text)
