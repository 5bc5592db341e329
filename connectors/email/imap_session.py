"""One IMAP connection to one mailbox's folder, addressed by UID only.

imapclient's errors are converted here, at the edge: a lost connection, a
timeout or an unexpected server reply is a ``TransientError``; a refused login,
a folder that cannot be opened or a TLS certificate we do not trust is a
``PermanentError`` (retrying soon cannot help; the poller retries rarely).
Every message names the mailbox, the user and ``host:port``, never the password.

Messages are read with ``BODY.PEEK[]`` (``RFC822`` and ``BODY[]`` would set
``\\Seen`` before the message is committed) and are never addressed by sequence
number, which shifts under deletions.
"""

from __future__ import annotations

import ast
import logging
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from config.email_settings import MailboxSettings
from router.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

IDLE_TICK_S = 1.0  # how often an IDLE wait looks at the stop event


class ImapSession:
    """A logged-in connection with ``settings.folder`` selected; ``open`` makes one."""

    def __init__(self, settings: MailboxSettings, client: IMAPClient, uidvalidity: int) -> None:
        self.settings = settings
        self.uidvalidity = uidvalidity
        self._client = client
        self._capabilities = frozenset(bytes(c).upper() for c in client.capabilities())

    @classmethod
    def open(cls, settings: MailboxSettings) -> ImapSession:
        """Connect, log in and select the folder (creating ``move_to`` when it is missing)."""
        password = _password(settings)  # an unreadable password file is no network error
        context = _tls_context(settings)
        with _edge(settings, "connecting"):
            client = IMAPClient(
                settings.host,
                settings.port,
                ssl=settings.security == "ssl",
                ssl_context=context,
                timeout=settings.timeout_s,
            )
        try:
            with _edge(settings, "logging in"):
                if settings.security == "starttls":
                    client.starttls(context)
                client.login(settings.username, password)
            with _edge(settings, f"selecting folder {settings.folder!r}", permanent=True):
                selected = client.select_folder(settings.folder)
            session = cls(settings, client, int(selected[b"UIDVALIDITY"]))
            if settings.after == "move":
                session._ensure_folder(settings.move_to)
        except BaseException:
            _shutdown(client)
            raise
        log.info(
            "mailbox %s: connected to %s as %s, folder %s (UIDVALIDITY %d)",
            settings.name,
            _where(settings),
            settings.username,
            settings.folder,
            session.uidvalidity,
        )
        return session

    def has(self, capability: str) -> bool:
        return capability.upper().encode() in self._capabilities

    @property
    def can_idle(self) -> bool:
        return self.settings.idle and self.has("IDLE")

    def uids_after(self, last_uid: int) -> list[int]:
        """The UIDs above ``last_uid``, ascending.

        ``UID n:*`` always matches the highest UID even when it is below ``n``
        (RFC 3501 6.4.8), so that one is filtered out. The NOOP first makes the
        server bring this session's view up to date (new messages, a reset folder).
        """
        with _edge(self.settings, "searching"):
            self._client.noop()
            found = self._client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in map(int, found) if uid > last_uid)

    def unseen_uids(self) -> list[int]:
        """The UIDs of messages nobody has read yet, ascending."""
        with _edge(self.settings, "searching"):
            found = self._client.search(["UNSEEN"])
        return sorted(map(int, found))

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """UID -> raw message, without setting ``\\Seen``; a UID expunged meanwhile is absent."""
        found = self._fetch(uids, "BODY.PEEK[]", "fetching")
        return {uid: bytes(raw) for uid, raw in found.items()}

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """UID -> the message's size in bytes (RFC822.SIZE); a UID expunged meanwhile is absent."""
        found = self._fetch(uids, "RFC822.SIZE", "reading sizes")
        return {uid: int(size) for uid, size in found.items()}

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """UID -> the message's header section only, without setting ``\\Seen``."""
        found = self._fetch(uids, "BODY.PEEK[HEADER]", "fetching headers")
        return {uid: bytes(head) for uid, head in found.items()}

    def _fetch(self, uids: Sequence[int], item: str, doing: str) -> dict[int, Any]:
        """UID -> the server's ``item`` for each of ``uids`` it still has."""
        if not uids:
            return {}
        with _edge(self.settings, doing):
            fetched = self._client.fetch(list(uids), [item])
        key, wanted = item.replace(".PEEK", "").encode(), set(uids)
        return {
            int(uid): data[key]
            for uid, data in fetched.items()
            if int(uid) in wanted and data.get(key) is not None
        }

    def settle(self, uids: Sequence[int]) -> None:
        """Apply ``settings.after`` to these (committed) messages only."""
        if not uids:
            return
        after, client, uid_list = self.settings.after, self._client, list(uids)
        with _edge(self.settings, f"marking messages ({after})"):
            if after == "seen":
                client.add_flags(uid_list, [SEEN], silent=True)
            elif after == "move" and self.has("MOVE"):
                client.move(uid_list, self.settings.move_to)
            else:
                if after == "move":
                    client.copy(uid_list, self.settings.move_to)
                client.add_flags(uid_list, [DELETED], silent=True)
                self._expunge(uid_list)

    def _expunge(self, uids: list[int]) -> None:
        if self.has("UIDPLUS"):
            self._client.uid_expunge(uids)  # exactly these UIDs
        else:
            # Without UIDPLUS, EXPUNGE also removes what other clients marked \Deleted.
            self._client.expunge()

    def wait_for_news(self, timeout: float, stop: threading.Event) -> None:
        """IDLE until the folder changes, ``timeout`` passes or ``stop`` is set.

        The stop event is checked every ``IDLE_TICK_S``. imapclient's ``idle_check``
        hides an EOF (it returns nothing, at once): an early empty answer ends the
        wait, and ``idle_done`` on a dead connection raises, which reports it.
        """
        with _edge(self.settings, "idling"):
            self._client.idle()
            try:
                deadline = time.monotonic() + timeout
                while not stop.is_set():
                    step = min(IDLE_TICK_S, deadline - time.monotonic())
                    if step <= 0:
                        break
                    started = time.monotonic()
                    responses = self._client.idle_check(timeout=step)
                    if any(r[1:2] != (b"FETCH",) and r[0] != b"OK" for r in responses):
                        break  # EXISTS, EXPUNGE, BYE...
                    if not responses and time.monotonic() - started < step / 2:
                        break  # EOF (or a partial line): let idle_done find out
            finally:
                self._client.idle_done()

    def close(self) -> None:
        """Log out politely if the connection still works; never raises."""
        try:
            self._client.logout()
        except (IMAPClientError, OSError):
            _shutdown(self._client)

    def _ensure_folder(self, folder: str) -> None:
        with _edge(self.settings, f"creating folder {folder!r}", permanent=True):
            if self._client.folder_exists(folder):
                return
            try:
                self._client.create_folder(folder)
                log.info("mailbox %s: created folder %s", self.settings.name, folder)
            except IMAPClientError:
                if not self._client.folder_exists(folder):  # else: created concurrently
                    raise


def _tls_context(settings: MailboxSettings) -> ssl.SSLContext | None:
    if settings.security == "none":
        return None
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise PermanentError(
            f"mailbox {settings.name}: cannot load ca_file {settings.ca_file!r}: {error}"
        ) from None
    if not settings.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@contextmanager
def _edge(settings: MailboxSettings, doing: str, *, permanent: bool = False) -> Iterator[None]:
    """Convert imapclient's and the socket's errors into relaydesk's."""
    try:
        yield
    except LoginError as error:
        _raise(
            PermanentError,
            settings,
            f"login failed for user {settings.username} at {_where(settings)}",
            error,
        )
    except ssl.SSLCertVerificationError as error:
        _raise(PermanentError, settings, f"TLS certificate of {_where(settings)} refused", error)
    except (IMAPClientAbortError, OSError) as error:  # OSError: socket errors and timeouts
        _raise(TransientError, settings, f"connection to {_where(settings)} lost {doing}", error)
    except IMAPClientError as error:  # a NO or BAD reply
        kind = PermanentError if permanent else TransientError
        _raise(kind, settings, f"{doing} failed at {_where(settings)}", error)


def _password(settings: MailboxSettings) -> str:
    try:
        return settings.resolved_password()
    except OSError as error:
        raise PermanentError(
            f"mailbox {settings.name}: cannot read password_file {settings.password_file!r}: "
            f"{error.strerror or type(error).__name__}"
        ) from None


def _raise(
    kind: type[PermanentError | TransientError],
    settings: MailboxSettings,
    what: str,
    error: BaseException,
) -> NoReturn:
    text = _server_text(error) or type(error).__name__
    try:
        password = settings.resolved_password()
    except OSError:
        password = ""
    if password:
        text = text.replace(password, "***")
    raise kind(f"mailbox {settings.name}: {what}: {text}") from None


def _server_text(error: BaseException) -> str:
    """The server's words: imapclient wraps them as ``"b'[AUTHENTICATIONFAILED] ...'"``."""
    text = str(error)
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return text


def _where(settings: MailboxSettings) -> str:
    return f"{settings.host}:{settings.port}"


def _shutdown(client: IMAPClient) -> None:
    with suppress(IMAPClientError, OSError):
        client.shutdown()
