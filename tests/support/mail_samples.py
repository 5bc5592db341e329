"""Build raw test emails the way mail clients and servers write them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def email_bytes(
    *,
    sender: str = "Jo Doe <jo@example.org>",
    to: str = "support@relaydesk.localhost",
    subject: str = "Printer on fire",
    body: str = "Smoke everywhere.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """An RFC 5322 message as bytes; ``attachments`` are (filename, content type, data)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    message["Message-ID"] = message_id or make_msgid(domain="example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    message.set_content(body)  # (it drops Content-* headers set before it)
    for name, value in (headers or {}).items():
        message[name] = value
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def bounce_bytes(
    *,
    original_message_id: str,
    recipient: str,
    status: str = "5.1.1",
    action: str = "failed",
    reporter: str = "MAILER-DAEMON@mx.example.org",
) -> bytes:
    """A Postfix-style RFC 3464 delivery status notification for one of our messages."""
    boundary = "=_bounce_boundary"
    text = f"""\
From: Mail Delivery System <{reporter}>
To: support@relaydesk.localhost
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
Message-ID: <bounce.{abs(hash(original_message_id))}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.
I'm sorry to have to inform you that your message could not be delivered.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822; {recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: relaydesk <support@relaydesk.localhost>
To: {recipient}
Subject: [#1] We got your request
Message-ID: {original_message_id}

--{boundary}--
"""
    return text.replace("\n", "\r\n").encode()


__all__ = ["bounce_bytes", "email_bytes", "make_msgid"]


def body_text(message: EmailMessage, preference: tuple[str, ...] = ("plain",)) -> str:
    """The text of ``message``'s body in the first of ``preference`` it has; "" without one."""
    body = message.get_body(preference)
    return "" if body is None else str(body.get_content())
