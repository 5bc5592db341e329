"""Outbound email: ``SmtpSender`` to a relay, ``FileSender`` to .eml files (the demo).

smtplib's errors are converted here, at the edge: a 4xx reply, a dropped
connection or a network error is a ``TransientError``; a 5xx reply or a message
that cannot be built is a ``PermanentError``.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from config.settings import HelpdeskSettings, Settings, SmtpSettings
from connectors.email.compose import Wire, build_wire
from connectors.ports import Sender
from router.envelopes import DeliveryResult, OutboundMessage
from router.errors import PermanentError, RelaydeskError, TransientError

log = logging.getLogger(__name__)

_STALE = (smtplib.SMTPServerDisconnected, ConnectionError)
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._@+-]+")


ReadFile = Callable[[str], bytes]


def envelope_address(spec: str) -> str:
    """An envelope's address (an addr-spec ``build_wire`` checked) as MAIL and RCPT name
    it: what smtplib's ``quoteaddr`` gives such an address, without parsing it again."""
    return f"<{spec}>"


def _files(message: OutboundMessage, read_file: ReadFile | None) -> list[tuple[str, str, bytes]]:
    """The kept files ``message`` carries, read by their hash; ``PermanentError`` when one
    cannot be read (the answer is not sent without it)."""
    files = []
    for ref in message.attachments:
        if ref.sha256 is None:
            continue
        if read_file is None:
            raise PermanentError(f"{ref.filename}: no place to read kept files from")
        try:
            files.append((ref.filename, ref.content_type, read_file(ref.sha256)))
        except (OSError, ValueError) as exc:
            raise PermanentError(f"{ref.filename}: the kept file cannot be read ({exc})") from None
    return files


def _wire(
    message: OutboundMessage, helpdesk: HelpdeskSettings, read_file: ReadFile | None = None
) -> Wire:
    sender = message.from_address or helpdesk.address
    return build_wire(
        message,
        from_address=sender,
        from_name=helpdesk.name,
        reply_to=message.reply_to or sender,
        files=_files(message, read_file),
    )


class SmtpSender:
    """Send through an SMTP relay, one reused connection per thread."""

    def __init__(
        self, smtp: SmtpSettings, helpdesk: HelpdeskSettings, read_file: ReadFile | None = None
    ) -> None:
        self._read_file = read_file
        self._smtp = smtp
        self._helpdesk = helpdesk
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: set[smtplib.SMTP] = set()

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        """``timeout_s``: each wait for the relay (connecting, each reply) at most this
        long, if shorter than ``smtp.timeout_s``; the reused connection keeps that after."""
        wire = _wire(message, self._helpdesk, self._read_file)
        timeout = (
            self._smtp.timeout_s if timeout_s is None else min(timeout_s, self._smtp.timeout_s)
        )
        try:
            reply = self._send(wire, timeout)
        except (smtplib.SMTPException, OSError, _StaleConnection) as error:
            raise _convert(error) from None
        log.debug("sent %s to %s: %s", message.message_id, wire.recipient, reply)
        return DeliveryResult(external_id=message.message_id, detail=reply)

    def close(self) -> None:
        with self._lock:
            clients, self._open = list(self._open), set()
        self._local = threading.local()
        for client in clients:
            _quit(client)

    def _send(self, wire: Wire, timeout: float) -> str:
        client: smtplib.SMTP | None = getattr(self._local, "client", None)
        if client is not None:
            try:
                return self._timed(client, wire, timeout)
            except _StaleConnection:
                log.debug("cached SMTP connection went stale; reconnecting")
        return self._timed(self._connect(timeout), wire, timeout)

    def _timed(self, client: smtplib.SMTP, wire: Wire, timeout: float) -> str:
        """``_transact`` with its socket's waits at most ``timeout``, ``smtp.timeout_s``
        again after (the connection is reused). Set at every start, so a short one left by
        an interrupt inside the ``finally`` never stays."""
        if client.sock is None:
            return self._transact(client, wire)
        client.sock.settimeout(timeout)
        try:
            return self._transact(client, wire)
        finally:
            if client.sock is not None:  # (None once discarded)
                client.sock.settimeout(self._smtp.timeout_s)

    def _transact(self, client: smtplib.SMTP, wire: Wire) -> str:
        """MAIL, RCPT, DATA; a failure before DATA on a dropped link is ``_StaleConnection``.

        The envelope's addresses are addr-specs ``build_wire`` checked, which smtplib's
        ``mail`` and ``rcpt`` would send as ``<spec>`` after parsing each again
        (``quoteaddr``: 51 us an address with Python 3.11's strict ``parseaddr``, half of a
        mail's SMTP client CPU); the commands name them so (``envelope_address``)."""
        try:
            try:
                client.ehlo_or_helo_if_needed()
                code, reply = client.docmd("mail", f"FROM:{envelope_address(wire.sender)}")
                if code == 421:  # an idle connection the server timed out
                    raise _StaleConnection(f"{code} {_text(reply)}")
                if code != 250:
                    raise smtplib.SMTPSenderRefused(code, reply, wire.sender)
                code, reply = client.docmd("rcpt", f"TO:{envelope_address(wire.recipient)}")
                if code not in (250, 251):
                    raise smtplib.SMTPRecipientsRefused({wire.recipient: (code, reply)})
            except _STALE as error:
                raise _StaleConnection(str(error)) from error
            code, reply = client.data(wire.data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPResponseException as error:
            self._after_refusal(client, error.smtp_code)
            raise
        except smtplib.SMTPRecipientsRefused:
            self._after_refusal(client, 0)
            raise
        except BaseException:
            self._discard(client)
            raise
        return reply.decode("utf-8", "replace")

    def _after_refusal(self, client: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._discard(client)
            return
        try:
            client.rset()
        except (smtplib.SMTPException, OSError):
            self._discard(client)

    def _connect(self, timeout: float) -> smtplib.SMTP:
        try:
            client = self._open_client(timeout)
        except (smtplib.SMTPException, OSError) as error:
            # Not about this message: the relay or our configuration is at fault.
            where = f"{self._smtp.host}:{self._smtp.port}"
            raise TransientError(f"cannot connect to SMTP relay {where}: {error}") from None
        with self._lock:
            self._open.add(client)
        self._local.client = client
        return client

    def _open_client(self, timeout: float) -> smtplib.SMTP:
        settings = self._smtp
        client: smtplib.SMTP
        if settings.ssl:
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        client.timeout = settings.timeout_s  # (a later connect of this client's)
        try:
            if settings.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if settings.username:
                client.login(settings.username, settings.resolved_password())
        except BaseException:
            client.close()
            raise
        return client

    def _discard(self, client: smtplib.SMTP) -> None:
        with self._lock:
            self._open.discard(client)
        if getattr(self._local, "client", None) is client:
            self._local.client = None
        client.close()


class _StaleConnection(Exception):
    """The link dropped before any message data was sent: safe to resend."""


def _convert(error: BaseException) -> RelaydeskError:
    if isinstance(error, _StaleConnection):
        return TransientError(f"SMTP connection lost: {error}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        refused = "; ".join(
            f"{rcpt}: {code} {_text(reply)}" for rcpt, (code, reply) in error.recipients.items()
        )
        if codes and all(500 <= code < 600 for code in codes):
            return PermanentError(f"SMTP recipient refused: {refused}")
        return TransientError(f"SMTP recipient deferred: {refused}")
    if isinstance(error, smtplib.SMTPResponseException):
        reason = f"SMTP {error.smtp_code} {_text(error.smtp_error)}"
        if 500 <= error.smtp_code < 600:
            return PermanentError(reason)
        return TransientError(reason)
    return TransientError(f"SMTP delivery failed: {type(error).__name__}: {error}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


class FileSender:
    """Write each message to ``<directory>/<timestamp>-<message id>.eml`` (the demo)."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        helpdesk: HelpdeskSettings,
        read_file: ReadFile | None = None,
    ) -> None:
        self._read_file = read_file
        self._directory = Path(directory)
        self._helpdesk = helpdesk

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        wire = _wire(message, self._helpdesk, self._read_file)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        safe_id = _UNSAFE_FILENAME.sub("_", message.message_id.strip("<>"))[:120] or "message"
        path = self._directory / f"{stamp}-{safe_id}.eml"
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, wire.data)
        except OSError as error:
            raise TransientError(f"cannot write {path}: {error}") from None
        return DeliveryResult(external_id=message.message_id, detail=str(path))

    def close(self) -> None:
        pass


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def make_email_sender(settings: Settings, read_file: ReadFile | None = None) -> Sender:
    """The email ``Sender`` that ``settings.smtp.transport`` asks for; ``read_file`` reads
    the kept files an answer carries, by their hash."""
    if settings.smtp.transport == "file":
        return FileSender(settings.smtp.file_dir, settings.helpdesk, read_file)
    return SmtpSender(settings.smtp, settings.helpdesk, read_file)
