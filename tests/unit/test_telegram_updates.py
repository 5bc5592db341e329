"""Reading raw Bot API updates, and sending through the Telegram sender (with a fake API)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.telegram.bot_api import RetryLater
from connectors.telegram.intake import bot_id, update_envelope
from connectors.telegram.sender import PartlySent, TelegramSender
from connectors.telegram.updates import UpdateKind, parse_update
from router.envelopes import OutboundMessage
from router.errors import PermanentError, TransientError
from router.vocabulary import Channel

USER = {"id": 42, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "username": "ann"}
CHAT = {"id": 42, "type": "private", "first_name": "Ann"}


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 7, "date": 1, "chat": CHAT, "from": USER, **fields}


def test_a_text_message() -> None:
    update = parse_update({"update_id": 10, "message": message(text="hello")})
    assert update.kind is UpdateKind.MESSAGE
    assert (update.chat_id, update.user_id, update.user_name) == ("42", "42", "Ann Lee")
    assert (update.text, update.message_id, update.external_id) == ("hello", 7, "tg:42:7")
    assert update.files == () and update.unsupported is None


def test_a_reply_names_the_message_it_answers() -> None:
    update = parse_update(
        {"update_id": 1, "message": message(text="yes", reply_to_message={"message_id": 3})}
    )
    assert update.reply_to_message_id == 3


def test_the_largest_photo_size_is_kept_and_the_caption_is_the_text() -> None:
    sizes = [
        {"file_id": "small", "file_unique_id": "a", "width": 90, "height": 90, "file_size": 1000},
        {"file_id": "big", "file_unique_id": "b", "width": 900, "height": 900, "file_size": 90000},
    ]
    update = parse_update({"update_id": 1, "message": message(photo=sizes, caption="see")})
    assert [(f.file_id, f.kind, f.size) for f in update.files] == [("big", "photo", 90000)]
    assert update.text == "see"


def test_documents_and_voice_notes_keep_their_names_and_types() -> None:
    doc = {"file_id": "d", "file_unique_id": "d", "file_name": "log.txt", "mime_type": "text/plain"}
    voice = {"file_id": "v", "file_unique_id": "v", "duration": 3, "file_size": 10}
    update = parse_update({"update_id": 1, "message": message(document=doc)})
    assert [(f.file_name, f.mime_type, f.size) for f in update.files] == [
        ("log.txt", "text/plain", None)
    ]
    update = parse_update({"update_id": 2, "message": message(voice=voice)})
    assert [(f.kind, f.file_name, f.mime_type) for f in update.files] == [
        ("voice", "voice.ogg", "audio/ogg")
    ]


def test_stickers_and_locations_are_unsupported() -> None:
    sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1}
    assert parse_update({"update_id": 1, "message": message(sticker=sticker)}).unsupported == (
        "sticker"
    )
    location = {"latitude": 1.0, "longitude": 2.0}
    assert parse_update({"update_id": 1, "message": message(location=location)}).unsupported == (
        "location"
    )


def test_edits_and_button_presses() -> None:
    edited = parse_update({"update_id": 5, "edited_message": message(text="better")})
    assert edited.kind is UpdateKind.EDITED and edited.text == "better"
    pressed = parse_update(
        {
            "update_id": 6,
            "callback_query": {
                "id": "cb1",
                "from": USER,
                "chat_instance": "x",
                "data": "rd:claim:3",
                "message": message(text="offer"),
            },
        }
    )
    assert pressed.kind is UpdateKind.CALLBACK
    assert (pressed.callback_id, pressed.callback_data, pressed.message_id) == (
        "cb1",
        "rd:claim:3",
        7,
    )
    assert pressed.chat_id == "42"


def test_other_update_kinds_are_recognised_but_not_handled() -> None:
    assert parse_update({"update_id": 9, "my_chat_member": {}}).kind is UpdateKind.OTHER


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"update_id": "x"},
        {"update_id": 1, "message": "text"},
        {"update_id": 1, "message": {"message_id": 1}},
        {"update_id": 1, "message": {"chat": {"id": 1}}},
        {"update_id": 1, "callback_query": {"data": "x"}},
    ],
)
def test_malformed_updates_name_what_is_missing(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        parse_update(bad)


def test_the_inbox_envelope_is_keyed_by_update_id_and_keeps_the_raw_json() -> None:
    update = {"update_id": 77, "message": message(text="é")}
    envelope, raw = update_envelope(update, source="t", bot=bot_id("7000:secret"))
    assert envelope.channel is Channel.TELEGRAM and envelope.idempotency_key == "update:7000:77"
    assert "secret" not in envelope.idempotency_key and envelope.external_id
    assert envelope.unparsed and "é".encode() in raw
    with pytest.raises(ValueError):
        update_envelope({"message": {}}, source="t")


class FakeApi:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, Any]] = []
        self.failures: list[Exception] = []
        self.edits: list[tuple[str, int, str]] = []
        self.answers: list[tuple[str, str]] = []

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def send_message(self, chat_id: Any, html: str, *, buttons: Any = None, **_: Any) -> int:
        self._maybe_fail()
        self.sent.append((str(chat_id), html, buttons))
        return len(self.sent)

    def edit_message(self, chat_id: Any, message_id: int, html: str, **_: Any) -> None:
        self._maybe_fail()
        self.edits.append((str(chat_id), message_id, html))

    def answer_callback(self, callback_query_id: str, text: str) -> None:
        self.answers.append((callback_query_id, text))

    def send_document(
        self, chat_id: Any, data: bytes, filename: str, *, caption_html: str = ""
    ) -> int:
        self._maybe_fail()
        self.sent.append((str(chat_id), caption_html, (filename, data)))
        return len(self.sent)

    def close(self) -> None:
        pass


def chat(text: str, html: str | None = None, **kw: Any) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.TELEGRAM,
        recipient="42",
        subject="",
        body_text=text,
        body_html=html,
        message_id="tg.1",
        **kw,
    )


def sender(api: FakeApi, slept: list[float], turns: list[str]) -> TelegramSender:
    return TelegramSender(api, throttle=turns.append, max_retry_after_s=10, sleep=slept.append)


def test_a_short_message_goes_as_one_with_its_buttons() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    buttons = (({"text": "Claim", "callback_data": "rd:claim:1"},),)
    result = sender(api, slept, turns).send(chat("hi", "<b>hi</b>", buttons=buttons))
    assert api.sent == [("42", "<b>hi</b>", [[{"text": "Claim", "callback_data": "rd:claim:1"}]])]
    assert result.external_id == "1" and turns == ["42"]


def test_a_long_message_is_split_escaped_and_each_part_waits_its_turn() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    text = ("a < b & c " * 300 + "\n\n") * 3
    result = sender(api, slept, turns).send(chat(text, None))
    assert len(api.sent) >= 3 and turns == ["42"] * len(api.sent)
    assert all(len(html.encode("utf-16-le")) // 2 <= 4096 for _, html, _ in api.sent)
    assert "&lt;" in api.sent[0][1] and "<" not in api.sent[0][1]
    assert result.external_id == ",".join(str(i) for i in range(1, len(api.sent) + 1))


def test_a_429_is_waited_out_as_asked_then_sent() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    api.failures.append(RetryLater("slow down", retry_after=3))
    sender(api, slept, turns).send(chat("hi"))
    assert slept == [3] and len(api.sent) == 1


def test_a_long_429_is_left_to_the_retries() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    api.failures.append(RetryLater("slow down", retry_after=300))
    with pytest.raises(TransientError):
        sender(api, slept, turns).send(chat("hi"))
    assert slept == [] and api.sent == []


def test_a_429_longer_than_a_sends_timeout_is_not_waited_in_place() -> None:
    """A send that must not hold its thread (made where it was queued) leaves with the
    wait: its row waits, unspent."""
    api, slept, turns = FakeApi(), list[float](), list[str]()
    api.failures.append(RetryLater("slow down", retry_after=3))
    with pytest.raises(RetryLater):
        sender(api, slept, turns).send(chat("hi"), timeout_s=1)
    assert slept == [] and api.sent == []


def test_edits_and_callback_answers() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    s = sender(api, slept, turns)
    s.send(chat("done", "<b>done</b>", chat_action="edit", target_id="5"))
    s.send(chat("Claimed", chat_action="answer_callback", target_id="cb9"))
    assert api.edits == [("42", 5, "<b>done</b>")] and api.answers == [("cb9", "Claimed")]
    with pytest.raises(PermanentError):
        s.send(chat("x", chat_action="edit"))
    with pytest.raises(PermanentError):
        s.send(chat("x", chat_action="fly"))


def test_a_split_message_that_fails_midway_is_resumed_not_repeated() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    text = "\n\n".join(f"part {i} " + "x" * 4000 for i in range(3))

    class FailSecond(FakeApi):
        def send_message(self, chat_id: Any, html: str, **kw: Any) -> int:
            if len(self.sent) == 1 and not self.failures:
                self.failures.append(TransientError("502 Bad Gateway"))
            return super().send_message(chat_id, html, **kw)

    flaky = FailSecond()
    with pytest.raises(PartlySent) as caught:
        sender(flaky, slept, turns).send(chat(text))
    assert caught.value.sent == ["1"] and len(flaky.sent) == 1
    resumed = chat(text, sent_parts=tuple(caught.value.sent))
    result = sender(api, slept, turns).send(resumed)
    assert [html.split(" ")[1] for _, html, _ in api.sent] == ["1", "2"]  # parts 1 and 2 only
    assert result.external_id == "1,1,2"


def test_a_429_longer_than_the_wait_in_place_leaves_with_its_wait() -> None:
    api, slept, turns = FakeApi(), list[float](), list[str]()
    api.failures.append(RetryLater("slow down", retry_after=300))
    with pytest.raises(RetryLater) as caught:
        sender(api, slept, turns).send(chat("hi"))
    assert caught.value.retry_after == 300 and slept == []


def test_a_split_message_cut_off_by_a_flood_says_how_long_to_wait() -> None:
    slept: list[float] = []
    turns: list[str] = []
    text = "\n\n".join(f"part {i} " + "x" * 4000 for i in range(3))

    class FloodSecond(FakeApi):
        def send_message(self, chat_id: Any, html: str, **kw: Any) -> int:
            if len(self.sent) == 1 and not self.failures:
                self.failures.append(RetryLater("slow down", retry_after=120))
            return super().send_message(chat_id, html, **kw)

    with pytest.raises(PartlySent) as caught:
        sender(FloodSecond(), slept, turns).send(chat(text))
    assert caught.value.sent == ["1"] and caught.value.retry_after == 120


def test_a_document_uploads_its_kept_file_with_its_caption() -> None:
    from router.envelopes import AttachmentRef

    api, slept, turns = FakeApi(), list[float](), list[str]()

    def read_file(sha256: str) -> bytes:  # as the kept files answer
        if sha256 != "ab" * 32:
            raise FileNotFoundError(sha256)
        return b"%PDF"

    ref = AttachmentRef("invoice.pdf", "application/pdf", 4, "ab" * 32)
    s = TelegramSender(api, throttle=turns.append, sleep=slept.append, read_file=read_file)
    result = s.send(chat("", "<b>[#1]</b> invoice.pdf", chat_action="document", attachments=(ref,)))
    assert api.sent == [("42", "<b>[#1]</b> invoice.pdf", ("invoice.pdf", b"%PDF"))]
    assert result.external_id == "1" and turns == ["42"]
    gone = AttachmentRef("gone.pdf", "application/pdf", 4, "cd" * 32)
    with pytest.raises(PermanentError, match="cannot be read"):
        s.send(chat("", "x", chat_action="document", attachments=(gone,)))
