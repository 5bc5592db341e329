# ruff: noqa: RUF001  (names and texts in Chinese and Russian, with their own punctuation)
"""Outbound messages of many shapes for the composer's tests: names in several scripts,
quoted, commented and bracketed addresses, encoded-word look-alikes, long and non-ASCII
subjects, text and HTML bodies (long lines, non-ASCII, a quoted boundary), threading,
flags, languages and files; the unusable ones among them, which must be refused.

``compositions(boundary)`` yields (label, message, from name, files) in a fixed order;
``boundary`` is written into one body, as a message quoting one of ours would hold it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from router.envelopes import OutboundMessage
from router.vocabulary import Channel

Files = tuple[tuple[str, str, bytes], ...]

NAMES = (
    "",
    "Ana Souza",
    "José Müller",
    "张伟",
    "Иван Петров",
    "محمد علي",
    '"Quoted" Name',
    "Smith, John",
    "O'Brien",
    "a (comment) b",
    "=?utf-8?q?hi?=",
    "=?utf-8?b?SGVsbG8=?= there",
    "=?utf-8?q?=22Ana=22?= <x@y>",
    "Name <with> brackets",
    "a very long name of somebody who likes long names " * 3,
    "tab\tname",
    "Hello\r\nBcc: victim@evil.example",
    "@:;<>[]\\.",
    "ünïcödé " * 12,
    "  spaced   out  ",
)

ADDRESSES = (
    "ana@customer.example",
    "a.b+tag@sub.example.org",
    '"quoted local"@example.com',
    "user@[127.0.0.1]",
    "weird@",
    "no-at-sign",
    "a@b@c",
    "ümlaut@example.com",
    "x@y (comment)",
    "<a@b.example>",
    "a@[",
    "  spaced@example.com  ",
    "o'brien@example.ie",
    "long" * 20 + "@example.com",
    "",
    "x@y\r\nBcc: victim@evil.example",
)

SUBJECTS = (
    "Hello",
    "",
    "Your ticket [#42]",
    "A long ascii subject that goes on " * 6,
    "Re: 你好，我的订单没有到，请帮我看看为什么还没有发货，谢谢你们的帮助",
    "Re: =?utf-8?q?Hello=0ABcc:_victim@evil.example?=",
    "=?utf-8?q?=3D=3Futf-8=3Fq=3FHello=3D0ABcc=3A=5Fvictim@evil.example=3F=3D?=",
    "Ünïcödé " * 20,
    "a" * 120,
    "Subject with\nnewline",
    "\x00nul and \x85 next line",
    "=?",
    "Tab\there and   spaces",
    "Assigned: [#1000] Order 123 has not arrived, please help (normal)",
)


def _bodies(boundary: str) -> tuple[tuple[str, str | None], ...]:
    long_line = "word " * 40
    return (
        ("We are on it.", None),
        ("We are on it.\n", "<p>We are on it.</p>\n"),
        (f"{long_line}\nand a short one\n", f"<p>{long_line}</p>\n"),
        ("Grüße aus München,\nдо свидания,\n再见\n", "<p>Grüße, 再见</p>\n"),
        ("From here on\n.\n..\nFrom the start\n", None),
        ("", ""),
        (f"quoting one of ours:\n--{boundary}\nContent-Type: text/plain\n", None),
        (f"quoting one of ours:\n--{boundary}\n", f"<pre>--{boundary}</pre>"),
        ("x" * 1200 + "\n", None),
        ("tabs\tand trailing spaces   \n\n\nthree blank lines above\n", "<p>a</p>"),
    )


_BASE: dict[str, Any] = {
    "channel": Channel.EMAIL,
    "recipient": "ana@customer.example",
    "recipient_name": "Ana Souza",
    "subject": "Your ticket [#42]",
    "body_text": "We are on it.",
    "message_id": "<out-1@relaydesk.example>",
}

_THREADS = (
    (None, ()),
    ("<parent@customer.example>", ("<root@customer.example>", "<parent@customer.example>")),
    ("parent-without-brackets@customer.example", ("bad id with spaces", "<root@x>")),
    (None, tuple(f"<ref{i}@customer.example>" for i in range(30))),
)

_FLAGS: tuple[dict[str, Any], ...] = (
    {},
    {"automatic": True},
    {"notification": True},
    {"language": "en"},
    {"language": "zh"},
    {"reply_to": "support+42@relaydesk.example", "from_address": "help@relaydesk.example"},
    {"message_id": "no brackets@relaydesk.example"},
    {"message_id": "<bad id>"},
)

_FILES: tuple[Files, ...] = (
    (),
    (("report.pdf", "application/pdf", b"%PDF-1.4 " * 50),),
    (("notes.txt", "text/plain", "Grüße\n".encode()), ("Ünïcödé name.bin", "", bytes(range(256)))),
)

FROM_NAMES = ("Relay Desk", "", "Relay Desk — 支持", "=?utf-8?q?Relay?=", "Desk, Relay")


def compositions(boundary: str) -> Iterator[tuple[str, OutboundMessage, str, Files]]:
    """Every shape, in a fixed order; the label says which one it is."""
    base = OutboundMessage(**_BASE)
    bodies = _bodies(boundary)
    for (i, name), (j, address) in itertools.product(enumerate(NAMES), enumerate(ADDRESSES)):
        yield f"name{i}-address{j}", replace(base, recipient_name=name, recipient=address), "", ()
    for (i, subject), (j, (text, html)) in itertools.product(
        enumerate(SUBJECTS), enumerate(bodies)
    ):
        message = replace(base, subject=subject, body_text=text, body_html=html)
        yield f"subject{i}-body{j}", message, "Relay Desk", ()
    for (i, name), (j, subject) in itertools.product(enumerate(NAMES), enumerate(SUBJECTS)):
        message = replace(base, recipient_name=name, subject=subject, language="zh")
        yield f"name{i}-subject{j}", message, "Relay Desk", ()
    for (i, (parent, refs)), (j, flags), (k, files), (m, from_name) in itertools.product(
        enumerate(_THREADS), enumerate(_FLAGS), enumerate(_FILES), enumerate(FROM_NAMES)
    ):
        message = replace(base, in_reply_to=parent, references=refs, body_html="<p>hi</p>", **flags)
        yield f"thread{i}-flags{j}-files{k}-from{m}", message, from_name, files
    for (i, name), (j, address) in itertools.product(enumerate(NAMES), enumerate(ADDRESSES)):
        yield f"from-name{i}-reply-to{j}", replace(base, reply_to=address), name, ()
