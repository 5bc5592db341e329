"""The inbound SMTP server of the email channel: aiosmtpd in front of a ``MailSink``.

``SmtpInbound`` is the aiosmtpd handler (``handle_*`` hooks returning reply
lines); ``SmtpInboundServer`` owns the aiosmtpd ``Controller`` (its own thread
and event loop) and the threads that run the blocking sink. A message is
answered ``250`` only once ``MailSink.deliver`` has returned (committed);
``TransientError`` or any unexpected error answers ``451`` (the sender retries),
``PermanentError`` answers ``554``. Which recipients are accepted is decided in
``smtp_policy``. Content and passwords are never logged.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import logging
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from types import TracebackType
from typing import Any, Protocol

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from config import ConfigError
from config.email_settings import SmtpInboundSettings
from connectors.email.smtp_policy import (
    TEMPORARY_FAILURE,
    RecipientPolicy,
    queued_reply,
    refused_reply,
)
from connectors.email.smtp_session import ConnectionGate, GatedSMTP
from router.errors import PermanentError, TransientError

log = logging.getLogger(__name__)

_SETTINGS_PATH = "email.inbound_smtp"


class MailSink(Protocol):
    def deliver(self, raw: bytes, *, mail_from: str, recipients: tuple[str, ...]) -> None:
        """Commit the message durably (idempotent by Message-ID). Synchronous and blocking.

        ``mail_from`` is ``""`` for the null reverse-path (a bounce). Raises
        ``TransientError`` when the store is unavailable; ``PermanentError`` when
        the message must be refused for good.
        """
        ...


class SmtpInbound:
    """The aiosmtpd handler: accepts mail for our recipients and hands it to the sink.

    No attribute may start with ``auth_`` (aiosmtpd would take it for an AUTH
    mechanism) nor ``handle_`` unless it is a hook.
    """

    def __init__(
        self,
        settings: SmtpInboundSettings,
        sink: MailSink,
        *,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        self._policy = RecipientPolicy.from_settings(settings)
        self._sink = sink
        self._executor = executor  # None: the event loop's default executor
        self._offers_auth = bool(settings.username)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to a handler that has the hook
        if self._offers_auth:
            return responses
        return [r for r in responses if not r.upper().startswith("250-AUTH")]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        verdict = self._policy.check(address, envelope.rcpt_tos)
        if verdict.accepted and not verdict.duplicate:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        elif not verdict.accepted:
            log.info("refused RCPT TO <%s> from %r: %s", address, session.peer, verdict.reason)
        return verdict.reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = _raw_bytes(envelope)
        mail_from = _reverse_path(envelope.mail_from)
        recipients = tuple(envelope.rcpt_tos)
        deliver = partial(self._sink.deliver, raw, mail_from=mail_from, recipients=recipients)
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, deliver)
        except TransientError as exc:
            log.warning("store unavailable, answered 451 to %r: %s", session.peer, exc)
            return TEMPORARY_FAILURE
        except PermanentError as exc:
            log.warning("message from %r refused for good: %s", session.peer, exc)
            return refused_reply(str(exc))
        except Exception:
            log.exception("delivery failed unexpectedly, answered 451 to %r", session.peer)
            return TEMPORARY_FAILURE
        queue_id = uuid.uuid4().hex[:16]
        log.info(
            "accepted message %s from <%s> for %d recipient(s), %d bytes",
            queue_id,
            mail_from,
            len(recipients),
            len(raw),
        )
        return queued_reply(queue_id)


class PasswordCheck:
    """aiosmtpd ``authenticator``: one username and password, compared in constant time."""

    def __init__(self, username: str, password: str) -> None:
        self._username = username.encode()
        self._password = password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user_ok = hmac.compare_digest(auth_data.login, self._username)
        password_ok = hmac.compare_digest(auth_data.password, self._password)
        if user_ok and password_ok:
            return AuthResult(success=True, auth_data=auth_data.login)
        log.warning("AUTH %s failed from %r", mechanism, session.peer)
        return AuthResult(success=False, handled=False)


class SmtpInboundServer:
    """The inbound SMTP server: a listening socket, an aiosmtpd thread, delivery threads."""

    def __init__(
        self,
        settings: SmtpInboundSettings,
        sink: MailSink,
        *,
        on_sessions: Callable[[int], None] | None = None,
    ) -> None:
        self._settings = settings
        self._sink = sink
        self._on_sessions = on_sessions  # told how many sessions are open, at each change
        self._controller: _Controller | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._address: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The host and port actually bound (a free port when the settings say 0)."""
        if self._address is None:
            raise RuntimeError("the inbound SMTP server is not running")
        return self._address

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the inbound SMTP server is already running")
        settings = self._settings
        options = smtp_options(settings)  # before binding: a bad TLS file is a ConfigError
        sock = _listen(settings.host, settings.port)  # a taken port fails here, at once
        # a thread for each session's message (its client waits for the answer before the
        # next): the sink's group commit may wait for one from each (made as needed)
        executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=settings.max_connections, thread_name_prefix="smtp-inbound"
        )
        address = sock.getsockname()
        handler = SmtpInbound(settings, self._sink, executor=executor)
        try:
            controller = _Controller(
                handler,
                sock,
                max_connections=settings.max_connections,
                max_line_bytes=settings.max_line_bytes,
                on_sessions=self._on_sessions,
                hostname=settings.host,
                port=address[1],
                **options,
            )
        except BaseException:
            sock.close()
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            sock.close()
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        self._controller, self._executor = controller, executor
        self._address = (str(address[0]), int(address[1]))
        log.info("inbound SMTP listening on %s:%d", *self._address)

    def stop(self) -> None:
        """Close the listener and the sessions; let deliveries already running finish."""
        controller, executor = self._controller, self._executor
        self._controller = self._executor = self._address = None
        if controller is not None:
            controller.stop()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> SmtpInboundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def smtp_options(settings: SmtpInboundSettings) -> dict[str, Any]:
    """aiosmtpd ``Controller`` keyword arguments (forwarded to ``SMTP``): every limit set."""
    options: dict[str, Any] = {
        "server_hostname": settings.hostname,
        "data_size_limit": settings.max_message_bytes,
        "command_call_limit": _call_limits(settings),
        "timeout": settings.timeout_s,
        "decode_data": False,
        "enable_SMTPUTF8": True,
        "auth_require_tls": True,
    }
    if settings.starttls:
        options["tls_context"] = _tls_context(settings)
        options["require_starttls"] = settings.require_tls
    if settings.username:
        password = settings.resolved_password()
        if not password:
            problem = "AUTH is on (username is set) but the password is empty"
            raise ConfigError([(f"{_SETTINGS_PATH}.password", problem)])
        options["authenticator"] = PasswordCheck(settings.username, password)
        options["auth_required"] = True
    return options


def _call_limits(settings: SmtpInboundSettings) -> dict[str, int]:
    """Commands per session: a relay may send many messages on one connection; a client
    that only talks (NOOP, VRFY, HELP, ...) is cut off soon."""
    messages = settings.max_messages_per_session
    return {
        "*": settings.max_commands,
        "MAIL": messages,
        "RCPT": messages * settings.max_recipients,
        "DATA": messages,
        "RSET": messages,
        "BDAT": messages,
        "AUTH": 3,  # guessing passwords takes a new session every three tries
    }


class _Controller(Controller):
    """An aiosmtpd ``Controller`` serving a socket bound beforehand (so port 0 works)."""

    def __init__(
        self,
        handler: SmtpInbound,
        sock: socket.socket,
        *,
        max_connections: int,
        max_line_bytes: int,
        on_sessions: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(handler, **kwargs)
        self._sock = sock
        self._gate = ConnectionGate(max_connections, on_sessions)
        self._max_line_bytes = max_line_bytes

    def factory(self) -> SMTP:
        return GatedSMTP(
            self.handler, gate=self._gate, max_line_bytes=self._max_line_bytes, **self.SMTP_kwargs
        )

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock)


def _listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; bind errors are raised here, at once.

    ``""`` or ``0.0.0.0`` listen on every IPv4 interface, ``::`` on every IPv4 and
    IPv6 one (where the system allows dual-stack sockets).
    """
    family, _, _, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    dualstack = address[0] == "::" and socket.has_dualstack_ipv6()
    return socket.create_server(address[:2], family=family, dualstack_ipv6=dualstack)


def _tls_context(settings: SmtpInboundSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        problem = f"cannot load the TLS certificate and key: {exc}"
        raise ConfigError([(f"{_SETTINGS_PATH}.tls_cert_file", problem)]) from None
    return context


def _raw_bytes(envelope: Envelope) -> bytes:
    if envelope.original_content is not None:
        return envelope.original_content
    content = envelope.content or b""
    return content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")


def _reverse_path(mail_from: str | None) -> str:
    """The sender address; ``""`` for the null reverse-path (aiosmtpd reports it as ``<>``)."""
    return "" if mail_from in (None, "", "<>") else str(mail_from)
