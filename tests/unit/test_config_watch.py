"""A worker reads the configuration version before a message only when it may have
changed: always while nothing listens, else after a change or a reconnection was heard."""

from __future__ import annotations

from store.config_signals import ConfigWatch


def _read(watch: ConfigWatch) -> None:
    watch.read(watch.reading())


def test_without_a_listener_every_message_reads_the_version() -> None:
    watch = ConfigWatch()
    for _ in range(3):
        assert watch.must_read()
        _read(watch)


def test_a_listening_process_reads_once_after_connecting_then_only_after_a_change() -> None:
    watch = ConfigWatch()
    watch.listening(True)
    assert watch.must_read()  # what was sent before it listened is unknown
    _read(watch)
    assert not watch.must_read()
    assert not watch.must_read()
    watch.heard("")
    assert watch.must_read()
    _read(watch)
    assert not watch.must_read()


def test_a_change_heard_while_a_read_is_under_way_makes_another_read_due() -> None:
    watch = ConfigWatch()
    watch.listening(True)
    mark = watch.reading()
    watch.heard("")  # committed after the read looked at the store
    watch.read(mark)
    assert watch.must_read()


def test_a_read_that_failed_leaves_the_next_one_due() -> None:
    watch = ConfigWatch()
    watch.listening(True)
    watch.reading()  # the store was away: ``read`` is never called
    assert watch.must_read()


def test_a_lost_listener_makes_every_message_read_until_it_listens_and_reads_again() -> None:
    watch = ConfigWatch()
    watch.listening(True)
    _read(watch)
    watch.listening(False)
    assert watch.must_read()
    _read(watch)
    assert watch.must_read()  # still not listening: changes would go unheard
    watch.listening(True)
    assert watch.must_read()  # changes sent while it was away were lost
    _read(watch)
    assert not watch.must_read()
