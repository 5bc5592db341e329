"""The channels relaydesk ships."""

from __future__ import annotations

from workers.channels.email_channel import EmailChannel
from workers.channels.registry import ChannelRegistry
from workers.channels.telegram_channel import TelegramChannel
from workers.channels.web_channel import WebChannel


def standard_channels() -> ChannelRegistry:
    """A new registry (its adapters hold a process's clients: one per runtime)."""
    return ChannelRegistry((WebChannel(), EmailChannel(), TelegramChannel()))


__all__ = ["standard_channels"]
