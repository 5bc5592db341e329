"""Walk the MIME tree of an email: the body as text and HTML, and the attachments.

* ``multipart/alternative``: the text/plain alternative is the text, the HTML
  alternative is the HTML; without a text/plain one the text comes from the HTML.
* Other multiparts (mixed, related, signed, report, ...): the body parts in order;
  every other part is an attachment (a signature part, an inline image, ...).
* A part with ``Content-Disposition: attachment``, any non-text leaf, any
  ``message/*`` part (a forwarded email is kept whole as ``<subject>.eml``) and
  any text other than text/plain and text/html is an attachment.
* ``multipart/encrypted`` and ``application/pkcs7-mime`` are kept as attachments
  and noted in ``problems``: their content cannot be read here.

Text is decoded with the declared charset, then UTF-8, then windows-1252, then
Latin-1, so it always decodes; ISO-8859-1 and US-ASCII are read as windows-1252
(what senders mean) unless the bytes are valid UTF-8 (what senders often send).
"""

from __future__ import annotations

import codecs
import io
import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from email import policy
from email.generator import BytesGenerator
from email.message import Message

from connectors.email.addresses import header_value, raw_values
from connectors.email.flowed import unflow
from connectors.email.html_text import html_to_text


@dataclass(frozen=True)
class Attachment:
    """One attachment; ``data`` is empty when it was ``skipped`` for its size."""

    filename: str
    content_type: str
    data: bytes
    size: int
    inline: bool
    content_id: str | None
    skipped: str | None = None


@dataclass(frozen=True)
class Bodies:
    """What the MIME tree holds: the text, the unsanitised HTML and the attachments."""

    text: str
    html: str | None
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True)
class _Piece:
    text: str
    html: str | None


_MAX_DEPTH = 40
_MIME_TYPE = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")
_ENCRYPTED = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
_WESTERN = {"ascii", "iso8859-1", "cp1252"}  # as codecs.lookup() names them
_REFUSED_CODECS = {"unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
_EXTENSIONS = {
    "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".pgp",
    "application/pkcs7-signature": ".p7s",
    "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m",
    "application/x-pkcs7-mime": ".p7m",
    "message/rfc822": ".eml",
    "message/delivery-status": ".txt",
    "message/disposition-notification": ".txt",
    "text/rfc822-headers": ".txt",
}
_DEFAULT_NAMES = {
    "message/delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "text/rfc822-headers": "original-headers.txt",
    "application/pgp-signature": "signature.asc",
    "application/pkcs7-signature": "smime.p7s",
}
_MIME_TYPES = mimetypes.MimeTypes()  # the built-in table only: the same on every host
_UNSAFE_IN_NAME = re.compile(r'[<>:"|?*]')
_HIDDEN = {"Cc", "Cf", "Zl", "Zp"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_NAME_BYTES = 255


def collect_bodies(
    msg: Message, *, max_attachment_bytes: int, max_attachments_bytes: int, problems: list[str]
) -> Bodies:
    """The body and attachments of ``msg``; what cannot be read is noted in ``problems``."""
    walker = _Walker(max_attachment_bytes, max_attachments_bytes, problems)
    pieces = walker.walk(msg, 0)
    text = "\n\n".join(piece.text.strip("\n") for piece in pieces if piece.text.strip())
    htmls = [piece.html for piece in pieces if piece.html is not None]
    return Bodies(text.rstrip(), "\n".join(htmls) if htmls else None, tuple(walker.attachments))


def decode_text(part: Message, problems: list[str]) -> str:
    """The text of a leaf part, whatever its charset says; line ends become ``\\n``."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    kind = content_type(part)
    text = _decode_bytes(payload, _declared_charset(part), kind, problems)
    if "\x00" in text:
        problems.append(f"NUL bytes removed from {kind} part")
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def content_type(part: Message) -> str:
    """The lowercased content type of ``part`` as ``get_content_type()`` gives it.

    Read from the raw header: the policy's parser is slow and this is asked often.
    """
    values = raw_values(part, "Content-Type")
    if not values:
        return part.get_default_type()
    kind = values[0].split(";", 1)[0].strip().lower()
    return kind if _MIME_TYPE.fullmatch(kind) else "text/plain"


def part_bytes(part: Message) -> bytes:
    """The body of a ``message/*`` part as bytes (for message/rfc822: the whole email)."""
    buffer = io.BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=policy.compat32).flatten(part)
    data = buffer.getvalue()
    if not part.keys():  # no header section: the generator writes one empty line
        return data.removeprefix(b"\n")
    return data.partition(b"\n\n")[2]


def children(part: Message) -> list[Message]:
    """The sub-parts of a multipart or ``message/*`` part; ``[]`` for a leaf."""
    payload = part.get_payload()
    return (
        [child for child in payload if isinstance(child, Message)]
        if isinstance(payload, list)
        else []
    )


def safe_filename(name: str) -> str:
    """``name`` without directories, control characters, leading dots; at most 255 bytes."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(char) in _HIDDEN else char for char in name)
    name = _UNSAFE_IN_NAME.sub("_", " ".join(name.split())).lstrip(". ")
    encoded = name.encode("utf-8")
    if len(encoded) <= _MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = f".{extension}" if dot and stem and len(extension) <= 16 else ""
    room = _MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    cut = (stem if suffix else name).encode("utf-8")[:room].decode("utf-8", "ignore")
    return cut + suffix


class _Walker:
    """One walk over a MIME tree, collecting attachments and the running size total."""

    def __init__(self, max_each: int, max_total: int, problems: list[str]) -> None:
        self.attachments: list[Attachment] = []
        self._max_each = max_each
        self._max_total = max_total
        self._kept = 0
        self._problems = problems

    def walk(self, part: Message, depth: int) -> list[_Piece]:
        kind = content_type(part)
        try:
            return self._walk(part, kind, depth)
        except Exception as error:
            self._problems.append(f"could not read a {kind} part: {_describe(error)}")
            return []

    def _walk(self, part: Message, kind: str, depth: int) -> list[_Piece]:
        if depth > _MAX_DEPTH:
            self._problems.append(f"MIME parts nested deeper than {_MAX_DEPTH} levels: ignored")
            return []
        if kind in _ENCRYPTED:
            self._problems.append("encrypted message: kept as attachment")
            for child in children(part) if part.is_multipart() else [part]:
                self._attach(child)
            return []
        if kind.startswith("message/"):
            self._attach(part)
            return []
        if part.is_multipart():
            parts = children(part)
            if kind == "multipart/alternative":
                return self._alternative(parts, depth)
            return [piece for child in parts for piece in self.walk(child, depth + 1)]
        if _disposition(part) == "attachment" or kind not in ("text/plain", "text/html"):
            self._attach(part)
            return []
        text = decode_text(part, self._problems)
        if kind == "text/html":
            return [_Piece(html_to_text(text), text)]
        if _param(part, "format") == "flowed":  # RFC 3676: join the sender's soft breaks
            text = unflow(text, delsp=_param(part, "delsp") == "yes")
        return [_Piece(text, None)]

    def _alternative(self, parts: list[Message], depth: int) -> list[_Piece]:
        choices = [self.walk(part, depth + 1) for part in parts]
        plain = next(
            (c for c in choices if c and all(p.html is None for p in c) and _has_text(c)), None
        )
        rich = next((c for c in reversed(choices) if any(p.html is not None for p in c)), None)
        if plain is None and rich is None:
            return next((c for c in choices if c), [])
        text = "\n\n".join(p.text for p in (plain or rich or []) if p.text.strip())
        html = "\n".join(p.html for p in rich or [] if p.html is not None) if rich else None
        return [_Piece(text, html)]

    def _attach(self, part: Message) -> None:
        kind = content_type(part)
        if kind.startswith("message/"):
            try:
                data = part_bytes(part)
            except Exception as error:
                self._problems.append(f"could not re-encode a {kind} part: {_describe(error)}")
                data = b""
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        size = len(data)
        skipped: str | None = None
        if size > self._max_each:
            skipped = f"larger than the {self._max_each}-byte limit per attachment"
        elif self._kept + size > self._max_total:
            skipped = f"over the {self._max_total}-byte limit for all attachments of a message"
        else:
            self._kept += size
        content_id = _content_id(part)
        self.attachments.append(
            Attachment(
                filename=self._filename(part, kind),
                content_type=kind,
                data=b"" if skipped else data,
                size=size,
                inline=content_id is not None and _disposition(part) != "attachment",
                content_id=content_id,
                skipped=skipped,
            )
        )

    def _filename(self, part: Message, kind: str) -> str:
        name = ""
        try:
            name = part.get_filename() or ""
        except Exception:
            self._problems.append(f"unreadable file name of a {kind} part")
        if not name and kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                subject = header_value(inner[0], "Subject", []) or ""
                name = f"{subject}.eml" if subject.strip() else ""
        name = safe_filename(name) or _DEFAULT_NAMES.get(kind, "")
        if name:
            return name
        extension = _EXTENSIONS.get(kind) or _MIME_TYPES.guess_extension(kind) or ".bin"
        return f"attachment-{len(self.attachments) + 1}{extension}"


def _has_text(pieces: list[_Piece]) -> bool:
    return any(piece.text.strip() for piece in pieces)


def _disposition(part: Message) -> str:
    values = raw_values(part, "Content-Disposition")
    return values[0].split(";", 1)[0].strip().lower() if values else ""


def _content_id(part: Message) -> str | None:
    values = raw_values(part, "Content-ID")
    value = values[0].strip().strip("<>").strip() if values else ""
    return value or None


def _param(part: Message, name: str) -> str:
    """A Content-Type parameter, lowercased ("" when absent or unreadable)."""
    try:
        value = part.get_param(name)
    except Exception:
        return ""
    if isinstance(value, tuple):  # RFC 2231 form: (charset, language, value)
        value = value[2]
    return str(value or "").strip().strip("\"'").lower()


def _declared_charset(part: Message) -> str | None:
    return _param(part, "charset") or None


def _decode_bytes(data: bytes, charset: str | None, kind: str, problems: list[str]) -> str:
    codec = _codec(charset)
    if charset and codec is None:
        text, used = _fallback(data)
        problems.append(f"undecodable charset {charset!r} in {kind} part: decoded as {used}")
        return text
    if codec is not None and codec not in _WESTERN:
        try:
            return data.decode(codec)
        except (UnicodeError, ValueError, LookupError):
            text, used = _fallback(data)
            problems.append(f"{kind} part is not valid {charset}: decoded as {used}")
            return text
    # Western or undeclared: UTF-8 when the bytes are valid UTF-8, else windows-1252.
    text, used = _fallback(data)
    if used == "utf-8" and codec is not None and not data.isascii():
        problems.append(f"{kind} part declared as {charset!r} is UTF-8: read as UTF-8")
    elif used != "utf-8" and codec is None:
        problems.append(f"{kind} part has no charset and is not UTF-8: decoded as {used}")
    return text


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return None
    name = info.name.replace("_", "-")
    if name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _fallback(data: bytes) -> tuple[str, str]:
    for name in ("utf-8", "cp1252"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]
