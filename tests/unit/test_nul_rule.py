"""One rule for NUL (U+0000) on every channel: no text keeps it, and a message says so."""

from __future__ import annotations

from email.message import EmailMessage

from connectors.email.normalize import envelope_message, parse_inbound
from connectors.telegram.updates import parse_update
from router.envelopes import AttachmentRef, InboundMessage
from router.storable import MAX_ID, is_id, message_without_nul, without_nul
from router.thread_keys import OwnAddresses, thread_keys
from router.vocabulary import Channel


def test_without_nul_cleans_nested_texts_and_keeps_clean_values_as_they_are() -> None:
    clean = {"a": ["b", ("c",)], "n": 1}
    assert without_nul(clean) == (clean, 0) and without_nul(clean)[0] is clean
    assert without_nul({"k\x00": ["x\x00y", ("\x00",)], "n": 1}) == (
        {"k": ["xy", ("",)], "n": 1},
        3,
    )
    assert without_nul(b"\x00") == (b"\x00", 0)  # bytes are not text: raw mail is kept whole


def test_a_message_without_nul_says_which_fields_lost_how_many() -> None:
    message = InboundMessage(
        channel=Channel.EMAIL,
        idempotency_key="k",
        sender_address="a@b.co",
        subject="a\x00b",
        body_text="\x00\x00",
        attachments=(AttachmentRef("f\x00.txt", "text/plain", 1, None),),
        problems=("an earlier problem",),
    )

    cleaned = message_without_nul(message)

    assert (cleaned.subject, cleaned.body_text, cleaned.attachments[0].filename) == (
        "ab",
        "",
        "f.txt",
    )
    assert cleaned.problems == (
        "an earlier problem",
        "removed 4 NUL characters (U+0000) from attachments, body_text, subject: "
        "text cannot keep them",
    )
    assert message_without_nul(cleaned) is cleaned


def test_an_email_with_nul_in_headers_body_and_file_name_is_read_without_them() -> None:
    mail = EmailMessage()
    mail["From"] = "Kim <kim@example.org>"
    mail["To"] = "support@relaydesk.localhost"
    mail["Subject"] = "VPN\x00 down"
    mail.set_content("Since this\x00 morning.")
    mail.add_attachment(b"data", maintype="text", subtype="plain", filename="log\x00.txt")
    raw = mail.as_bytes()

    envelope = envelope_message(raw)
    message = parse_inbound(
        raw,
        envelope,
        own=OwnAddresses(),
        keep_file=lambda data: "0" * 64,
        max_attachment_bytes=1000,
        max_attachments_bytes=1000,
    )

    assert "\x00" not in repr(envelope)
    assert message.subject == "VPN down"
    assert message.body_text.strip() == "Since this morning."
    assert message.attachments[0].filename.startswith("log")  # its sanitiser made it a space
    assert "\x00" not in repr(message)
    assert any("NUL" in problem for problem in message.problems)


def test_a_telegram_update_with_nul_is_read_without_them_and_says_so() -> None:
    user = {"id": 42, "is_bot": False, "first_name": "Ann\x00"}
    update = parse_update(
        {
            "update_id": 1,
            "message": {
                "message_id": 7,
                "date": 1,
                "chat": {"id": 42, "type": "private"},
                "from": user,
                "caption": "see\x00 this",
                "document": {"file_id": "f1", "file_name": "a\x00.pdf", "file_size": 3},
            },
        }
    )

    assert (update.text, update.user_name, update.files[0].file_name) == (
        "see this",
        "Ann",
        "a.pdf",
    )
    assert update.problems == (
        "removed 3 NUL characters (U+0000) from the message: text cannot keep them",
    )


def test_a_thread_key_past_the_id_range_is_no_key() -> None:
    own = OwnAddresses(addresses=frozenset({"support@x.org"}))
    for number, expected in ((MAX_ID, MAX_ID), (MAX_ID + 1, None), (10**11, None)):
        message = InboundMessage(
            channel=Channel.EMAIL,
            idempotency_key="k",
            sender_address="a@b.co",
            body_text="",
            subject=f"[#{number}] hi",
            recipients=(f"support+{number}@x.org",),
        )
        keys = thread_keys(message, own=own)
        assert (keys.subject_number, keys.plus_number) == (expected, expected)
    assert not is_id(0) and is_id(1)
