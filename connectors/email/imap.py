"""Read an IMAP mailbox: ``ImapPoller`` (``imap_connector`` runs one thread per mailbox).

The poller only does IO. It hands each raw message to a ``MessageSink`` and
remembers how far it got in a ``MailboxState`` (protocols in ``connectors.ports``);
``workers`` provides both.

For every batch of messages above the last UID seen (``settings.batch`` per
FETCH, fewer when they would hold more than ``fetch_bytes``; a message past
``max_message_bytes`` is not fetched but kept by its headers as refused), in
UID order:

1. ``sink.deliver_many(...)`` commits them together (idempotently, all or none);
2. only then ``settings.after`` is applied: ``seen`` adds ``\\Seen``, ``move``
   moves them to ``move_to``, ``delete`` expunges exactly those UIDs;
3. ``state.save(...)`` records the new last UID, at most every ``CURSOR_EVERY_S`` and when
   the poll ends or fails (a crash re-fetches that second's messages: no-ops).

A batch the sink cannot commit together is delivered again one message at a
time (``sink.deliver``), so a message that cannot be committed stops the batch
where it is: it is neither marked nor counted, and it is delivered again after
a backoff, followed by everything after it. A crash between 1 and 3 fetches the
messages again; the sink's idempotency makes the redelivery a no-op.

Progress is tracked by UID, never by ``UNSEEN``: a message a person already read
in another client is still delivered. When the folder's UIDVALIDITY changes
(the server renumbered it: a restore, a migration) the poller starts over at UID
0 and delivers every message present again under the new UIDVALIDITY (only the
unread ones when ``initial`` left older mail alone); the sink recognises the
ones it already has by their Message-ID, so none is duplicated.

Failures never end the loop: a lost connection is retried with exponential
backoff (``reconnect_min_s`` doubling to ``reconnect_max_s``, with jitter,
reset after a successful poll); a refused login or an unusable folder is logged,
reported to ``state.report`` and retried after ``reconnect_max_s``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from config.email_settings import MailboxSettings
from connectors.email.imap_session import ImapSession
from connectors.ports import MailboxState, MessageSink
from router.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

__all__ = ["ImapPoller", "ImapSession", "MailboxState", "MessageSink"]

CURSOR_EVERY_S = 1.0  # a cursor save is a transaction: not one per batch of a long poll


class ImapPoller:
    """Deliver one mailbox's new messages to a sink, for as long as ``run`` runs."""

    def __init__(
        self,
        settings: MailboxSettings,
        sink: MessageSink,
        state: MailboxState,
        *,
        connect: Callable[[MailboxSettings], ImapSession] = ImapSession.open,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.name = settings.name
        self._sink = sink
        self._state = state
        self._connect = connect
        self._rng = rng or random.Random()
        self._session: ImapSession | None = None
        self._stop = threading.Event()
        self._unsaved: tuple[int, int] | None = None  # (uidvalidity, last UID) not saved yet
        self._saved_at = float("-inf")

    def stop(self) -> None:
        """Ask ``run`` to return: at once when waiting, within ~1 s when idling."""
        self._stop.set()

    def run(self) -> None:
        """Poll (or IDLE) until ``stop()``; never raises for a mailbox's own failures."""
        log.info("mailbox %s: reading %s", self.name, self.settings.folder)
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    self.poll_once()
                except PermanentError:
                    failures += 1
                    self._stop.wait(self.settings.reconnect_max_s)
                    continue
                except Exception:  # TransientError, or a bug: logged by poll_once
                    self._stop.wait(self._backoff(failures))
                    failures += 1
                    continue
                failures = 0
                if not self._wait_for_news():
                    self._stop.wait(self._backoff(failures))
                    failures += 1
        finally:
            self._disconnect()
            log.info("mailbox %s: stopped", self.name)

    def poll_once(self) -> int:
        """Connect if needed, deliver what is new once; the number of messages delivered.

        Raises ``TransientError`` (connection lost, sink unavailable) or
        ``PermanentError`` (login refused, folder unusable), after logging it and
        reporting it to the state; a success reports the mailbox healthy.
        """
        try:
            delivered = self._catch_up()
        except PermanentError as error:
            self._disconnect()
            log.error("%s", error)
            self._report(str(error))
            raise
        except TransientError as error:
            log.warning("%s", error)
            self._report(str(error))
            raise
        except Exception as error:
            self._disconnect()
            log.exception("mailbox %s: unexpected error", self.name)
            self._report(f"mailbox {self.name}: unexpected error: {error!r}")
            raise
        self._report(None)
        return delivered

    def _report(self, error: str | None) -> None:
        """Tell the state how the mailbox is doing; a state that cannot listen is only logged."""
        try:
            self._state.report(self.name, error)
        except Exception as failure:
            log.warning("mailbox %s: cannot record its status: %s", self.name, failure)

    def _catch_up(self) -> int:
        session = self._session_or_connect()
        self._unsaved = None  # one a failed poll could not save: fetched again, no-ops
        try:
            uidvalidity = session.uidvalidity
            stored = self._state.load(self.name)
            renumbered = stored is not None and stored[0] != uidvalidity
            if renumbered:
                self._warn_renumbered(stored, uidvalidity)
            last_uid = stored[1] if stored is not None and not renumbered else 0
            rule = self._rule_for_unknown_uids(stored, renumbered)
            present = session.uids_after(last_uid)
            if rule is None:
                uids = present
                if stored is None or renumbered:
                    self._state.save(self.name, uidvalidity, 0)
            else:  # the cursor moves only once the whole filtered poll is done: a poll
                # cut short applies the rule again next time (redeliveries are no-ops)
                uids = self._first_poll(session, present, rule)
            delivered = 0
            for start in range(0, len(uids), self.settings.batch):
                if self._stop.is_set():
                    break
                delivered += self._deliver_batch(
                    session,
                    uidvalidity,
                    uids[start : start + self.settings.batch],
                    save=rule is None,
                )
            else:  # every chosen message delivered: past what the rule left alone too
                if rule is not None:
                    self._state.save(self.name, uidvalidity, present[-1] if present else 0)
        except (TransientError, PermanentError) as error:
            self._save_cursor_quietly()
            if not isinstance(error, _SinkFailed):
                self._disconnect()  # the connection is in doubt: start afresh
            raise
        self._save_cursor()
        if delivered:
            log.info("mailbox %s: delivered %d message(s)", self.name, delivered)
        return delivered

    def _rule_for_unknown_uids(
        self, stored: tuple[int, int] | None, renumbered: bool
    ) -> str | None:
        """Which of the messages with UIDs we never saw count as new: all (None), only
        "unseen" ones, or only "new" ones (none of those present).

        ``initial`` decides on a mailbox never read before. After a renumbering, what
        the first poll left alone is still there, so "all" would bring in old history;
        the unread mail is what may be new. ("new" cannot be applied again: it would
        leave out what arrived while we could not look.)
        """
        if self.settings.initial == "all":
            return None
        if stored is None:
            return self.settings.initial
        return "unseen" if renumbered else None

    def _first_poll(self, session: ImapSession, uids: list[int], rule: str) -> list[int]:
        """Of ``uids``, those ``rule`` ("unseen" or "new") counts as new."""
        if rule == "unseen":
            unseen = set(session.unseen_uids())
            wanted = [uid for uid in uids if uid in unseen]
        else:  # "new": only what arrives from now on
            wanted = []
        chosen = set(wanted)
        skipped = [uid for uid in uids if uid not in chosen]
        if skipped:
            log.info(
                "mailbox %s: %d message(s) older than relaydesk's reading left alone "
                "(only %s mail counts)",
                self.name,
                len(skipped),
                rule,
            )
        return wanted

    def _warn_renumbered(self, stored: tuple[int, int] | None, uidvalidity: int) -> None:
        log.warning(
            "mailbox %s: UIDVALIDITY of %s changed from %s to %d (the server renumbered "
            "the folder): delivering %s again; the sink drops those it already has by "
            "Message-ID",
            self.name,
            self.settings.folder,
            stored[0] if stored else "?",
            uidvalidity,
            "every message" if self.settings.initial == "all" else "every unread message",
        )

    def _deliver_batch(
        self, session: ImapSession, uidvalidity: int, uids: list[int], *, save: bool = True
    ) -> int:
        """Deliver ``uids``: those past ``max_message_bytes`` kept as refused, the others
        fetched and committed together, at most ``fetch_bytes`` at a time (one by one
        when that fails); ``save``: and move the cursor past them."""
        sizes = session.sizes(uids)
        too_large = self._keep_too_large(session, uidvalidity, uids, sizes)
        delivered = 0
        part: list[int] = []
        held = 0
        for uid in uids:
            size = 0 if uid in too_large else sizes.get(uid, 0)
            if part and held + size > self.settings.fetch_bytes:
                delivered += self._deliver_part(session, uidvalidity, part, too_large, save)
                part, held = [], 0
            part.append(uid)
            held += size
        if part:
            delivered += self._deliver_part(session, uidvalidity, part, too_large, save)
        return delivered

    def _deliver_part(
        self,
        session: ImapSession,
        uidvalidity: int,
        uids: list[int],
        too_large: set[int],
        save: bool,
    ) -> int:
        raws = session.fetch([uid for uid in uids if uid not in too_large])
        for uid in uids:
            if uid not in raws and uid not in too_large:
                log.warning(
                    "mailbox %s: UID %d was not returned by FETCH (expunged meanwhile?): "
                    "moving past it",
                    self.name,
                    uid,
                )
        fetched = [(uid, raws[uid]) for uid in uids if uid in raws]
        if fetched:
            try:
                self._sink.deliver_many(self.name, uidvalidity, fetched)
            except Exception as error:
                log.info(
                    "mailbox %s: %d message(s) could not be committed together (%s): one at a time",
                    self.name,
                    len(fetched),
                    error,
                )
                return self._deliver_one_by_one(session, uidvalidity, uids, raws, save=save)
            session.settle([uid for uid, _raw in fetched])
        if save:
            self._unsaved = (uidvalidity, uids[-1])
            if time.monotonic() - self._saved_at >= CURSOR_EVERY_S:
                self._save_cursor()
        return len(fetched)

    def _save_cursor(self) -> None:
        """Save the last UID delivered, if it moved since the last save."""
        if self._unsaved is not None:
            uidvalidity, last_uid = self._unsaved
            self._state.save(self.name, uidvalidity, last_uid)
            self._unsaved = None
            self._saved_at = time.monotonic()

    def _save_cursor_quietly(self) -> None:
        """``_save_cursor`` while a failure goes up: its own failure is only logged."""
        try:
            self._save_cursor()
        except Exception as error:
            log.warning("mailbox %s: cannot save its cursor: %s", self.name, error)

    def _keep_too_large(
        self, session: ImapSession, uidvalidity: int, uids: list[int], sizes: dict[int, int]
    ) -> set[int]:
        """The UIDs past ``max_message_bytes``: kept by the sink as refused (their
        headers and why) and left in the folder untouched; they are not fetched."""
        limit = self.settings.max_message_bytes
        too_large = [uid for uid in uids if sizes.get(uid, 0) > limit]
        headers = session.fetch_headers(too_large)
        for uid in too_large:
            reason = (
                f"message of {sizes[uid]} bytes is past max_message_bytes ({limit}) of "
                f"mailbox {self.name}: not fetched; it is still in {self.settings.folder} "
                f"(UIDVALIDITY {uidvalidity}, UID {uid})"
            )
            log.warning("mailbox %s: %s", self.name, reason)
            try:
                self._sink.keep_refused(self.name, uidvalidity, uid, headers.get(uid, b""), reason)
            except TransientError as error:
                raise _SinkFailed(
                    f"mailbox {self.name}: message UID {uid} (too large) not recorded, "
                    f"will retry: {error}"
                ) from error
        return set(too_large)

    def _deliver_one_by_one(
        self,
        session: ImapSession,
        uidvalidity: int,
        uids: list[int],
        raws: dict[int, bytes],
        *,
        save: bool,
    ) -> int:
        committed: list[int] = []
        last_done = 0
        failure: tuple[int, Exception] | None = None
        for uid in uids:
            raw = raws.get(uid)
            if raw is None:  # expunged by someone else since the search (logged above)
                last_done = uid
                continue
            try:
                self._sink.deliver(self.name, uidvalidity, uid, raw)
            except Exception as error:
                failure = (uid, error)
                break
            committed.append(uid)
            last_done = uid
        session.settle(committed)
        if last_done and save:
            self._unsaved = (uidvalidity, last_done)
            self._save_cursor()
        if failure is not None:
            failed_uid, cause = failure
            if not isinstance(cause, TransientError):
                raise cause
            raise _SinkFailed(
                f"mailbox {self.name}: message UID {failed_uid} not committed, will retry: {cause}"
            ) from cause
        return len(committed)

    def _wait_for_news(self) -> bool:
        """IDLE (or sleep ``poll_interval_s``) until there may be news; False if idling failed."""
        session = self._session
        if session is None or not session.can_idle:
            self._stop.wait(self.settings.poll_interval_s)
            return True
        try:
            session.wait_for_news(self.settings.idle_timeout_s, self._stop)
        except (TransientError, PermanentError) as error:
            log.warning("%s", error)
        except Exception:
            log.exception("mailbox %s: unexpected error while idling", self.name)
        else:
            return True
        self._disconnect()
        return False

    def _session_or_connect(self) -> ImapSession:
        if self._session is None:
            self._session = self._connect(self.settings)
        return self._session

    def _disconnect(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _backoff(self, failures: int) -> float:
        low = self.settings.reconnect_min_s
        high = max(low, self.settings.reconnect_max_s)
        delay = min(high, low * 2 ** min(failures, 32))
        return self._rng.uniform(max(low, delay / 2), delay)


class _SinkFailed(TransientError):
    """The sink could not commit a message; the IMAP connection itself is fine."""
