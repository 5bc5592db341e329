"""An adapter that writes something when a row is sent is asked to (``records_sent``):
delivery records a row in one statement, without calling ``record_sent``, only where the
adapter says it writes nothing; one that overrides ``record_sent`` alone is asked for
every send, and the registry refuses one whose ``records_sent`` does not speak for it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from router.envelopes import OutboundMessage
from router.vocabulary import Channel, ChatAction
from workers.channels.adapter import unsaid_record
from workers.channels.email_channel import EmailChannel
from workers.channels.registry import ChannelRegistry
from workers.channels.standard import standard_channels
from workers.channels.telegram_channel import TelegramChannel
from workers.channels.web_channel import WebChannel


class _KeepingEmail(EmailChannel):
    def record_sent(self, *args: Any, **kwargs: Any) -> None:
        pass


class _KeepingTelegram(TelegramChannel):
    def record_sent(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_an_adapter_that_overrides_record_sent_alone_records_every_send() -> None:
    mail = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="a@example.org",
        subject="s",
        body_text="hi",
        message_id="<m1@desk>",
    )
    assert _KeepingEmail().records_sent(mail)
    assert not EmailChannel().records_sent(mail)
    ChannelRegistry((WebChannel(), _KeepingEmail(), TelegramChannel()))  # accepted


def test_the_registry_refuses_a_record_sent_its_records_sent_does_not_speak_for() -> None:
    # Telegram says which of its sends it records; a subclass writing on others too
    # would have them skipped: refused as it is registered, not silently on PostgreSQL
    with pytest.raises(TypeError, match="records_sent"):
        ChannelRegistry((WebChannel(), EmailChannel(), _KeepingTelegram()))
    with pytest.raises(TypeError, match="records_sent"):
        ChannelRegistry((WebChannel(), EmailChannel())).plus(_KeepingTelegram())


def test_every_standard_adapter_that_records_a_send_says_when() -> None:
    for adapter in standard_channels():
        assert not unsaid_record(type(adapter)), type(adapter).__name__


def test_a_chat_message_is_recorded_and_an_email_is_not() -> None:
    channels = standard_channels()
    chat = OutboundMessage(
        channel=Channel.TELEGRAM, recipient="42", subject="", body_text="hi", message_id="m1"
    )
    edit = replace(chat, chat_action=ChatAction.EDIT, target_id="7")
    mail = OutboundMessage(
        channel=Channel.EMAIL,
        recipient="a@example.org",
        subject="s",
        body_text="hi",
        message_id="<m2@desk>",
    )
    assert channels[Channel.TELEGRAM].records_sent(chat)
    assert not channels[Channel.TELEGRAM].records_sent(edit)
    assert not channels[Channel.EMAIL].records_sent(mail)
