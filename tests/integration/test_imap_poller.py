"""``ImapPoller`` against a real Dovecot: ordering, flags, after-actions, resync, failures."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from config.email_settings import MailboxSettings
from connectors.email.imap import ImapPoller, ImapSession
from connectors.email.imap_connector import ImapConnector
from router.errors import TransientError
from tests.support import dovecot_fixtures
from tests.support.dovecot import ImapAccount, poll_through_reconnects
from tests.support.imap_fakes import MemoryState, RecordingSink, subject_of
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

# The fixtures, for pytest (assigned rather than imported: parameters of the same name follow).
dovecot = dovecot_fixtures.dovecot
imap_mailbox = dovecot_fixtures.imap_mailbox

SEEN = b"\\Seen"


def _message(n: int) -> bytes:
    return (
        f"From: customer{n}@example.com\r\nTo: support@example.com\r\n"
        f"Subject: message {n}\r\nMessage-ID: <m{n}@example.com>\r\n\r\nBody {n}.\r\n"
    ).encode()


def _fill(account: ImapAccount, count: int, first: int = 1) -> list[int]:
    return [account.append(_message(n)) for n in range(first, first + count)]


@contextmanager
def _running(poller: ImapPoller) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=poller.run, name=f"test-{poller.name}", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        poller.stop()
        thread.join(5)
        assert not thread.is_alive()


def _healthy(state: MemoryState, mailbox: str) -> Callable[[], bool]:
    return lambda: bool(state.reports.get(mailbox)) and state.last_report(mailbox) is None


def test_messages_are_delivered_in_uid_order_and_marked_seen_only_after_delivery(
    imap_mailbox: ImapAccount,
) -> None:
    uids = _fill(imap_mailbox, 3)
    flags_at_delivery: dict[int, tuple[bytes, ...]] = {}
    sink = RecordingSink(
        before=lambda _m, _v, uid, _r: flags_at_delivery.update({uid: imap_mailbox.flags()[uid]})
    )
    state = MemoryState()
    poller = ImapPoller(imap_mailbox.settings(), sink, state)

    assert poller.poll_once() == 3

    assert sink.uids() == uids == [1, 2, 3]
    assert sink.subjects() == ["message 1", "message 2", "message 3"]
    assert all(SEEN not in flags for flags in flags_at_delivery.values())
    assert all(SEEN in flags for flags in imap_mailbox.flags().values())
    assert state.positions["support"] == (imap_mailbox.uidvalidity(), 3)
    assert state.last_report("support") is None
    assert {uidvalidity for _m, uidvalidity, _u, _r in sink.delivered} == {
        imap_mailbox.uidvalidity()
    }


def test_a_message_is_left_unseen_and_redelivered_when_the_sink_fails_and_none_is_skipped(
    imap_mailbox: ImapAccount,
) -> None:
    _fill(imap_mailbox, 5)
    sink, state = RecordingSink(failing=(3,)), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(batch=10), sink, state)

    with pytest.raises(TransientError, match="UID 3 not committed"):
        poller.poll_once()

    assert sink.uids() == [1, 2]  # the batch could not be committed whole: one at a time
    flags = imap_mailbox.flags()
    assert [SEEN in flags[uid] for uid in (1, 2, 3, 4, 5)] == [True, True, False, False, False]
    assert state.positions["support"][1] == 2
    assert "store unavailable" in (state.last_report("support") or "")

    sink.failing.clear()  # the store is back
    assert poller.poll_once() == 3
    assert sink.uids() == [1, 2, 3, 4, 5]
    assert all(SEEN in f for f in imap_mailbox.flags().values())
    assert state.positions["support"][1] == 5
    assert state.last_report("support") is None


class SavesCounted(MemoryState):
    def __init__(self) -> None:
        super().__init__()
        self.saves: list[int] = []

    def save(self, mailbox: str, uidvalidity: int, last_uid: int) -> None:
        self.saves.append(last_uid)
        super().save(mailbox, uidvalidity, last_uid)


class SettleFails:
    """An ``ImapSession`` whose ``settle`` fails (the connection lost) on its ``nth`` call."""

    def __init__(self, session: ImapSession, nth: int) -> None:
        self._session, self._nth, self._calls = session, nth, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._session, name)

    def settle(self, uids: list[int]) -> None:
        self._calls += 1
        if self._calls == self._nth:
            raise TransientError("connection lost while marking")
        self._session.settle(uids)


def test_a_long_poll_saves_its_cursor_after_its_first_batch_and_when_it_ends(
    imap_mailbox: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connectors.email.imap.CURSOR_EVERY_S", 3600.0)
    _fill(imap_mailbox, 10)
    state = SavesCounted()
    poller = ImapPoller(imap_mailbox.settings(batch=2), RecordingSink(), state)
    assert poller.poll_once() == 10
    assert state.saves == [0, 2, 10]  # a new mailbox's cursor, then five batches: two saves
    _fill(imap_mailbox, 2, first=11)
    assert poller.poll_once() == 2
    assert state.saves == [0, 2, 10, 12]
    assert state.positions["support"] == (imap_mailbox.uidvalidity(), 12)


def test_a_poll_cut_short_saves_the_cursor_past_what_it_delivered_and_marked(
    imap_mailbox: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connectors.email.imap.CURSOR_EVERY_S", 3600.0)
    _fill(imap_mailbox, 10)
    sink, state = RecordingSink(), SavesCounted()
    fail_at = [3]  # the first connection's third settle; the next connection's never
    poller = ImapPoller(
        imap_mailbox.settings(batch=2),
        sink,
        state,
        connect=lambda settings: SettleFails(  # type: ignore[arg-type,return-value]
            ImapSession.open(settings), fail_at.pop() if fail_at else 0
        ),
    )
    with pytest.raises(TransientError, match="connection lost"):
        poller.poll_once()
    assert sink.uids() == [1, 2, 3, 4, 5, 6]  # the third batch committed, not marked
    assert state.saves == [0, 2, 4]  # past the batches marked seen
    assert poller.poll_once() == 6  # 5 and 6 again (the sink's no-ops), then the rest
    assert state.positions["support"][1] == 10


def test_after_move_moves_delivered_messages_to_the_folder_creating_it_if_missing(
    imap_mailbox: ImapAccount,
) -> None:
    _fill(imap_mailbox, 3)
    assert "Processed" not in imap_mailbox.folders()
    sink = RecordingSink()
    poller = ImapPoller(
        imap_mailbox.settings(after="move", move_to="Processed"), sink, MemoryState()
    )

    assert poller.poll_once() == 3

    assert imap_mailbox.bodies("INBOX") == {}
    moved = imap_mailbox.bodies("Processed")
    assert [subject_of(raw) for raw in moved.values()] == sink.subjects()
    assert sink.subjects() == ["message 1", "message 2", "message 3"]


def test_after_delete_removes_exactly_the_delivered_messages_and_never_skips_one(
    imap_mailbox: ImapAccount,
) -> None:
    _fill(imap_mailbox, 25)
    sink, state = RecordingSink(failing=(23,)), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(after="delete", batch=10), sink, state)

    with pytest.raises(TransientError):
        poller.poll_once()

    assert sink.uids() == list(range(1, 23))
    assert sink.commits[:2] == [list(range(1, 11)), list(range(11, 21))]  # a commit per FETCH
    remaining = imap_mailbox.bodies()
    assert sorted(remaining) == [23, 24, 25]
    assert [subject_of(raw) for raw in remaining.values()] == [f"message {n}" for n in (23, 24, 25)]

    sink.failing.clear()
    assert poller.poll_once() == 3
    assert sink.subjects() == [f"message {n}" for n in range(1, 26)]
    assert imap_mailbox.bodies() == {}


def _without(*capabilities: str) -> Callable[[MailboxSettings], ImapSession]:
    """A ``connect`` seam whose sessions pretend the server lacks ``capabilities``."""

    class Limited(ImapSession):
        def has(self, capability: str) -> bool:
            return capability.upper() not in capabilities and super().has(capability)

    return Limited.open


@pytest.mark.parametrize(
    ("after", "missing"),
    [("move", ("MOVE",)), ("move", ("MOVE", "UIDPLUS")), ("delete", ("UIDPLUS",))],
)
def test_servers_without_move_or_uidplus_get_copy_flag_and_expunge_instead(
    imap_mailbox: ImapAccount, after: str, missing: tuple[str, ...]
) -> None:
    _fill(imap_mailbox, 12)
    sink = RecordingSink()
    settings = imap_mailbox.settings(
        after=after, move_to="Done" if after == "move" else "", batch=5
    )
    poller = ImapPoller(settings, sink, MemoryState(), connect=_without(*missing))

    assert poller.poll_once() == 12

    assert sink.subjects() == [f"message {n}" for n in range(1, 13)]
    assert imap_mailbox.bodies() == {}
    if after == "move":
        assert [subject_of(raw) for raw in imap_mailbox.bodies("Done").values()] == sink.subjects()


def test_a_second_poll_delivers_only_new_messages(imap_mailbox: ImapAccount) -> None:
    _fill(imap_mailbox, 2)
    sink, state = RecordingSink(), MemoryState()
    settings = imap_mailbox.settings()
    poller = ImapPoller(settings, sink, state)

    assert poller.poll_once() == 2
    assert poller.poll_once() == 0  # `UID 3:*` matches UID 2: filtered out
    _fill(imap_mailbox, 1, first=3)
    assert poller.poll_once() == 1
    assert ImapPoller(settings, sink, state).poll_once() == 0  # a restart resumes from the state

    assert sink.uids() == [1, 2, 3]


def test_messages_already_read_in_another_client_are_still_delivered(
    imap_mailbox: ImapAccount,
) -> None:
    imap_mailbox.append(_message(1), flags=[SEEN])
    imap_mailbox.append(_message(2))
    imap_mailbox.append(_message(3), flags=[SEEN])
    sink = RecordingSink()

    assert ImapPoller(imap_mailbox.settings(), sink, MemoryState()).poll_once() == 3

    assert sink.subjects() == ["message 1", "message 2", "message 3"]


def test_a_first_poll_may_take_only_unseen_or_only_new_mail_of_a_mailbox_with_history(
    imap_mailbox: ImapAccount,
) -> None:
    imap_mailbox.append(_message(1), flags=[SEEN])
    imap_mailbox.append(_message(2))
    imap_mailbox.append(_message(3), flags=[SEEN])
    unseen = RecordingSink()
    state = MemoryState()
    poller = ImapPoller(imap_mailbox.settings(initial="unseen"), unseen, state)
    assert poller.poll_once() == 1 and unseen.subjects() == ["message 2"]
    imap_mailbox.append(_message(4), flags=[SEEN])  # from now on, everything counts
    assert poller.poll_once() == 1 and unseen.subjects() == ["message 2", "message 4"]

    fresh = RecordingSink()
    only_new = ImapPoller(imap_mailbox.settings(initial="new"), fresh, MemoryState())
    assert only_new.poll_once() == 0
    imap_mailbox.append(_message(5))
    assert only_new.poll_once() == 1 and fresh.subjects() == ["message 5"]


def test_a_uidvalidity_change_redelivers_every_message_and_saves_the_new_uidvalidity(
    imap_mailbox: ImapAccount, caplog: pytest.LogCaptureFixture
) -> None:
    _fill(imap_mailbox, 2)
    sink, state = RecordingSink(), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(), sink, state)
    assert poller.poll_once() == 2
    old = imap_mailbox.uidvalidity()

    imap_mailbox.set_uidvalidity(old + 1000)
    _fill(imap_mailbox, 1, first=3)
    with caplog.at_level(logging.WARNING, logger="connectors.email.imap"):
        delivered = poll_through_reconnects(poller)

    assert delivered == 3
    assert [v for _m, v, _u, _r in sink.delivered] == [old, old, old + 1000, old + 1000, old + 1000]
    assert sink.subjects() == ["message 1", "message 2", "message 1", "message 2", "message 3"]
    assert state.positions["support"] == (old + 1000, 3)
    assert "UIDVALIDITY" in caplog.text and "changed" in caplog.text


def test_a_renumbered_mailbox_read_from_unseen_on_redelivers_only_unread_mail(
    imap_mailbox: ImapAccount,
) -> None:
    """History the first poll left alone stays alone after a UIDVALIDITY change: only
    unread mail may be new (what was delivered is deduplicated by the sink)."""
    imap_mailbox.append(_message(1), flags=[SEEN])  # old history, read
    imap_mailbox.append(_message(2))
    sink, state = RecordingSink(), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(initial="unseen"), sink, state)
    assert poller.poll_once() == 1 and sink.subjects() == ["message 2"]

    imap_mailbox.set_uidvalidity(imap_mailbox.uidvalidity() + 1000)
    imap_mailbox.append(_message(3))  # arrived meanwhile, unread
    assert poll_through_reconnects(poller) == 1
    assert sink.subjects() == ["message 2", "message 3"]  # message 1 never
    assert state.positions["support"] == (imap_mailbox.uidvalidity(), 3)
    imap_mailbox.append(_message(4), flags=[SEEN])  # from now on, everything counts
    assert poller.poll_once() == 1 and sink.subjects()[-1] == "message 4"


def test_a_first_poll_cut_short_still_leaves_the_old_mail_alone_when_it_resumes(
    imap_mailbox: ImapAccount,
) -> None:
    imap_mailbox.append(_message(1))
    imap_mailbox.append(_message(2), flags=[SEEN])
    imap_mailbox.append(_message(3))
    imap_mailbox.append(_message(4), flags=[SEEN])
    sink, state = RecordingSink(failing=(3,)), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(initial="unseen"), sink, state)
    with pytest.raises(TransientError):
        poller.poll_once()
    assert sink.subjects() == ["message 1"]

    sink.failing.clear()
    assert poller.poll_once() == 1  # message 3 (message 1 is seen now: it was delivered)
    assert sink.subjects() == ["message 1", "message 3"]  # 2 and 4 never
    assert state.positions["support"][1] == 4


def test_a_message_past_the_size_limit_is_kept_by_its_headers_and_left_in_the_folder(
    imap_mailbox: ImapAccount,
) -> None:
    """Never fetched whole (no memory or database spike), never lost: the sink keeps its
    headers and why; it stays in the folder untouched, even with after = delete."""
    big = _message(2).replace(b"Body 2.", b"x" * 5000)
    for raw in (_message(1), big, _message(3)):
        imap_mailbox.append(raw)
    sink, state = RecordingSink(), MemoryState()
    settings = imap_mailbox.settings(after="delete", max_message_bytes=2000)
    assert ImapPoller(settings, sink, state).poll_once() == 2

    assert sink.uids() == [1, 3]
    ((uid, headers, reason),) = sink.refused
    assert uid == 2 and b"Subject: message 2" in headers and b"xxxx" not in headers
    assert "past max_message_bytes (2000)" in reason and "UID 2" in reason
    assert list(imap_mailbox.bodies()) == [2]  # the others delivered and deleted
    assert SEEN not in imap_mailbox.flags()[2]
    assert state.positions["support"][1] == 3


def test_a_fetch_holds_at_most_fetch_bytes_and_always_one_message(
    imap_mailbox: ImapAccount,
) -> None:
    for n in (1, 2, 3, 4):  # about 3 KB each, the last one 9 KB: alone past the budget
        imap_mailbox.append(_message(n).replace(f"Body {n}.".encode(), b"y" * 3000))
    imap_mailbox.append(_message(5).replace(b"Body 5.", b"z" * 9000))
    sink, state = RecordingSink(), MemoryState()
    settings = imap_mailbox.settings(fetch_bytes=7000, max_message_bytes=100_000)
    assert ImapPoller(settings, sink, state).poll_once() == 5
    assert sink.commits == [[1, 2], [3, 4], [5]]  # each part fetched and committed apart
    assert state.positions["support"][1] == 5


def test_a_wrong_password_is_reported_clearly_and_the_other_mailbox_keeps_delivering(
    imap_mailbox: ImapAccount, caplog: pytest.LogCaptureFixture
) -> None:
    other = imap_mailbox.server.new_account("other")
    good = imap_mailbox.settings(name="sales")
    bad = other.settings(name="support", password="not-the-Secret-42", reconnect_max_s=300)
    sink, state = RecordingSink(), MemoryState()
    connector = ImapConnector((bad, good), sink, state)

    with caplog.at_level(logging.DEBUG):  # imapclient's protocol log included
        connector.start()
        try:
            wait_until(lambda: state.reports.get("support"), 10)  # the login was refused
            _fill(imap_mailbox, 2)
            wait_until(lambda: len(sink.uids("sales")) == 2, 10, lambda: str(state.reports))
        finally:
            started = time.monotonic()
            connector.stop()
            connector.join(5)
    assert time.monotonic() - started < 2.5  # even while waiting 300 s to retry the login

    error = state.last_report("support") or ""
    assert error.startswith(
        f"mailbox support: login failed for user {other.user} at 127.0.0.1:{bad.port}: "
    )
    assert "AUTHENTICATIONFAILED" in error or "Authentication failed" in error
    assert "not-the-Secret-42" not in error and "not-the-Secret-42" not in caplog.text
    assert f"login failed for user {other.user}" in caplog.text
    assert sink.uids("support") == []
    assert state.last_report("sales") is None


def test_idle_delivers_a_message_appended_while_running_and_stop_returns_promptly(
    imap_mailbox: ImapAccount,
) -> None:
    sink, state = RecordingSink(), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(poll_interval_s=60), sink, state)

    with _running(poller) as thread:
        wait_until(_healthy(state, "support"), 5)  # caught up, now idling
        time.sleep(0.3)
        imap_mailbox.append(_message(1))
        appended = time.monotonic()
        wait_until(lambda: sink.uids() == [1], 5)
        assert time.monotonic() - appended < 2.5  # IDLE, not the 60 s poll
        started = time.monotonic()
        poller.stop()
        thread.join(5)
        assert time.monotonic() - started < 2
    assert SEEN in imap_mailbox.flags()[1]


def test_a_dropped_connection_is_survived_by_reconnecting(imap_mailbox: ImapAccount) -> None:
    sink, state = RecordingSink(), MemoryState()
    connects: list[MailboxSettings] = []

    def connect(settings: MailboxSettings) -> ImapSession:
        connects.append(settings)
        return ImapSession.open(settings)

    poller = ImapPoller(imap_mailbox.settings(poll_interval_s=60), sink, state, connect=connect)
    with _running(poller):
        wait_until(_healthy(state, "support"), 5)
        assert imap_mailbox.kick()  # the server closes the idling connection
        wait_until(lambda: len(connects) >= 2, 5)
        imap_mailbox.append(_message(1))
        wait_until(lambda: sink.uids() == [1], 5)


def test_a_restarted_server_is_survived_by_a_polling_poller(imap_mailbox: ImapAccount) -> None:
    sink, state = RecordingSink(), MemoryState()
    poller = ImapPoller(imap_mailbox.settings(idle=False, poll_interval_s=0.2), sink, state)
    with _running(poller):
        wait_until(_healthy(state, "support"), 5)
        imap_mailbox.server.restart()
        imap_mailbox.append(_message(1))
        wait_until(lambda: sink.uids() == [1], 10)
        wait_until(lambda: state.last_report("support") is None, 5)
    assert any(r is not None for r in state.reports["support"]), "no outage was ever seen"
