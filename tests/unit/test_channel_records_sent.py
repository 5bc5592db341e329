"""An adapter that writes something when a row is sent says so (``records_sent``):
delivery records a row in one statement only where its adapter says it writes nothing,
and ``Database.one_statement`` would raise on the adapter's statement."""

from __future__ import annotations

from dataclasses import replace

from router.envelopes import OutboundMessage
from router.vocabulary import Channel, ChatAction
from workers.channels.adapter import ChannelAdapter
from workers.channels.standard import standard_channels


def test_every_adapter_that_records_a_send_says_when() -> None:
    for adapter in standard_channels():
        overrides = type(adapter).record_sent is not ChannelAdapter.record_sent
        says = type(adapter).records_sent is not ChannelAdapter.records_sent
        assert says or not overrides, f"{type(adapter).__name__} writes on a send unsaid"


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
