"""A process's configuration is swapped whole, and a message keeps the version it began with."""

from __future__ import annotations

import asyncio
import threading
import tomllib

import pytest

from config import EXAMPLE_PATH, load_settings
from config.loader import settings_of
from config.versions import DeskFile, restart_keys
from workers.runtime.desk_config import ConfigSlot, DeskConfig, shared_file


def _config(priority: str) -> DeskConfig:
    return DeskConfig.of(load_settings(environ={"RELAYDESK_HELPDESK__DEFAULT_PRIORITY": priority}))


def test_a_pinned_thread_keeps_its_version_while_another_switches_the_process() -> None:
    old, new = _config("normal"), _config("urgent")
    slot = ConfigSlot(old)
    pinned, switched, seen = threading.Event(), threading.Event(), []

    def message() -> None:
        slot.pin()
        pinned.set()
        switched.wait(5)
        seen.append(slot.current())  # the same version from its start to its end
        slot.unpin()
        seen.append(slot.current())

    thread = threading.Thread(target=message)
    thread.start()
    pinned.wait(5)
    slot.switch(new, change_id=2)
    assert slot.current() is new  # this thread's next read: the new one
    switched.set()
    thread.join(5)
    assert seen == [old, new]
    assert slot.change_seen == 2


def test_a_version_is_the_hash_of_what_the_fleet_shares_not_of_the_machine() -> None:
    here = load_settings(environ={"RELAYDESK_DATABASE_URL": "sqlite:///a.db"})
    there = load_settings(
        environ={"RELAYDESK_DATABASE_URL": "postgresql://db/x", "RELAYDESK_BROKER_URL": "redis://r"}
    )
    assert shared_file(here).version == shared_file(there).version
    assert "database_url" not in shared_file(here).data
    urgent = load_settings(environ={"RELAYDESK_HELPDESK__DEFAULT_PRIORITY": "urgent"})
    assert shared_file(urgent).version != shared_file(here).version
    assert len(shared_file(here).version) == 12


MINIMAL = """
[sla]
default_calendar = "24x7"

[[sla.policies]]
name = "plan"
first_response = "4h"
resolution = "3d"

[[teams]]
name = "support"
"""


@pytest.mark.parametrize("text", [EXAMPLE_PATH.read_text(), MINIMAL], ids=["example", "minimal"])
def test_a_stored_version_reads_back_as_the_same_settings(text: str) -> None:
    environ = {"RELAYDESK_DATABASE_URL": "sqlite:///a.db", "RELAYDESK_WORKER__THREADS": "3"}
    settings = settings_of(tomllib.loads(text), environ)
    stored = DeskFile(shared_file(settings).content)
    again = settings_of(stored.data, {"RELAYDESK_DATABASE_URL": "sqlite:///a.db"})
    assert again == settings
    assert shared_file(again).version == stored.version


def test_keys_read_only_at_start_are_named_when_they_change() -> None:
    old = {"worker": {"threads": 4}, "web": {"port": 8080, "max_body_bytes": 1}, "rules": {}}
    new = {"worker": {"threads": 8}, "web": {"port": 8080, "max_body_bytes": 2}, "rules": {"x": 1}}
    assert restart_keys(old, new) == ["worker"]


def test_a_request_pinned_in_its_task_keeps_its_version_while_the_process_switches() -> None:
    old, new = _config("normal"), _config("urgent")
    slot = ConfigSlot(old)

    async def request(began: asyncio.Event, switched: asyncio.Event) -> DeskConfig:
        with slot.pinned():
            began.set()
            await switched.wait()
            return await asyncio.to_thread(slot.current)  # a sync endpoint's thread too

    async def both() -> tuple[DeskConfig, DeskConfig]:
        began, switched = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(request(began, switched))
        await began.wait()
        slot.switch(new)
        switched.set()
        return await task, slot.current()

    assert asyncio.run(both()) == (old, new)
