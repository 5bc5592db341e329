"""SQLAlchemy 2 models, one module per part of the domain."""

from store.models.base import Base
from store.models.chat import ChatMessage
from store.models.config_versions import ConfigChange, ConfigVersion
from store.models.desk_tools import MacroRow, SavedSearchRow
from store.models.fleet import ProcessBeat
from store.models.mail import Attachment, MailboxCursor
from store.models.people import (
    Agent,
    AgentSkill,
    Customer,
    CustomerIdentity,
    Organisation,
    OrganisationDomain,
    Team,
    agent_teams,
)
from store.models.queues import InboxItem, OutboxItem
from store.models.ratings import Rating
from store.models.reports import (
    AgentLoadDay,
    ReportBin,
    ReportClock,
    ReportDay,
    ReportMark,
    ReportNameChange,
    ReportRequesterChange,
    ReportRequesterMoved,
    ReportRequesterTotal,
    ReportSharedName,
    ReportTally,
    ReportTicketChanged,
)
from store.models.requester_access import RequesterAccess
from store.models.simulation_jobs import SimulationJob
from store.models.sla import SlaTimer
from store.models.staff import ApiToken, SignInFailures, StaffSession
from store.models.tickets import AuditEvent, Message, Ticket
from store.models.webhooks import WebhookDelivery, WebhookEventRow, WebhookSubscription

__all__ = [
    "Agent",
    "AgentLoadDay",
    "AgentSkill",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Base",
    "ChatMessage",
    "ConfigChange",
    "ConfigVersion",
    "Customer",
    "CustomerIdentity",
    "InboxItem",
    "MacroRow",
    "MailboxCursor",
    "Message",
    "Organisation",
    "OrganisationDomain",
    "OutboxItem",
    "ProcessBeat",
    "Rating",
    "ReportBin",
    "ReportClock",
    "ReportDay",
    "ReportMark",
    "ReportNameChange",
    "ReportRequesterChange",
    "ReportRequesterMoved",
    "ReportRequesterTotal",
    "ReportSharedName",
    "ReportTally",
    "ReportTicketChanged",
    "RequesterAccess",
    "SavedSearchRow",
    "SignInFailures",
    "SimulationJob",
    "SlaTimer",
    "StaffSession",
    "Team",
    "Ticket",
    "WebhookDelivery",
    "WebhookEventRow",
    "WebhookSubscription",
    "agent_teams",
]
