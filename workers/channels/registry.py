"""The channel registry: one table from ``Channel`` to its adapter, one per runtime.

Adding a channel is one ``connectors/`` subpackage (its protocol IO) and one
entry here: an adapter (``workers.channels.adapter``) passed to ``plus``. Its
queues, actors, sender and the way its people are reached follow from the entry.
Agents are reached on the first channel, by ``agent_preference``, that has an
address for them.
"""

from __future__ import annotations

from collections.abc import Iterator

from router.vocabulary import Channel
from workers.channels.adapter import ChannelAdapter, unsaid_record


class ChannelRegistry:
    def __init__(self, adapters: tuple[ChannelAdapter, ...]) -> None:
        self._adapters = {a.channel: a for a in adapters}
        if len(self._adapters) != len(adapters):
            raise ValueError("one adapter per channel")
        for adapter in adapters:
            if unsaid_record(type(adapter)):
                raise TypeError(
                    f"{type(adapter).__name__} overrides record_sent but not records_sent,"
                    " which says when it writes (see ChannelAdapter.records_sent)"
                )

    def plus(self, adapter: ChannelAdapter) -> ChannelRegistry:
        """This registry with one more channel."""
        return ChannelRegistry((*self._adapters.values(), adapter))

    def __getitem__(self, channel: Channel) -> ChannelAdapter:
        try:
            return self._adapters[channel]
        except KeyError:
            raise KeyError(f"no channel {channel.value!r} in the registry") from None

    def __iter__(self) -> Iterator[ChannelAdapter]:
        return iter(self._adapters.values())

    def __contains__(self, channel: object) -> bool:
        return channel in self._adapters

    def inbound(self) -> tuple[Channel, ...]:
        return tuple(a.channel for a in self if a.inbound)

    def outbound(self) -> tuple[Channel, ...]:
        return tuple(a.channel for a in self if a.outbound)

    def for_agents(self) -> tuple[ChannelAdapter, ...]:
        """The channels in the order an agent is reached on them (the first they are on)."""
        return tuple(sorted(self, key=lambda a: a.agent_preference))

    def answering(self, channel: Channel) -> ChannelAdapter:
        """The adapter that answers the requesters of ``channel`` (a web requester: email)."""
        adapter = self[channel]
        return self[adapter.answered_on] if adapter.answered_on is not None else adapter

    def close(self) -> None:
        for adapter in self:
            adapter.close()


__all__ = ["ChannelRegistry"]
