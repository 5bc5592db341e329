"""Settings of the email channel: IMAP mailboxes, the inbound SMTP server, intake limits."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.base import Frozen, WithPassword

MIB = 1024 * 1024


def _address(value: str) -> str:
    value = value.strip().lower()
    if value.count("@") != 1 or any(c in value for c in "\r\n <>,;"):
        raise ValueError(f"{value!r} is not an email address")
    return value


class MailboxSettings(WithPassword):
    """One IMAP mailbox the poller reads."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    host: str = "127.0.0.1"
    port: int = Field(993, ge=1, le=65535)
    security: Literal["ssl", "starttls", "none"] = "ssl"
    verify_tls: bool = True
    ca_file: str = ""
    username: str = Field(min_length=1)
    folder: str = "INBOX"
    after: Literal["seen", "move", "delete"] = "seen"  # what to do once the row is committed
    # on the first poll of a mailbox: "all" of it, only "unseen" messages, or only "new"
    # ones arriving from now on (pointing relaydesk at a mailbox with years of history)
    initial: Literal["all", "unseen", "new"] = "all"
    move_to: str = ""
    address: str = ""  # the address this mailbox receives (our own: loops, plus-addresses)
    idle: bool = True  # use IDLE when the server offers it, else poll
    poll_interval_s: float = Field(30.0, gt=0)
    idle_timeout_s: float = Field(300.0, gt=0)  # re-issue IDLE at least this often
    batch: int = Field(50, ge=1, le=1000)  # messages per FETCH (fewer past fetch_bytes)
    # a larger message is not fetched: a failed inbox row keeps its headers and the
    # reason, and the message stays in the folder untouched
    max_message_bytes: int = Field(25 * MIB, gt=0)
    # the bytes one FETCH (and one transaction) holds at most: one message at least
    fetch_bytes: int = Field(32 * MIB, gt=0)
    timeout_s: float = Field(30.0, gt=0)
    reconnect_min_s: float = Field(1.0, gt=0)
    reconnect_max_s: float = Field(300.0, gt=0)

    @field_validator("address")
    @classmethod
    def _valid_address(cls, value: str) -> str:
        return _address(value) if value else value

    @model_validator(mode="after")
    def _move_needs_target(self) -> MailboxSettings:
        if self.after == "move" and not self.move_to:
            raise ValueError("after = 'move' needs move_to (the folder to move to)")
        return self


class SmtpInboundSettings(WithPassword):
    """The inbound SMTP server (``relaydesk connector smtp``): never an open relay.

    Mail is accepted only for ``addresses`` and for any address at ``domains``.
    ``username`` + a password turn on AUTH (only offered over TLS).
    """

    enabled: bool = False  # whether `relaydesk serve` starts it
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    hostname: str = "relaydesk.localhost"  # the name in the greeting
    domains: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    max_message_bytes: int = Field(25 * MIB, gt=0)  # 552 past this
    # RFC 5321 asks for 1,000-byte lines, real senders write HTML on one line: accept
    # (and keep intact) lines up to this, as Postfix does; 500 past it
    max_line_bytes: int = Field(MIB, ge=1001, le=64 * MIB)
    max_recipients: int = Field(20, ge=1, le=1000)
    max_commands: int = Field(100, ge=10, le=100_000)  # per session, per verb (NOOP, VRFY, ...)
    max_messages_per_session: int = Field(1000, ge=1, le=1_000_000)  # MAIL, DATA, RSET
    max_connections: int = Field(50, ge=1, le=10_000)  # sessions at once; 421 past this
    # a message's commit waits up to this for the next message of each other open
    # session, so they share one transaction (and their ingest one batch)
    commit_wait_ms: float = Field(15.0, ge=0, le=10_000)
    timeout_s: float = Field(300.0, gt=0)
    tls_cert_file: str = ""
    tls_key_file: str = ""
    require_tls: bool = False  # refuse MAIL before STARTTLS
    username: str = ""

    @field_validator("addresses")
    @classmethod
    def _valid_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_address(a) for a in value)

    @field_validator("domains")
    @classmethod
    def _valid_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for domain in value:
            domain = domain.strip().lower().lstrip("@")
            if not domain or any(c in domain for c in "\r\n <>@,;"):
                raise ValueError(f"{domain!r} is not a domain")
            out.append(domain)
        return tuple(out)

    @property
    def starttls(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)

    @model_validator(mode="after")
    def _consistent(self) -> SmtpInboundSettings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("tls_cert_file and tls_key_file go together")
        if self.require_tls and not self.starttls:
            raise ValueError("require_tls needs tls_cert_file and tls_key_file")
        if self.username and not self.starttls:
            raise ValueError("AUTH (username) is only offered over TLS: set the TLS files")
        if self.enabled and not (self.domains or self.addresses):
            raise ValueError("set domains or addresses: the server accepts mail only for them")
        return self


class EmailSettings(Frozen):
    mailboxes: tuple[MailboxSettings, ...] = ()
    inbound_smtp: SmtpInboundSettings = SmtpInboundSettings()
    attachments_dir: str = "relaydesk-attachments"  # content-addressed files, shared by workers
    max_attachment_bytes: int = Field(10 * MIB, gt=0)  # larger attachments are listed, not kept
    max_attachments_bytes: int = Field(25 * MIB, gt=0)  # per message, all attachments together
    auto_reply_limit: int = Field(5, ge=0)  # automatic replies to one address per window
    auto_reply_window_s: int = Field(3600, gt=0)
    own_addresses: tuple[str, ...] = ()  # more addresses of ours (mail from them is a loop)
    plus_addressing: bool = True  # support+1234@ threads into ticket 1234
    # the other To and Cc addresses of a ticket's mail take part in it: their replies
    # with the subject tag or to the plus-address join it, as the requester's do
    cc_participants: bool = True
    # an agent's reply to a notification goes to the requester; only as safe as the
    # sender address: check SPF/DKIM at your MTA, or turn this off
    agent_replies: bool = True

    @field_validator("own_addresses")
    @classmethod
    def _valid_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_address(a) for a in value)

    @model_validator(mode="after")
    def _unique_mailboxes(self) -> EmailSettings:
        names = [m.name for m in self.mailboxes]
        if len(names) != len(set(names)):
            raise ValueError("mailboxes: duplicate mailbox name")
        return self


def unread_reply_address(reply_address: str, email: EmailSettings) -> str | None:
    """Why answers to our mail may never come back, or None.

    Mail to a requester goes out From and Reply-To (plus-addressed) the address of
    ours they wrote to; web requesters, agents, and mail that named no address of
    ours get ``reply_address`` (``helpdesk.address``). When mailboxes or an inbound
    server say which addresses relaydesk receives and that one is not among them, an
    answer to it goes elsewhere.
    """
    reads = {m.address.lower() for m in email.mailboxes if m.address}
    reads |= {a.lower() for a in email.inbound_smtp.addresses}
    domains = {d.lower() for d in email.inbound_smtp.domains}
    if not (reads or domains):
        return None  # nothing says what is received here: nothing to compare
    address = reply_address.lower()
    if address in reads or address.rpartition("@")[2] in domains:
        return None
    received = ", ".join(sorted(reads | {f"*@{d}" for d in domains}))
    return (
        f"helpdesk.address {reply_address} (From and Reply-To of acknowledgements to web "
        f"requesters, of agents' notices, of mail to no address of ours) is not an address "
        f"relaydesk receives ({received}): answers to it will not come back"
    )
