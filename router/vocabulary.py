"""The words every package shares: priorities, statuses, channels, directions."""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    """Ticket priority; ``rank`` orders them, lower is more urgent."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Priority:
        try:
            return cls(value.strip().lower())
        except ValueError:
            choices = ", ".join(p.value for p in cls)
            raise ValueError(f"unknown priority {value!r}; expected one of {choices}") from None


_PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Status(StrEnum):
    """The ticket lifecycle: new -> open -> pending -> resolved -> closed (with reopen)."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Channel(StrEnum):
    """Where a message came from or goes to.

    These three ship with relaydesk; a channel plugged in through the registry
    (``workers/channels/``) names itself with ``plug_in``.
    """

    EMAIL = "email"
    TELEGRAM = "telegram"
    WEB = "web"

    @classmethod
    def plug_in(cls, value: str) -> Channel:
        """The channel ``value``, made known: afterwards ``Channel(value)`` is it (as for
        the three above, e.g. reading a stored payload). Idempotent."""
        known = cls._value2member_map_.get(value)
        if known is not None:
            return known  # type: ignore[return-value]
        if not value.isidentifier() or not value.islower() or len(value) > 16:
            raise ValueError(f"a channel is named in lowercase letters, at most 16: {value!r}")
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        cls._value2member_map_[value] = member
        return member


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Role(StrEnum):
    """A staff account's role; each includes everything the one before may do."""

    AGENT = "agent"  # their own tickets and their teams' unassigned ones
    SUPERVISOR = "supervisor"  # everything in the teams they supervise, reassigning, reports
    ADMIN = "admin"  # everything: accounts, tokens, webhooks

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


class RowState(StrEnum):
    """State of an inbox or outbox row: the store is the source of truth for work."""

    PENDING = "pending"  # accepted, waiting to be processed
    SENDING = "sending"  # outbox only: claimed by a delivery attempt
    DONE = "done"  # processed (inbox) or delivered (outbox)
    QUIET = "quiet"  # inbox only: recorded but deliberately not answered
    FAILED = "failed"  # gave up, ``error`` says why


class SystemActor(StrEnum):
    """The audit log's actors that are not a person: the pipeline's steps, and the command
    line run without ``--as`` (a person is ``agent:NAME``, a customer ``customer:ADDRESS``)."""

    SYSTEM = "system"  # queued a message on another step's behalf
    INGEST = "system:ingest"
    ROUTE = "system:route"
    DELIVER = "system:deliver"
    SLA = "system:sla"
    SCHEDULER = "system:scheduler"
    WEBHOOKS = "system:webhooks"  # paused a subscription whose deliveries kept failing
    FOLLOW_UP = "system:follow-up"  # reminded, resolved or closed a ticket that waited
    CLI = "cli"  # whoever runs the command line owns the database


class AuditAction(StrEnum):
    """What an audit event records, stored as its value ("ticket.assigned")."""

    # a ticket's life
    TICKET_CREATED = "ticket.created"
    TICKET_STATUS = "ticket.status"
    TICKET_REOPENED = "ticket.reopened"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_OFFERED = "ticket.offered"
    TICKET_CLAIMED = "ticket.claimed"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_UNASSIGNED = "ticket.unassigned"
    TICKET_WAITING = "ticket.waiting"  # no agent free: in the backlog
    TICKET_SPLIT = "ticket.split"  # a message moved out into a new ticket of the requester
    TICKET_MERGED = "ticket.merged"  # closed as merged into another ticket of the requester
    TICKET_MERGED_IN = "ticket.merged_in"  # another ticket was merged into it
    TICKET_RELAXED = "ticket.relaxed"  # waited long enough to drop a routing requirement
    TICKET_REMINDED = "ticket.reminded"  # its requester was reminded that we wait for them
    TICKET_RATED = "ticket.rated"  # its requester rated the help (or changed the rating)
    TICKET_EDITED = "ticket.edited"  # priority, category, team, tags or custom fields
    # its messages
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_QUIET = "message.quiet"  # an auto-reply, bounce or loop: kept, not answered
    MESSAGE_PROBLEMS = "message.problems"  # kept with what could not be read
    MESSAGE_REPLIED = "message.replied"
    NOTE_ADDED = "note.added"
    MACRO_APPLIED = "macro.applied"  # an agent's canned reply (and its changes) in one action
    ACKNOWLEDGEMENT_SUPPRESSED = "acknowledgement.suppressed"
    # what the desk sends
    OUTBOX_QUEUED = "outbox.queued"
    OUTBOX_SENT = "outbox.sent"
    OUTBOX_FAILED = "outbox.failed"
    OUTBOX_BOUNCED = "outbox.bounced"
    OUTBOX_RETRY = "outbox.retry"
    # its clocks
    SLA_POLICY = "sla.policy"
    SLA_NONE = "sla.none"
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    SLA_ESCALATED = "sla.escalated"
    # agents and staff accounts
    AGENT_ADDED = "agent.added"
    AGENT_STATUS = "agent.status"
    AGENT_LINK_CODE = "agent.link_code"
    AGENT_LINKED = "agent.linked"
    AGENT_LINK_REFUSED = "agent.link_refused"
    AGENT_UNLINKED = "agent.unlinked"
    AGENT_PASSWORD_SET = "agent.password_set"
    AGENT_SESSIONS_ENDED = "agent.sessions_ended"
    STAFF_SIGNED_IN = "staff.signed_in"
    STAFF_SIGNED_OUT = "staff.signed_out"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    # customers and organisations
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_UPDATED = "customer.updated"
    CUSTOMER_MERGED = "customer.merged"
    REQUESTER_MERGED = "ticket.requester_merged"  # its requester was merged into another
    ORGANISATION_CREATED = "organisation.created"
    ORGANISATION_UPDATED = "organisation.updated"
    # webhook subscriptions
    WEBHOOK_ADDED = "webhook.added"
    WEBHOOK_PAUSED = "webhook.paused"
    WEBHOOK_RESUMED = "webhook.resumed"
    WEBHOOK_REMOVED = "webhook.removed"
    WEBHOOK_REDELIVERED = "webhook.redelivered"


class JobState(StrEnum):
    """A background job's state (a simulation asked through the staff API)."""

    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"
    DONE = "done"  # its result is kept
    FAILED = "failed"  # gave up, ``error`` says why


class ConfigAction(StrEnum):
    """How a configuration version became the desk's (``config_changes.action``)."""

    START = "start"  # the first version, recorded when the store had none (migrate, serve)
    RELOAD = "reload"  # relaydesk config reload, or SIGHUP to a process
    ROLLBACK = "rollback"  # relaydesk config rollback VERSION
    PILOT = "pilot"  # relaydesk config reload FILE --pilot-teams a,b: a candidate for some teams
    PROMOTE = "promote"  # relaydesk config pilot promote: the candidate for every team
    PILOT_END = "pilot-end"  # relaydesk config pilot end: every team back on the version


class OutboxKind(StrEnum):
    """Why an outbox row was written, stored as its value ("acknowledgement")."""

    # to a customer
    ACKNOWLEDGEMENT = "acknowledgement"  # we got your message, here is your ticket
    REPLY = "reply"  # an agent's answer: the only kind that is a person's mail
    REPLY_FILE = "reply_file"  # a file of an agent's answer, into the customer's chat
    RESOLVED = "resolved"  # a chat customer is told their request was resolved
    PENDING = "pending"  # the requester is told (or reminded) that we wait for their answer
    MERGED = "merged"  # the requester is told their request goes on in another ticket
    SIGN_IN_LINK = "sign_in_link"  # a requester's one-time link to "my requests"
    # to an agent, about a ticket
    ASSIGNMENT = "assignment"
    OFFER = "offer"  # claim mode: a ticket the agent may take
    TAKEN = "taken"  # the ticket was given to someone else
    REPLY_NOTICE = "reply_notice"  # the customer wrote again
    MENTION = "mention"  # named in an internal note
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    CUSTOMER_FILE = "customer_file"  # a customer's file, passed on into the agent's chat
    ANSWER_RECEIPT = "answer_receipt"  # an agent's answer was delivered, or could not be
    NOTICE_UPDATE = "notice_update"  # an earlier notice edited (its buttons gone)
    # to an admin
    WEBHOOK_PAUSED = "webhook_paused"  # a webhook subscription kept failing and was paused
    # to a supervisor
    WEEKLY_REPORT = "weekly_report"  # a team's week in figures, charts and its tickets' CSV
    # answers in a chat, to what an agent or a customer wrote or pressed
    AGENT_ANSWER = "agent_answer"
    AGENT_FILES = "agent_files"
    CALLBACK_ANSWER = "callback_answer"
    LINK = "link"
    CHAT_HELP = "chat_help"
    CHAT_NEW = "chat_new"
    CHAT_STATUS = "chat_status"
    CHAT_FILE = "chat_file"
    CHAT_UNSUPPORTED = "chat_unsupported"
    CHAT_PRIVATE_ONLY = "chat_private_only"


class ChatAction(StrEnum):
    """What an outbound chat message does in the chat (stored in the outbox payload)."""

    SEND = "send"  # a new message
    EDIT = "edit"  # edit the message ``target_id``
    DOCUMENT = "document"  # send a file, the text its caption
    ANSWER_CALLBACK = "answer_callback"  # answer a pressed button (a toast, not a message)
