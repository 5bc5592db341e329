"""Messages of mixed shapes for the email benchmarks, built in memory (nothing is written).

Half of them are copies of the test corpus ``tests/data/email/*.eml`` (every file
a sender can be read from: the deliberately unreadable ones, zero bytes and
garbage, are left out), the rest are written with ``email_bytes`` or
``EmailMessage``: plain text, HTML only, text + HTML alternatives, and text with
a 50-200 KiB attachment. Every message gets a Message-ID of its own and a unique
suffix on its subject, so none is a redelivery of another; corpus copies keep
their shape otherwise (line endings, raw 8-bit headers, NUL bytes, encodings).

Automatic messages of the corpus (auto-replies, bounces, read receipts, mailing
lists, loops) stay in: ingest records them quietly instead of opening a ticket.
``Corpus.expected`` says how many of each to expect.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from connectors.email.normalize import envelope_message, parse_inbound
from router.errors import PermanentError
from router.thread_keys import OwnAddresses
from tests.support.mail_samples import email_bytes

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "email"
HELPDESK = "support@relaydesk.localhost"  # the corpus is written to this address
KIB = 1024

# shape -> weight, out of 20 (corpus: half)
_GENERATED = {"plain": 4, "html-only": 2, "alternative": 2, "attachment": 2}
_CORPUS_SHARE = 10
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


@dataclass(frozen=True)
class Mail:
    shape: str  # "corpus:<file>" or a generated shape
    raw: bytes
    automatic: bool  # ingest should record it quietly (no ticket)


@dataclass
class Corpus:
    messages: list[Mail]
    skipped: list[str] = field(default_factory=list)  # unreadable corpus files left out

    @property
    def total_bytes(self) -> int:
        return sum(len(m.raw) for m in self.messages)

    @property
    def expected(self) -> dict[str, int]:
        quiet = sum(m.automatic for m in self.messages)
        return {"tickets": len(self.messages) - quiet, "quiet": quiet}

    def mix(self) -> Counter[str]:
        return Counter(
            "corpus" if m.shape.startswith("corpus:") else m.shape for m in self.messages
        )

    def describe(self) -> str:
        mix = self.mix()
        sizes = sorted(len(m.raw) for m in self.messages)
        files = len({m.shape for m in self.messages if m.shape.startswith("corpus:")})
        return (
            f"{len(self.messages)} messages, {self.total_bytes / 2**20:.1f} MiB "
            f"(median {sizes[len(sizes) // 2]} B, largest {sizes[-1] // KIB} KiB): "
            + ", ".join(f"{k} {v}" for k, v in sorted(mix.items()))
            + f" (corpus: {files} files cycled"
            + (f"; left out as unreadable: {', '.join(self.skipped)}" if self.skipped else "")
            + f"); expected {self.expected['tickets']} tickets, "
            f"{self.expected['quiet']} quiet (automatic)"
        )


def build_corpus(count: int, run: str, seed: int = 1) -> Corpus:
    """``count`` messages, shuffled; ``run`` makes Message-IDs unique to this run."""
    rng = random.Random(seed)
    readable, skipped = _readable_corpus()
    total = _CORPUS_SHARE + sum(_GENERATED.values())
    shapes = ["corpus"] * _CORPUS_SHARE + [s for s, w in _GENERATED.items() for _ in range(w)]
    plan = [shapes[i % total] for i in range(count)]
    rng.shuffle(plan)
    messages = []
    corpus_index = 0
    for i, shape in enumerate(plan):
        message_id = f"<bench-{run}-{i}@bench.example.org>"
        if shape == "corpus":
            name, raw, automatic = readable[corpus_index % len(readable)]
            corpus_index += 1
            messages.append(
                Mail(f"corpus:{name}", rewrite_headers(raw, message_id, f"(b{i})"), automatic)
            )
        else:
            messages.append(Mail(shape, _generated(shape, i, message_id, rng), False))
    return Corpus(messages, skipped)


def _readable_corpus() -> tuple[list[tuple[str, bytes, bool]], list[str]]:
    """(name, bytes, automatic) of each corpus file ingest can read; the names left out."""
    own = OwnAddresses(addresses=frozenset({HELPDESK}))
    readable, skipped = [], []
    for path in sorted(CORPUS_DIR.glob("*.eml")):
        raw = path.read_bytes()
        try:
            parsed = parse_inbound(
                raw,
                envelope_message(raw),
                own=own,
                keep_file=lambda _data: "",
                max_attachment_bytes=10 * 2**20,
                max_attachments_bytes=25 * 2**20,
            )
        except PermanentError:
            skipped.append(path.name)
            continue
        readable.append((path.name, raw, parsed.is_automatic))
    return readable, skipped


def rewrite_headers(raw: bytes, message_id: str, subject_suffix: str) -> bytes:
    """``raw`` with its Message-ID replaced (or added) and ``subject_suffix`` on its subject.

    Works on the bytes, field by field (folded lines stay with their field), so
    everything else keeps its exact shape: line endings, 8-bit bytes, NULs.
    """
    end = _HEADER_END.search(raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    eol = b"\r\n" if head.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    fields: list[list[bytes]] = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    out = [b"Message-ID: " + message_id.encode() + eol]
    has_subject = False
    for lines in fields:
        name = _FIELD_NAME.match(lines[0])
        key = name.group(1).lower() if name else b""
        if key == b"message-id":
            continue
        if key == b"subject" and not has_subject:
            has_subject = True
            last = lines[-1]
            body = last.rstrip(b"\r\n")
            lines = [*lines[:-1], body + b" " + subject_suffix.encode() + last[len(body) :]]
        out.extend(lines)
    if not has_subject:
        if out[-1][-1:] != b"\n":
            out[-1] += eol
        out.append(b"Subject: " + subject_suffix.encode())
    return b"".join(out) + rest


def _generated(shape: str, i: int, message_id: str, rng: random.Random) -> bytes:
    sender = f"Customer {i} <customer{i}@example.org>"
    subject = f"Request {i}: {rng.choice(_TOPICS)}"
    text = _text(rng, i)
    if shape == "plain":
        return email_bytes(
            sender=sender, to=HELPDESK, subject=subject, body=text, message_id=message_id
        )
    if shape == "attachment":
        size = rng.randint(50 * KIB, 200 * KIB)
        kind, ext = rng.choice(
            [("application/pdf", "pdf"), ("image/png", "png"), ("application/zip", "zip")]
        )
        return email_bytes(
            sender=sender,
            to=HELPDESK,
            subject=subject,
            body=text,
            message_id=message_id,
            attachments=((f"file-{i}.{ext}", kind, rng.randbytes(size)),),
        )
    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")) + "</body></html>"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = HELPDESK
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    message["Message-ID"] = message_id
    if shape == "html-only":
        message.set_content(html, subtype="html")
    else:  # alternative: text + HTML, every other one with a small inline logo too
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        if i % 2:
            message.add_attachment(
                rng.randbytes(2 * KIB), maintype="image", subtype="png", filename="logo.png"
            )
    return message.as_bytes()


_TOPICS = (
    "cannot log in",
    "invoice is wrong",
    "export fails",
    "printer on fire",
    "password reset link expired",
    "feature request",
)
_SENTENCE = (
    "the report stopped working after the update and nobody here can find out why "
    "please have a look as soon as you can we need it for the meeting on monday "
    "thanks in advance best regards from the accounting team"
)


def _text(rng: random.Random, i: int) -> str:
    words = _SENTENCE.split()
    paragraphs = [
        " ".join(rng.choice(words) for _ in range(rng.randint(10, 60))).capitalize() + "."
        for _ in range(rng.randint(1, 4))
    ]
    body = "\n\n".join(paragraphs)
    return f"Hello,\n\n{body}\n\nCustomer {i}\n"
