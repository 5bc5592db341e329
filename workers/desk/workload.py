"""Agents as a colleague or a supervisor sees them: status, and load against capacity per
channel."""

from __future__ import annotations

from router.staff_views import AgentLoad, ChannelLoad
from router.vocabulary import Channel
from workers.runtime.context import Runtime


def agent_loads(runtime: Runtime) -> list[AgentLoad]:
    """Every agent by name, with their active tickets per channel and the limits."""
    with runtime.db.unit_of_work() as uow:
        loads = uow.staff.loads_by_channel()
        return [
            AgentLoad(
                name=agent.name,
                display_name=agent.display_name,
                status=agent.status,
                teams=tuple(sorted(t.name for t in agent.teams)),
                load=agent.load,
                capacity=agent.capacity,
                channels=tuple(
                    ChannelLoad(
                        channel=channel.value,
                        load=loads.get(agent.id, {}).get(channel.value, 0),
                        capacity=(agent.channel_capacity or {}).get(channel.value),
                    )
                    for channel in Channel
                ),
            )
            for agent in uow.agents.all()
        ]
