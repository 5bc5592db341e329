"""parse_email on a corpus of tricky messages (tests/data/email), one expectation entry each."""

from __future__ import annotations

import random
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connectors.email.automatic import automatic_reason, through_list_by_a_person, why_automatic
from connectors.email.bodies import safe_filename
from connectors.email.bounces import parse_bounce
from connectors.email.email_policy import POLICY
from connectors.email.parse import ParsedEmail, parse_email
from router.thread_keys import OwnAddresses

CORPUS = Path(__file__).resolve().parent.parent / "data" / "email"
PER_ATTACHMENT = 10 * 1024 * 1024
PER_MESSAGE = 25 * 1024 * 1024
US = "support@relaydesk.localhost"

# One entry per corpus file. Keys that are absent are still checked against a default:
# no attachments, not automatic, no bounce and no problems.
EXPECTATIONS: dict[str, dict[str, Any]] = {
    "plain-ascii.eml": {
        "sender": "maria.lopez@example.com",
        "sender_name": "Maria Lopez",
        "subject": "Cannot log in since yesterday",
        "message_id": "<CAF1x9q2@mail.example.com>",
        "to": (US,),
        "cc": ("billing@relaydesk.localhost", "tom@example.com"),
        "date": "2024-06-04T09:12:40+02:00",
        "text": ['"invalid token"', "Thanks,\nMaria"],
        "html": None,
    },
    "utf8-without-charset.eml": {
        "sender_name": "Jürgen Müller",
        "text": ["Grüße aus München — die Rechnung über 12,50 €"],
    },
    "latin1-declared-but-utf8.eml": {
        "text": ["crème brûlée n'est pas arrivée"],
        "problems": ["declared as 'iso-8859-1' is UTF-8"],
    },
    "cp1252-quotes-declared-latin1.eml": {
        "text": ["When I click “Export” nothing happens… I tried twice \u2013 same result. Café"],
        "date": "2024-06-06T10:30:00-04:00",
    },
    "unknown-charset.eml": {
        "text": ["naïve café"],
        "problems": ["undecodable charset 'x-unknown' in text/plain part: decoded as utf-8"],
    },
    "shift-jis.eml": {
        "sender_name": "山田太郎",
        "subject": "請求書について",
        "text": ["請求書の宛名を変更していただけますか。"],
    },
    "iso-2022-jp.eml": {"subject": "請求書について", "text": ["パスワードを忘れました。"]},
    "koi8-r.eml": {
        "subject": "Не работает вход",  # noqa: RUF001
        "text": ["Здравствуйте! Не могу войти в личный кабинет."],  # noqa: RUF001
    },
    "subject-encoded-words.eml": {
        "subject": "Réponse à votre demande n°42 — urgent 🔥",
        "sender_name": "André Dupont",
    },
    "subject-malformed-encoded-word.eml": {
        "subject": "Order =?utf-8?q?st=C3=A1tus and =?utf-8?x?bogus?= Hello",
        "problems": ["malformed encoded word in header 'Subject'"],
    },
    "subject-encoded-newline.eml": {
        "subject": "hi Bcc: x",
        "problems": ["control characters in header 'Subject' replaced by spaces"],
    },
    "header-raw-8bit.eml": {
        "sender_name": "André Leclerc",
        "subject": "Réservation annulée",
        "text": ["Ma réservation a été annulée"],
        "problems": ["raw 8-bit bytes in header 'From'", "raw 8-bit bytes in header 'Subject'"],
    },
    "missing-date.eml": {"date": None, "message_id": "<nodate-1@example.com>"},
    "broken-date.eml": {"date": None, "problems": ["broken header 'Date'"]},
    "missing-message-id.eml": {"message_id": None, "sender": "robin@example.com"},
    "missing-from-with-sender.eml": {
        "sender": "scanner@example.com",
        "sender_name": "Office Scanner",
    },
    "missing-from-return-path-only.eml": {"sender": "printer@example.com", "sender_name": ""},
    "from-comment-quoted-comma.eml": {
        "sender": "jane.doe@example.com",
        "sender_name": "Doe, Jane (Accounts)",
        "to": (US,),
        "cc": ("sean.obrien@example.ie", "lee@example.com"),
    },
    "long-folded-headers.eml": {
        "subject_starts": "Re: Fwd: RE: AW: very very",
        "subject_ends": "very long subject about the quarterly invoice",
        "references": (
            "<thread-12@mail.example.com>",
            *(f"<thread-{i}@mail.example.com>" for i in range(11, 0, -1)),
        ),
    },
    "alternative-text-html.eml": {
        "text_exact": "Hi, can I upgrade to the *Team* plan in the middle of the month?",
        "html_has": ["<b>Team</b>"],
    },
    "html-only-hostile.eml": {
        "text": [
            "My subscription",
            "I was charged twice & I want a refund.\nOrder number: 4711",
            "- first charge: 1 June",
            "see the order (https://shop.example.com/orders/4711)",
        ],
        "text_not": ["document.cookie", "background", "Mail title", "javascript"],
        "html_has": ['href="https://shop.example.com/orders/4711" rel="noopener noreferrer"'],
        "html_not": ["<script", "<style", "javascript:", "onclick", "onload", "<iframe", "<form"],
    },
    "mixed-pdf-attachment.eml": {
        "text_exact": "The invoice is attached. The total looks wrong.",
        "attachments": [("invoice-2024-113.pdf", "application/pdf", False, False)],
    },
    "related-inline-image.eml": {
        "text": ["This is the error I get:"],
        "html_has": ['src="cid:screenshot.01@example.com"'],
        "attachments": [("image001.png", "image/png", True, False)],
        "content_ids": ["screenshot.01@example.com"],
    },
    "nested-mixed-alternative-related.eml": {
        "text_exact": "Please find the signed contract attached. Our logo is below.",
        "html_has": ["<i>signed</i>", 'src="cid:logo@quinn"'],
        "attachments": [
            ("attachment-1.png", "image/png", True, False),
            (
                "contract signed.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                False,
                False,
            ),
        ],
    },
    "forwarded-rfc822.eml": {
        "text_exact": "See the message below, the amount is wrong.",
        "text_not": ["INNER BODY"],
        "attachments": [("Invoice 2024-113.eml", "message/rfc822", False, False)],
    },
    "pgp-signed.eml": {
        "text_exact": "Please delete my account. This request is signed.",
        "attachments": [("OpenPGP_signature.asc", "application/pgp-signature", False, False)],
    },
    "pgp-encrypted.eml": {
        "text_exact": "",
        "attachments": [
            ("attachment-1.pgp", "application/pgp-encrypted", False, False),
            ("encrypted.asc", "application/octet-stream", False, False),
        ],
        "problems": ["encrypted message: kept as attachment"],
    },
    "smime-encrypted.eml": {
        "text_exact": "",
        "attachments": [("smime.p7m", "application/pkcs7-mime", False, False)],
        "problems": ["encrypted message: kept as attachment"],
    },
    "smime-signed.eml": {
        "text_exact": "Our VAT number changed, see the signed message.",
        "html_has": ["<p>Our VAT number changed"],
        "attachments": [("smime.p7s", "application/pkcs7-signature", False, False)],
    },
    "empty-body.eml": {"text_exact": "", "visible_exact": "", "html": None},
    "whitespace-body.eml": {"text_exact": "", "visible_exact": ""},
    "text-part-as-attachment.eml": {
        "text_exact": "The server log is attached.",
        "text_not": ["database is locked", "LOG REPORT"],
        "html": None,
        "attachments": [
            ("server.log", "text/plain", False, False),
            ("report.html", "text/html", False, False),
        ],
    },
    "single-part-pdf.eml": {
        "text_exact": "",
        "attachments": [("scan0001.pdf", "application/pdf", False, False)],
    },
    "reply-quoted-with-signature.eml": {
        "visible_exact": "Thanks, clearing the cache fixed it!",
        "text": ["Head of Finance", "> please clear your browser cache"],
        "references": (
            "<ticket-1042-reply-2@relaydesk.localhost>",
            "<ticket-1042-reply-1@relaydesk.localhost>",
            "<wendy-original@example.com>",
        ),
    },
    "reply-gmail-quote-wrapped-attribution.eml": {
        "visible_exact": "Got it, thank you.",
        "references": ("<refund-1@relaydesk.localhost>",),
    },
    "reply-outlook-original-message.eml": {
        "visible_exact": "Yes, please renew for 25 seats.\n\nBest regards\nYusuf",
        "text": ["-----Original Message-----", "Shall we renew it?"],
    },
    "reply-outlook-html.eml": {
        "visible_exact": "Tuesday 25 June works for us.\n\nZoe",
        "text": ["Which date suits you for the training"],
    },
    "reply-interleaved.eml": {
        "visible": ["> Which browser do you use?", "Firefox 126.", "Only on the reports page."],
    },
    "auto-reply-gmail-vacation.eml": {"automatic": "Auto-Submitted: auto-replied"},
    "auto-reply-exchange-oof.eml": {"automatic": "Auto-Submitted: auto-generated"},
    "auto-reply-exchange-legacy.eml": {"automatic": "X-Auto-Response-Suppress: All"},
    "outlook-normal-suppress-receipts.eml": {"automatic": None},
    "mailing-list.eml": {"automatic": "List-Id: Users of ExampleApp <users.lists.example.org>"},
    "x-loop-from-us.eml": {"automatic": None},  # own addresses are only known to callers
    "noreply-sender.eml": {"automatic": "sent by no-reply"},
    "bounce-postfix-dsn.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-1@relaydesk.localhost>",
            "recipients": ("nobody@example.org",),
            "status": "5.1.1",
            "permanent": True,
            "diagnostic": "550 5.1.1 <nobody@example.org>: Recipient address rejected: User "
            "unknown in virtual mailbox table",
        },
        "text": ["could not\nbe delivered"],
        "text_not": ["we received your request"],
        "attachments": [
            ("delivery-status.txt", "message/delivery-status", False, False),
            ("[#1070] We received your request.eml", "message/rfc822", False, False),
        ],
    },
    "bounce-exchange-ndr.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-2@relaydesk.localhost>",
            "recipients": ("gone@example.com",),
            "status": "5.1.10",
            "permanent": True,
            "diagnostic": "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by "
            "SMTP address lookup",
        },
        "attachments": [
            ("delivery-status.txt", "message/delivery-status", False, False),
            ("original-headers.txt", "text/rfc822-headers", False, False),
        ],
    },
    "bounce-gmail-dsn-failure.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-3@relaydesk.localhost>",
            "recipients": ("no.such.user@gmail.example",),
            "status": "5.1.1",
            "permanent": True,
            "diagnostic_starts": "550-5.1.1 The email account that you tried to reach does not",
        },
        "text": ["** Address not found **"],
        "attachments": [
            ("delivery-status.txt", "message/delivery-status", False, False),
            ("[#1072] Your password reset.eml", "message/rfc822", False, False),
        ],
    },
    "bounce-qmail-plain-text.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-4@relaydesk.localhost>",
            "recipients": ("ghost@example.net",),
            "status": "5.1.1",
            "permanent": True,
            "diagnostic": "Remote host said: 550 5.1.1 <ghost@example.net>... User unknown",
        },
    },
    "bounce-exim-plain-text.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-5@relaydesk.localhost>",
            "recipients": ("left.company@example.co.uk",),
            "status": "5.2.1",
            "permanent": True,
            "diagnostic": "550 5.2.1 Mailbox disabled",
        },
    },
    "bounce-delayed-dsn.eml": {
        "automatic": "delivery status notification",
        "bounce": {
            "original_message_id": "<bounced-6@relaydesk.localhost>",
            "recipients": ("slow@example.com",),
            "status": "4.4.7",
            "permanent": False,
            "diagnostic_starts": "delivery temporarily suspended: connect to mx.example.com",
        },
        "attachments": [
            ("delivery-status.txt", "message/delivery-status", False, False),
            ("original-headers.txt", "text/rfc822-headers", False, False),
        ],
    },
    "read-receipt.eml": {
        "automatic": "read receipt",
        "bounce": None,
        "text": ["has been displayed"],
        "attachments": [
            ("disposition-notification.txt", "message/disposition-notification", False, False)
        ],
    },
    "attachment-hostile-filenames.eml": {
        "text_exact": "Four files.",
        "attachments": [
            ("passwd", "text/plain", False, False),
            ("Préstamo € nº7.pdf", "application/pdf", False, False),
            ("bashrc", "application/octet-stream", False, False),
            ("invoice fdp.exe", "application/x-msdownload", False, False),
        ],
    },
    "attachment-without-filename.eml": {
        "attachments": [
            ("attachment-1.png", "image/png", False, False),
            ("attachment-2.bin", "application/x-whatever-unknown", False, False),
        ],
    },
    "base64-broken-padding.eml": {
        "text_exact": "Hello, the base64 is broken but readable.",
        "attachments": [("data.bin", "application/octet-stream", False, False)],
        "attachment_data": [b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"],
        "problems": ["text/plain part: invalid base64 padding"],
    },
    "quoted-printable-soft-breaks.eml": {
        "text": [
            "wrapped with soft line breaks so that no line is longer than seventy-six "
            "characters; the café on the corner=nice.\nSecond line \u2013 with an en dash."
        ],
    },
    "crlf-line-endings.eml": {
        "subject": "CRLF everywhere",
        "text_exact": "Line one.\nLine two.",
        "html_has": ["<br>"],
    },
    "mixed-line-endings.eml": {
        "subject": "Mixed line endings",
        "text_exact": "First line with CRLF.\nSecond line with bare LF.\n"
        "Third line with a bare CR.\nFourth line.",
    },
    "nul-bytes.eml": {
        "subject": "Null byte",
        "text_exact": "The database cannot store this byte.",
        "problems": ["NUL bytes removed from text/plain part", "header 'Subject'"],
    },
    "garbage-bytes.eml": {
        "sender": "",
        "subject": "",
        "message_id": None,
        "automatic": "null sender",
        "text": ["not an email at all"],
        "problems": ["no headers: this does not look like an email"],
    },
    "zero-bytes.eml": {
        "sender": "",
        "text_exact": "",
        "automatic": "null sender",
        "problems": ["empty message"],
    },
    "apple-mail-text-image-text.eml": {
        "text_exact": "Before the screenshot.\n\nAfter the screenshot.",
        "attachments": [("Screenshot 2024-06-19.png", "image/png", False, False)],
    },
}


@cache
def parsed(name: str) -> ParsedEmail:
    return parse((CORPUS / name).read_bytes())


def parse(raw: bytes, *, each: int = PER_ATTACHMENT, total: int = PER_MESSAGE) -> ParsedEmail:
    return parse_email(raw, max_attachment_bytes=each, max_attachments_bytes=total)


def corpus_names() -> list[str]:
    return sorted(path.name for path in CORPUS.glob("*.eml"))


def test_every_corpus_file_has_an_expectations_entry_and_every_entry_a_file() -> None:
    assert len(corpus_names()) >= 30
    assert set(corpus_names()) - set(EXPECTATIONS) == set(), "corpus files without expectations"
    assert set(EXPECTATIONS) - set(corpus_names()) == set(), "expectations without a file"


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_corpus_message_parses_as_expected(name: str) -> None:
    email = parsed(name)
    expected = EXPECTATIONS[name]
    for field, attribute in _EXACT_FIELDS.items():
        if field in expected:
            assert getattr(email, attribute) == expected[field], field
    if "date" in expected:
        assert (email.date.isoformat() if email.date else None) == expected["date"]
    assert email.subject.startswith(expected.get("subject_starts", ""))
    assert email.subject.endswith(expected.get("subject_ends", ""))
    _check_texts(email, expected)
    _check_attachments(email, expected)
    assert email.automatic == expected.get("automatic")
    _check_bounce(email, expected.get("bounce"))
    _check_problems(email, expected.get("problems", []))


_EXACT_FIELDS = {
    "sender": "sender_address",
    "sender_name": "sender_name",
    "subject": "subject",
    "message_id": "message_id",
    "to": "to",
    "cc": "cc",
    "references": "references",
    "text_exact": "text",
    "visible_exact": "visible_text",
}


def _check_texts(email: ParsedEmail, expected: dict[str, Any]) -> None:
    for part in expected.get("text", []):
        assert part in email.text
    for part in expected.get("text_not", []):
        assert part not in email.text
    for part in expected.get("visible", []):
        assert part in email.visible_text
    if "html" in expected:
        assert email.html == expected["html"]
    for part in expected.get("html_has", []):
        assert email.html is not None and part in email.html
    for part in expected.get("html_not", []):
        assert email.html is not None and part not in email.html
    assert "\r" not in email.text and "\x00" not in email.text
    if email.text.strip():
        assert email.visible_text.strip(), "visible_text is never empty when text is not"


def _check_attachments(email: ParsedEmail, expected: dict[str, Any]) -> None:
    found = [
        (a.filename, a.content_type, a.inline, a.skipped is not None) for a in email.attachments
    ]
    assert found == expected.get("attachments", [])
    if "content_ids" in expected:
        assert [a.content_id for a in email.attachments] == expected["content_ids"]
    if "attachment_data" in expected:
        assert [a.data for a in email.attachments] == expected["attachment_data"]
    for attachment in email.attachments:
        assert attachment.size == len(attachment.data) or attachment.skipped


def _check_bounce(email: ParsedEmail, expected: dict[str, Any] | None) -> None:
    if expected is None:
        assert email.bounce is None
        return
    bounce = email.bounce
    assert bounce is not None
    assert bounce.original_message_id == expected["original_message_id"]
    assert bounce.recipients == expected["recipients"]
    assert bounce.status == expected["status"]
    assert bounce.permanent is expected["permanent"]
    if "diagnostic" in expected:
        assert bounce.diagnostic == expected["diagnostic"]
    assert bounce.diagnostic.startswith(expected.get("diagnostic_starts", ""))


def _check_problems(email: ParsedEmail, expected: list[str]) -> None:
    if not expected:
        assert email.problems == ()
    for wanted in expected:
        assert any(wanted in problem for problem in email.problems), (wanted, email.problems)


def test_html_only_mail_is_sanitised_and_converted_to_text() -> None:
    email = parsed("html-only-hostile.eml")
    assert email.html is not None
    assert "<h1>My subscription</h1>" in email.html
    assert "<script" not in email.html and "document.cookie" not in email.html
    assert 'src="http://insecure.example.net/logo.png"' not in email.html
    assert email.text.startswith("My subscription\n\nI was charged twice & I want a refund.")


def test_forwarded_message_is_an_eml_attachment_and_not_the_body() -> None:
    email = parsed("forwarded-rfc822.eml")
    (forwarded,) = email.attachments
    assert forwarded.data.startswith(b"Message-ID: <invoice-113@billing.example.net>")
    assert b"INNER BODY: your invoice total is 999 EUR." in forwarded.data
    assert forwarded.size == len(forwarded.data)
    reparsed = parse(forwarded.data)
    assert reparsed.subject == "Invoice 2024-113"
    assert reparsed.text == "INNER BODY: your invoice total is 999 EUR."


def test_attachment_larger_than_the_limit_is_skipped_but_its_size_is_kept() -> None:
    message = _message_with_attachments(12 * 1024 * 1024, 1000)
    email = parse(message)
    big, small = email.attachments
    assert big.skipped == f"larger than the {PER_ATTACHMENT}-byte limit per attachment"
    assert big.data == b"" and big.size == 12 * 1024 * 1024
    assert small.skipped is None and small.data == b"x" * 1000
    assert email.text == "Two files."


def test_attachments_past_the_total_per_message_are_skipped() -> None:
    email = parse(_message_with_attachments(600, 600, 600), each=1000, total=1500)
    assert [a.skipped is None for a in email.attachments] == [True, True, False]
    assert (
        email.attachments[2].skipped == "over the 1500-byte limit for all attachments of a message"
    )
    assert email.attachments[2].size == 600


def test_message_id_header_that_breaks_the_stdlib_parser_is_a_problem_not_a_crash() -> None:
    email = parse(b"From: a@example.com\nMessage-ID: <>\nSubject: hi\n\nbody\n")
    assert email.message_id is None
    assert email.subject == "hi" and email.text == "body"
    assert "broken header 'Message-ID'" in email.problems


def test_message_ids_are_normalised_and_references_deduplicated() -> None:
    raw = (
        b"From: a@example.com\nMessage-ID: bare-id@example.com\n"
        b"In-Reply-To: <p2@x> (Ana's message of Monday)\n"
        b"References: <p1@x> <p2@x>\n <p2@x>\n\nbody\n"
    )
    email = parse(raw)
    assert email.message_id == "<bare-id@example.com>"
    assert email.references == ("<p2@x>", "<p1@x>")


def test_a_message_id_longer_than_a_mail_line_is_no_id_and_the_mail_still_reads() -> None:
    huge = "x" * 1200 + "@example.com"
    raw = (
        f"From: a@example.com\nMessage-ID: <{huge}>\nReferences: <{huge}> <p1@x>\n"
        "Subject: hi\n\nbody\n"
    ).encode()
    email = parse(raw)
    assert email.message_id is None and email.references == ("<p1@x>",)
    assert email.subject == "hi" and email.text == "body"
    fits = "y" * 980 + "@example.com"  # 994 characters: kept
    assert parse(f"From: a@example.com\nMessage-ID: <{fits}>\n\nb\n".encode()).message_id == (
        f"<{fits}>"
    )


def test_stored_headers_are_decoded_single_lines_of_the_selected_names() -> None:
    email = parsed("long-folded-headers.eml")
    assert set(email.headers) == {
        "Message-ID",
        "Date",
        "From",
        "To",
        "Subject",
        "In-Reply-To",
        "References",
        "Content-Type",
    }
    assert all("\n" not in value and "\r" not in value for value in email.headers.values())
    assert parsed("subject-encoded-newline.eml").headers["Subject"] == "hi Bcc: x"
    assert parsed("auto-reply-gmail-vacation.eml").headers["Precedence"] == "bulk"


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_automatic_reason_on_stored_headers_agrees_with_the_parser(name: str) -> None:
    email = parsed(name)
    reason = automatic_reason(
        email.headers,
        sender=email.sender_address,
        content_type=email.headers.get("Content-Type", "text/plain"),
        own=OwnAddresses(),
    )
    assert (reason is None) == (email.automatic is None)


def test_x_loop_naming_one_of_our_addresses_is_automatic() -> None:
    email = parsed("x-loop-from-us.eml")
    own = OwnAddresses(frozenset({"support@relaydesk.localhost"}))
    reason = automatic_reason(
        email.headers, sender=email.sender_address, content_type="text/plain", own=own
    )
    assert reason == "X-Loop from us"


def test_mail_from_one_of_our_own_addresses_is_automatic() -> None:
    msg = EmailMessage()
    msg["From"] = US
    msg.set_content("hello")
    own = OwnAddresses(frozenset({US}))
    assert why_automatic(msg, sender=US, own=own) == "sent by our own address"
    assert why_automatic(msg, sender="ana@example.com", own=own) is None


@pytest.mark.parametrize(
    "sender",
    ["support+7@relaydesk.localhost", "Support+7@RelayDesk.localhost", "billing@help.example.org"],
)
def test_mail_from_any_form_of_our_addresses_is_a_loop(sender: str) -> None:
    own = OwnAddresses(frozenset({US}), domains=frozenset({"help.example.org"}))
    reason = automatic_reason({}, sender=sender, content_type="text/plain", own=own)
    assert reason == "sent by our own address"
    assert (
        automatic_reason(
            {}, sender="support+7@customer.example", content_type="text/plain", own=own
        )
        is None
    )


def test_x_loop_naming_a_plus_address_of_ours_is_a_loop() -> None:
    own = OwnAddresses(frozenset({US}))
    headers = {"X-Loop": "support+12@relaydesk.localhost"}
    found = automatic_reason(headers, sender="ana@example.com", content_type="text/plain", own=own)
    assert found == "X-Loop from us"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "no"}, None),
        (
            {"Auto-Submitted": "auto-replied; owner-email=x@example.com"},
            "Auto-Submitted: auto-replied",
        ),
        ({"Precedence": "junk"}, "Precedence: junk"),
        ({"Precedence": "first-class"}, None),
        ({"X-Autorespond": "yes"}, "X-Autorespond: yes"),
        (
            {"X-Auto-Response-Suppress": "OOF, AutoReply"},
            "X-Auto-Response-Suppress: OOF, AutoReply",
        ),
        ({"X-Auto-Response-Suppress": "DR, NDR, RN, NRN"}, None),
        ({"List-Unsubscribe": "<mailto:leave@example.org>"}, "List-Unsubscribe present"),
        ({"Return-Path": "<>"}, "null sender"),
    ],
)
def test_automatic_reason_follows_the_documented_table(
    headers: dict[str, str], reason: str | None
) -> None:
    found = automatic_reason(
        headers, sender="ana@example.com", content_type="text/plain", own=OwnAddresses()
    )
    assert found == reason


def test_robot_senders_and_reports_are_automatic() -> None:
    def reason(sender: str, content_type: str = "text/plain") -> str | None:
        return automatic_reason({}, sender=sender, content_type=content_type, own=OwnAddresses())

    assert reason("Postmaster@example.com") == "sent by postmaster"
    assert reason("do-not-reply@example.com") == "sent by do-not-reply"
    assert reason("") == "null sender"
    assert reason("a@example.com", "multipart/report; report-type=delivery-status") == (
        "delivery status notification"
    )
    assert reason("a@example.com", 'multipart/report; report-type="disposition-notification"') == (
        "read receipt"
    )


def test_a_mailer_daemon_message_that_is_not_about_a_failure_is_no_bounce() -> None:
    email = parse(b"From: MAILER-DAEMON@example.com\nSubject: Queue report\n\nAll fine.\n")
    assert email.bounce is None
    assert email.automatic == "sent by mailer-daemon"


def test_a_success_notification_is_no_bounce() -> None:
    raw = (
        (CORPUS / "bounce-postfix-dsn.eml")
        .read_bytes()
        .replace(b"Action: failed", b"Action: delivered")
    )
    assert parse(raw).bounce is None


def test_parse_bounce_is_usable_on_its_own() -> None:
    raw = (CORPUS / "bounce-delayed-dsn.eml").read_bytes()
    bounce = parse_bounce(BytesParser(policy=policy.default).parsebytes(raw))
    assert bounce is not None and bounce.status == "4.4.7" and not bounce.permanent


def test_unknown_or_dangerous_charset_names_never_raise() -> None:
    for charset in (b"unicode_escape", b"rot13", b"base64", b'"utf-8\x00"', b"idna"):
        raw = (
            b"From: a@example.com\nContent-Type: text/plain; charset=" + charset + b"\n\nhi\\x41\n"
        )
        assert parse(raw).text == "hi\\x41"


def test_deeply_nested_multiparts_do_not_raise() -> None:
    depth = 60
    head = b"From: a@example.com\nContent-Type: multipart/mixed; boundary=b0\n\n"
    body = b"".join(
        b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(depth)
    )
    body += b"--b%d\nContent-Type: text/plain\n\ndeep\n" % depth
    email = parse(head + body)
    assert any("nested deeper" in problem for problem in email.problems)


def test_parse_never_raises_on_truncated_or_mangled_corpus_messages() -> None:
    rng = random.Random(20240619)
    for name in corpus_names():
        raw = (CORPUS / name).read_bytes()
        for _ in range(4):
            cut = raw[: rng.randrange(len(raw) + 1)] if raw else raw
            mangled = bytearray(raw)
            for _ in range(min(len(mangled), 8)):
                mangled[rng.randrange(len(mangled))] = rng.randrange(256)
            for sample in (cut, bytes(mangled)):
                email = parse(sample)
                assert isinstance(email.text, str) and isinstance(email.problems, tuple)


def test_attachment_filenames_are_safe() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename("...hidden") == "hidden"
    assert safe_filename("a\x00b\nc\u202etxt.exe") == "a b c txt.exe"
    assert safe_filename('what?:"*.txt') == "what____.txt"
    long = safe_filename("é" * 300 + ".pdf")
    assert long.endswith(".pdf") and len(long.encode("utf-8")) <= 255
    assert safe_filename("..") == ""


def test_dates_without_a_zone_are_taken_as_utc() -> None:
    email = parse(b"From: a@example.com\nDate: Mon, 3 Jun 2024 10:00:00 -0000\n\nx\n")
    assert email.date == datetime.fromisoformat("2024-06-03T10:00:00+00:00")


def _message_with_attachments(*sizes: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "big@example.com"
    msg["Subject"] = "files"
    msg.set_content("Two files." if len(sizes) == 2 else "Files.")
    for index, size in enumerate(sizes):
        data = b"x" * size
        msg.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=f"file-{index}.bin"
        )
    return msg.as_bytes()


def test_a_header_is_parsed_once_and_reads_as_the_stdlib_reads_it() -> None:
    """``email_policy.POLICY`` hands out one parsed header per (name, value): the same
    text, parameters and defects as ``policy.default`` parses each time."""
    factory = POLICY.header_factory
    value = 'multipart/mixed; boundary="b1"; charset=utf-8'
    first, again = factory("Content-Type", value), factory("Content-Type", value)
    fresh = policy.default.header_factory("Content-Type", value)
    assert first is again
    assert str(first) == str(fresh) and dict(first.params) == dict(fresh.params)
    broken = factory("From", "Jo <jo@example.org")  # an unclosed angle: a defect
    assert broken is factory("From", "Jo <jo@example.org")
    assert [type(d) for d in broken.defects] == [
        type(d) for d in policy.default.header_factory("From", "Jo <jo@example.org").defects
    ]
    assert broken.defects
    assert factory("from", "Jo <jo@example.org>").name == "from"  # each name its own
    assert factory("From", "Jo <jo@example.org>").name == "From"
    long = "x" * 5000  # long values are parsed each time, not kept
    assert factory("Subject", long) == long and factory("Subject", long) is not factory(
        "Subject", long
    )


@pytest.mark.parametrize(
    ("headers", "person"),
    [
        ({"List-Id": "<users.lists.example.org>"}, True),
        ({"List-Id": "<users.lists.example.org>", "Precedence": "list"}, True),
        ({"Precedence": "list"}, True),
        ({"List-Id": "<news.example.org>", "Precedence": "bulk"}, False),
        ({"List-Id": "<users.lists.example.org>", "Auto-Submitted": "auto-replied"}, False),
        ({"List-Id": "<users.lists.example.org>", "X-Autoreply": "yes"}, False),
        ({"List-Unsubscribe": "<mailto:leave@news.example.org>"}, False),
        ({}, False),
    ],
)
def test_a_person_writing_through_a_list_is_told_from_a_machine(
    headers: dict[str, str], person: bool
) -> None:
    found = through_list_by_a_person(
        headers, sender="ana@example.com", content_type="text/plain", own=OwnAddresses()
    )
    assert found is person
    robot = through_list_by_a_person(
        headers, sender="noreply@example.com", content_type="text/plain", own=OwnAddresses()
    )
    assert robot is False
