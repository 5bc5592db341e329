"""BotApi against the fake Telegram Bot API server on loopback, and the fake against PTB itself."""

# ruff: noqa: F811  (the imported telegram_server fixture is redefined by each test's argument)

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from connectors.telegram.bot_api import BotApi, RedactToken, RetryLater
from router.errors import PermanentError, TransientError
from tests.support.telegram_server import TelegramServer, telegram_server  # noqa: F401

pytestmark = pytest.mark.integration

ALLOWED = ["message", "edited_message", "callback_query"]


def make_api(server: TelegramServer, token: str | None = None, pool_size: int = 8) -> BotApi:
    return BotApi(
        token or server.token,
        base_url=f"{server.url}/bot",
        base_file_url=f"{server.url}/file/bot",
        timeout_s=5,
        pool_size=pool_size,
    )


@pytest.fixture
def api(telegram_server: TelegramServer) -> Iterator[BotApi]:
    with make_api(telegram_server) as bot_api:
        yield bot_api


def ids(updates: list[dict]) -> list[int]:
    return [u["update_id"] for u in updates]


# --- updates ---


def test_get_me_returns_the_bot_identity_as_plain_data(api: BotApi) -> None:
    assert api.get_me() == {
        "id": 7_000_000_001,
        "username": "relaydesk_test_bot",
        "first_name": "Relaydesk",
    }


def test_an_update_is_redelivered_until_a_later_offset_confirms_it(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    first = telegram_server.customer_message(42, "one")
    second = telegram_server.customer_message(42, "two")

    assert ids(api.get_updates(None, 0, ALLOWED)) == [first, second]
    assert ids(api.get_updates(None, 0, ALLOWED)) == [first, second]
    assert ids(api.get_updates(first + 1, 0, ALLOWED)) == [second]
    assert ids(api.get_updates(first + 1, 0, ALLOWED)) == [second]
    assert api.get_updates(second + 1, 0, ALLOWED) == []
    assert telegram_server.offsets == [None, None, first + 1, first + 1, second + 1]
    assert telegram_server.pending_updates == []


def test_updates_come_back_as_the_raw_json_telegram_sent(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    bot_message = api.send_message(
        7, "How can we help?", buttons=[[{"text": "A", "callback_data": "a"}]]
    )
    pushed = [
        telegram_server.customer_message(7, "Hi", username="ann", reply_to=bot_message),
        telegram_server.customer_message(7, caption="scan", photo=b"\xff\xd8jpeg"),
        telegram_server.customer_message(7, document=b"%PDF-1.4", file_name="invoice.pdf"),
        telegram_server.customer_message(7, voice=b"OggS", duration=4),
        telegram_server.customer_message(7, sticker=True),
        telegram_server.edited_message(7, 2, "Hi again"),
        telegram_server.callback(7, bot_message, "a"),
    ]

    updates = api.get_updates(None, 0, ALLOWED)

    assert updates == [telegram_server.update(i) for i in pushed]
    reply = updates[0]["message"]
    assert reply["reply_to_message"]["text"] == "How can we help?"
    assert reply["from"] == {
        "id": 7, "is_bot": False, "first_name": "Ann", "username": "ann", "language_code": "en",
    }  # fmt: skip
    assert [p["width"] for p in updates[1]["message"]["photo"]] == [90, 320, 800]
    assert updates[2]["message"]["document"]["mime_type"] == "application/pdf"
    assert updates[6]["callback_query"]["message"]["message_id"] == bot_message


def test_long_polling_returns_as_soon_as_an_update_is_pushed(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    with ThreadPoolExecutor(1) as pool:
        poll = pool.submit(api.get_updates, None, 30, ALLOWED)
        telegram_server.wait_until(lambda: len(telegram_server.offsets) == 1)
        time.sleep(0.2)  # the poll is now waiting inside the server
        pushed_at = time.monotonic()
        update_id = telegram_server.customer_message(42, "hello")
        updates = poll.result(timeout=10)

    assert ids(updates) == [update_id]
    assert time.monotonic() - pushed_at < 5  # far sooner than the 30 s poll timeout


def test_long_polling_without_updates_answers_empty_after_its_timeout(api: BotApi) -> None:
    assert api.get_updates(None, 1, ALLOWED) == []


def test_a_newer_poll_makes_the_older_one_fail_with_a_transient_conflict(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    with ThreadPoolExecutor(1) as pool:
        older = pool.submit(api.get_updates, None, 30, ALLOWED)
        telegram_server.wait_until(lambda: len(telegram_server.offsets) == 1)
        time.sleep(0.2)
        assert api.get_updates(None, 0, ALLOWED) == []
        with pytest.raises(TransientError, match="terminated by other getUpdates"):
            older.result(timeout=10)


def test_closing_the_client_ends_a_long_poll_in_flight(telegram_server: TelegramServer) -> None:
    bot_api = make_api(telegram_server)
    with ThreadPoolExecutor(1) as pool:
        poll = pool.submit(bot_api.get_updates, None, 30, ALLOWED)
        telegram_server.wait_until(lambda: len(telegram_server.offsets) == 1)
        bot_api.close()
        with pytest.raises(TransientError, match="closed"):
            poll.result(timeout=10)
    with pytest.raises(TransientError, match="closed"):
        bot_api.get_me()


# --- messages ---


def test_send_message_sends_html_with_buttons_as_a_reply_without_link_preview(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    telegram_server.customer_message(42, "My printer is on fire")
    buttons = [
        [{"text": "Take it", "callback_data": "take:17"}],
        [{"text": "Open", "url": "https://desk.example/t/17"}],
    ]

    message_id = api.send_message(
        42, "<b>Ticket #17</b> opened", buttons=buttons, reply_to_message_id=1
    )

    assert message_id == 2
    [sent] = telegram_server.sent(42)
    assert sent["text"] == "<b>Ticket #17</b> opened"
    assert sent["plain_text"] == "Ticket #17 opened"
    assert sent["parse_mode"] == "HTML"
    assert sent["reply_to_message_id"] == 1
    assert sent["link_preview_options"] == {"is_disabled": True}
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Take it", "callback_data": "take:17"}],
            [{"text": "Open", "url": "https://desk.example/t/17"}],
        ]
    }


def test_message_ids_increase_per_chat(api: BotApi) -> None:
    assert [api.send_message(1, "a"), api.send_message(2, "b"), api.send_message(1, "c")] == [
        1,
        1,
        2,
    ]


def test_a_reply_to_a_missing_message_is_still_sent(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    assert api.send_message(42, "answer", reply_to_message_id=999) == 1
    assert telegram_server.sent(42)[0]["reply_to_message_id"] == 999


def test_html_with_escaped_entities_is_accepted(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    html = (
        "1 &lt; 2 &amp;&amp; &quot;x&quot; &gt; 0 &#128512; &#x263A; "
        '<a href="https://x.example/?a=1&amp;b=2">link</a> <i><u>iu</u></i> '
        '<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span> '
        '<pre><code class="language-python">print(1)</code></pre>'
    )

    api.send_message(42, html)

    [sent] = telegram_server.sent(42)
    assert sent["plain_text"] == '1 < 2 && "x" > 0 \U0001f600 \u263a link iu s t print(1)'


@pytest.mark.parametrize(
    "html",
    [
        "<b>never closed",
        "a < b",
        "fish & chips",
        "&nbsp;",
        "line<br>break",
        "</b>",
        "<b><i>crossed</b></i>",
        "<font>x</font>",
        "<span>no class</span>",
        "<b",
    ],
)
def test_broken_html_is_refused_as_a_permanent_error(api: BotApi, html: str) -> None:
    with pytest.raises(PermanentError, match="parse entities"):
        api.send_message(42, html)


def test_text_over_4096_characters_is_refused(api: BotApi, telegram_server: TelegramServer) -> None:
    api.send_message(42, "a" * 4096)
    api.send_message(42, "&amp;" * 4096)  # Telegram counts the visible text

    with pytest.raises(PermanentError, match="too long"):
        api.send_message(42, "a" * 4097)
    assert len(telegram_server.sent(42)) == 2


def test_edit_message_replaces_text_and_an_unchanged_edit_counts_as_success(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    message_id = api.send_message(42, "Waiting", buttons=[[{"text": "Take", "callback_data": "t"}]])

    api.edit_message(42, message_id, "<i>Taken by Ana</i>")
    api.edit_message(42, message_id, "<i>Taken by Ana</i>")

    assert [(e["message_id"], e["text"], e["reply_markup"]) for e in telegram_server.edits] == [
        (message_id, "<i>Taken by Ana</i>", None)
    ]
    statuses = [c["status"] for c in telegram_server.calls if c["method"] == "editMessageText"]
    assert statuses == [200, 400]


def test_editing_an_unknown_message_is_permanent(api: BotApi) -> None:
    with pytest.raises(PermanentError, match="not found"):
        api.edit_message(42, 404, "text")


def test_answer_callback_answers_the_query_once(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    message_id = api.send_message(42, "Rate us", buttons=[[{"text": "5", "callback_data": "r5"}]])
    update_id = telegram_server.callback(42, message_id, "r5")
    query_id = telegram_server.update(update_id)["callback_query"]["id"]

    api.answer_callback(query_id, "Thanks!")

    assert [(a["callback_query_id"], a["text"]) for a in telegram_server.callback_answers] == [
        (query_id, "Thanks!")
    ]
    with pytest.raises(PermanentError, match="query"):
        api.answer_callback(query_id, "Thanks again!")


# --- files ---


def test_download_returns_the_bytes_and_the_file_path(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    file_id = telegram_server.add_file(b"%PDF-1.4 invoice", file_name="invoice.pdf")

    data, path = api.download(file_id, max_bytes=1024)

    assert data == b"%PDF-1.4 invoice"
    assert path.startswith("documents/") and path.endswith(".pdf")


def test_download_refuses_a_file_over_the_limit_without_fetching_it(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    file_id = telegram_server.add_file(b"x" * 2048)

    with pytest.raises(PermanentError, match="2048 bytes"):
        api.download(file_id, max_bytes=1024)
    assert [c["method"] for c in telegram_server.calls] == ["getFile"]


def test_download_of_an_unknown_file_is_permanent(api: BotApi) -> None:
    with pytest.raises(PermanentError, match="file_id"):
        api.download("no-such-file", max_bytes=1024)


# --- webhook ---


def test_get_updates_while_a_webhook_is_set_is_a_transient_conflict(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    api.set_webhook("https://desk.example/telegram", "s3cret_token", ALLOWED)
    assert telegram_server.webhook == {
        "url": "https://desk.example/telegram",
        "secret_token": "s3cret_token",
        "allowed_updates": ALLOWED,
    }

    with pytest.raises(TransientError, match="webhook"):
        api.get_updates(None, 0, ALLOWED)

    api.delete_webhook()
    assert telegram_server.webhook is None
    assert api.get_updates(None, 0, ALLOWED) == []


# --- failures ---


def test_flood_control_becomes_retry_later_with_the_servers_delay(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    telegram_server.fail_next("sendMessage", retry_after=7)

    with pytest.raises(RetryLater) as caught:
        api.send_message(42, "hello")

    assert caught.value.retry_after == 7.0
    assert isinstance(caught.value, TransientError)
    assert api.send_message(42, "hello") == 1


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (403, "Forbidden: bot was blocked by the user", PermanentError),
        (400, "Bad Request: chat not found", PermanentError),
        (502, None, TransientError),
        (500, "Internal Server Error", TransientError),
    ],
)
def test_server_errors_become_transient_or_permanent(
    api: BotApi,
    telegram_server: TelegramServer,
    status: int,
    description: str | None,
    error: type[Exception],
) -> None:
    telegram_server.fail_next("sendMessage", status=status, description=description)

    with pytest.raises(error) as caught:
        api.send_message(42, "hello")

    assert not isinstance(caught.value, RetryLater)
    assert isinstance(caught.value, PermanentError) == (error is PermanentError)


def test_a_dropped_connection_is_transient(api: BotApi, telegram_server: TelegramServer) -> None:
    telegram_server.fail_next("sendMessage", disconnect=True)

    with pytest.raises(TransientError):
        api.send_message(42, "hello")
    assert api.send_message(42, "hello") == 1


def test_a_rejected_token_is_permanent(telegram_server: TelegramServer) -> None:
    with (
        make_api(telegram_server, token="123:not-the-token") as wrong,
        pytest.raises(PermanentError),
    ):
        wrong.get_me()


def test_an_unreachable_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bot"
    with BotApi("1:x", base_url=url, timeout_s=2) as bot_api, pytest.raises(TransientError):
        bot_api.get_me()


def test_many_threads_sending_at_once_all_succeed(telegram_server: TelegramServer) -> None:
    def send(n: int) -> int:
        return bot_api.send_message(n % 4, f"message {n}")

    with make_api(telegram_server, pool_size=4) as bot_api, ThreadPoolExecutor(16) as pool:
        message_ids = list(pool.map(send, range(160)))

    assert len(telegram_server.sent()) == 160
    for chat in range(4):
        mine = sorted(m for n, m in enumerate(message_ids) if n % 4 == chat)
        assert mine == list(range(1, 41))


# --- the token stays secret ---


def test_the_token_never_appears_in_logs_or_errors(
    telegram_server: TelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = telegram_server.token
    errors: list[Exception] = []
    file_id = telegram_server.add_file(b"data")
    telegram_server.customer_message(42, "hi")

    with make_api(telegram_server) as bot_api:
        bot_api.get_me()
        bot_api.get_updates(None, 0, ALLOWED)
        message_id = bot_api.send_message(42, "<b>hello</b>")
        bot_api.edit_message(42, message_id, "bye")
        bot_api.download(file_id, 100)
        telegram_server.fail_next("sendMessage", status=403, description="Forbidden: blocked")
        telegram_server.fail_next("getMe", disconnect=True)
        bot_api.set_webhook("https://desk.example/hook", "secret", ALLOWED)
        for call in (
            lambda: bot_api.send_message(42, "x"),
            bot_api.get_me,
            lambda: bot_api.get_updates(None, 0, ALLOWED),
            lambda: bot_api.send_message(42, "<br>"),
        ):
            with pytest.raises(Exception) as caught:
                call()
            errors.append(caught.value)
        bot_api.delete_webhook()

    assert "bot<token>/sendMessage" in caplog.text  # httpx's request lines were captured
    assert token not in caplog.text
    assert all(token not in record.getMessage() for record in caplog.records)
    assert all(token not in f"{e!s} {e!r}" for e in errors)
    assert len(errors) == 4


def test_redact_token_covers_arguments_and_exception_text() -> None:
    record = logging.LogRecord("httpx", logging.ERROR, __file__, 1, "GET %s", ("/botT0K/x",), None)
    try:
        raise ValueError("bad url /botT0K/y")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()

    assert RedactToken("T0K").filter(record)
    formatted = logging.Formatter().format(record)
    assert "T0K" not in formatted
    assert "GET /bot<token>/x" in formatted and "/bot<token>/y" in formatted


# --- the fake server itself ---


def test_python_telegram_bot_itself_talks_to_the_fake_server(
    telegram_server: TelegramServer,
) -> None:
    server = telegram_server
    server.customer_message(42, "invoice attached", document=b"%PDF", file_name="a.pdf")

    async def conversation() -> None:
        bot = Bot(
            server.token, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot"
        )
        async with bot:
            assert bot.username == "relaydesk_test_bot"
            [update] = await bot.get_updates(timeout=0)
            assert update.message is not None and update.message.document is not None
            assert update.message.caption == "invoice attached"
            assert update.message.document.file_name == "a.pdf"
            file = await bot.get_file(update.message.document.file_id)
            assert await file.download_as_bytearray() == bytearray(b"%PDF")

            sent = await bot.send_message(
                42,
                "<b>Got</b> it &amp; thanks",
                parse_mode="HTML",
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("Close", callback_data="close")]]
                ),
                reply_parameters=ReplyParameters(update.message.message_id),
            )
            assert sent.text == "Got it & thanks"
            assert sent.text_html == "<b>Got</b> it &amp; thanks"
            assert sent.reply_to_message is not None
            assert sent.reply_to_message.message_id == update.message.message_id
            assert sent.from_user is not None and sent.from_user.is_bot

            server.callback(42, sent.message_id, "close")
            [pressed] = await bot.get_updates(offset=update.update_id + 1, timeout=5)
            assert pressed.callback_query is not None
            assert pressed.callback_query.data == "close"
            assert await bot.answer_callback_query(pressed.callback_query.id, "Closed")

            edited = await bot.edit_message_text("Closed", chat_id=42, message_id=sent.message_id)
            assert not isinstance(edited, bool) and edited.text == "Closed"
            assert await bot.set_webhook("https://desk.example/hook", secret_token="abc")
            assert (await bot.get_webhook_info()).url == "https://desk.example/hook"
            assert await bot.delete_webhook()

    asyncio.run(conversation())
    assert server.errors == []


def test_fake_server_accepts_json_query_string_and_multipart_parameters(
    telegram_server: TelegramServer,
) -> None:
    base = f"{telegram_server.url}/bot{telegram_server.token}"
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]}
    with httpx.Client() as client:
        by_json = client.post(
            f"{base}/sendMessage", json={"chat_id": 5, "text": "json", "reply_markup": markup}
        )
        by_query = client.get(f"{base}/sendmessage", params={"chat_id": "5", "text": "query"})
        by_multipart = client.post(
            f"{base}/sendMessage",
            data={"chat_id": "5", "text": "multipart"},
            files={"unused": ("a.txt", b"x", "text/plain")},
        )
        wrong_token = client.post(f"{telegram_server.url}/bot1:nope/getMe")
        unknown = client.post(f"{base}/sendTelepathy")

    assert [r.status_code for r in (by_json, by_query, by_multipart)] == [200, 200, 200]
    assert by_json.json()["result"]["reply_markup"] == markup
    assert [m["text"] for m in telegram_server.sent(5)] == ["json", "query", "multipart"]
    assert (wrong_token.status_code, wrong_token.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )


def test_fake_server_wait_for_returns_the_match_or_says_what_was_sent(
    api: BotApi, telegram_server: TelegramServer
) -> None:
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: [api.send_message(9, f"n{n}") for n in range(3)])
        found = telegram_server.wait_for(lambda m: m["text"] == "n2", timeout=5)
    assert found["message_id"] == 3

    with pytest.raises(AssertionError, match="'n0'"):
        telegram_server.wait_for(lambda m: m["text"] == "never", timeout=0.1)


def test_fake_server_confirms_updates_and_honours_limit_and_negative_offset(
    telegram_server: TelegramServer,
) -> None:
    pushed = [telegram_server.customer_message(1, f"m{n}") for n in range(5)]
    base = f"{telegram_server.url}/bot{telegram_server.token}/getUpdates"

    def poll(**params: object) -> list[int]:
        answer = httpx.post(base, data={k: str(v) for k, v in params.items()}).json()
        return ids(answer["result"])

    assert poll(limit=2) == pushed[:2]
    assert poll(offset=-2) == pushed[3:]
    assert poll() == pushed[3:]  # the negative offset forgot the earlier ones
    assert poll(offset=pushed[4] + 1) == []
