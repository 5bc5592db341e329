"""The settings schema, validated once at start-up into a frozen object."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from config.base import Frozen as _Frozen
from config.base import WithPassword
from config.email_settings import EmailSettings
from config.form_settings import WebFormSettings
from config.macro_settings import MacroSettings
from config.requester_settings import RequesterSettings
from config.routing_settings import RoutingSettings
from config.rules_settings import RulesSettings
from config.sla_settings import SlaSettings
from config.staff_settings import StaffSettings
from config.telegram_settings import TelegramSettings
from config.webhook_settings import WebhookSettings

LANGUAGES = ("en", "zh_CN")
"""The languages relaydesk has message catalogs for (router.catalogs.LANGUAGES)."""


def known_language(value: str) -> str:
    """``value`` as a catalog names its language: "zh-cn", "zh_CN", "zh" -> "zh_CN"."""
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    found = next((lang for lang in LANGUAGES if lang.split("_")[0].lower() == primary), None)
    if not value.strip() or found is None:
        raise ValueError(f"unknown language {value!r}; relaydesk speaks {', '.join(LANGUAGES)}")
    return found


class HelpdeskSettings(_Frozen):
    name: str = "relaydesk"
    address: str = "support@relaydesk.localhost"  # From and Reply-To of outbound mail
    tag_prefix: str = "#"
    default_team: str = "support"
    default_priority: Literal["urgent", "high", "normal", "low"] = "normal"
    acknowledge: bool = True  # send the requester an acknowledgement
    # a requester who states no language we speak is written to in this one
    language: str = "en"
    # times shown to a requester whose own zone is unknown
    timezone: str = "UTC"

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return known_language(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class WebSettings(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_000_000, gt=0)
    max_subject_chars: int = Field(998, gt=0)
    intake_wait_s: float = Field(2.0, ge=0)  # how long POST waits for the ticket number
    # ... unless a web submission has been waiting longer than this (the desk is behind)
    intake_backlog_s: float = Field(0.5, ge=0)
    # the desk as requesters reach it, for the links in mail and chat (e.g.
    # "https://desk.example.com"); empty: http://host:port
    public_url: str = Field("", pattern=r"^(https?://[^\s/?#]+(/[^\s?#]*)?)?$")
    # files a requester attaches on the web (their ticket's page): how many per message,
    # how large each, and which types (by content; "image/*" takes every image)
    files_per_message: int = Field(5, ge=0, le=20)
    max_file_bytes: int = Field(10_000_000, gt=0)
    file_types: tuple[str, ...] = (
        "image/*",
        "application/pdf",
        "text/plain",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    )

    # forms made for one scenario each (/forms/<slug>); "/" lists them
    forms: tuple[WebFormSettings, ...] = ()
    # a client address may submit this many forms per minute (then 429 with Retry-After)
    submissions_per_minute: int = Field(10, ge=1)

    @model_validator(mode="after")
    def _unique_form_slugs(self) -> WebSettings:
        slugs = [f.slug for f in self.forms]
        if len(slugs) != len(set(slugs)):
            raise ValueError("two [[web.forms]] have one slug")
        return self

    def link_base(self) -> str:
        """Where links to the desk start: ``public_url``, else this server's address."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    def upload_bytes(self) -> int:
        """The largest body a page with files may send: every file and the text (a file
        in base64, as the JSON API takes it, is a third larger)."""
        in_base64 = (self.max_file_bytes + 2) // 3 * 4
        return self.max_body_bytes + self.files_per_message * in_base64


class SmtpSettings(WithPassword):
    """The outbound relay; ``transport = "file"`` writes .eml files instead (demo)."""

    transport: Literal["smtp", "file"] = "smtp"
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    timeout_s: float = Field(10.0, gt=0)
    file_dir: str = "relaydesk-outbox"

    @model_validator(mode="after")
    def _one_tls_mode(self) -> SmtpSettings:
        if self.starttls and self.ssl:
            raise ValueError("choose starttls or ssl, not both")
        return self


class BrokerSettings(_Frozen):
    namespace: str = Field("relaydesk", pattern=r"^[A-Za-z0-9_.-]+$")  # Redis key prefix
    heartbeat_timeout_ms: int = Field(15_000, gt=0)
    maintenance_chance: int = Field(100_000, ge=0, le=1_000_000)
    worker_timeout_ms: int = Field(100, gt=0)


class StepRetries(_Frozen):
    max_attempts: int = Field(5, ge=1, le=100)
    min_backoff_ms: int = Field(500, ge=0)
    max_backoff_ms: int = Field(30_000, ge=0)
    time_limit_ms: int = Field(60_000, gt=0)


class RetrySettings(_Frozen):
    ingest: StepRetries = StepRetries()
    route: StepRetries = StepRetries()
    deliver: StepRetries = StepRetries(max_attempts=8, min_backoff_ms=1000, max_backoff_ms=300_000)


class WorkerSettings(_Frozen):
    processes: int = Field(1, ge=1, le=64)
    threads: int = Field(4, ge=1, le=256)
    # under load, many rows ride in one broker message: at most this many ids in one
    batch_max: int = Field(20, ge=1, le=1000)
    # a connector's intake holds its ingest sends this long to send them together (0: never)
    batch_window_ms: float = Field(5.0, ge=0, le=1000)
    # each worker process serves Prometheus metrics on this port plus its index (0: none)
    metrics_port: int = Field(0, ge=0, le=65535)
    # a delivery made in the thread that queued it taking longer pauses its channel's
    # deliveries there (workers/runtime/inline_deliveries.py: HereBudget)
    deliver_here_slow_ms: float = Field(500.0, gt=0)


class SchedulerSettings(_Frozen):
    interval_s: float = Field(0.5, gt=0)  # also the precision of SLA steps
    redrive_after_s: float = Field(60.0, gt=0)  # an unfinished row older than this is re-driven
    send_lease_s: float = Field(120.0, gt=0)  # a delivery claimed longer ago is retried
    heartbeat_s: float = Field(5.0, gt=0)  # every process writes its heartbeat this often
    # a process silent this long is dead: its deliveries are taken over at once
    dead_after_s: float = Field(20.0, gt=0)
    batch: int = Field(500, gt=0)

    @model_validator(mode="after")
    def _beats_before_death(self) -> SchedulerSettings:
        if self.dead_after_s < 2 * self.heartbeat_s:
            raise ValueError("dead_after_s must be at least twice heartbeat_s")
        return self


class ReportSettings(_Frozen):
    """``[reports]``: the days of a report are local days of ``timezone``."""

    timezone: str = "UTC"
    refresh_s: float = Field(60.0, gt=0)  # the scheduler counts changed days again this often
    load_sample_s: float = Field(300.0, ge=10)  # agents' load is sampled this often

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


def known_zone(value: str) -> str:
    """``value`` if it names a time zone of the IANA database ("Europe/Berlin", "UTC")."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class WeeklyReportSettings(_Frozen):
    """A team's ``weekly_report``: mailed to its supervisors at ``hour`` on ``weekday``
    (0 Monday ... 6 Sunday) in ``timezone`` (router/weekly_report.py)."""

    weekday: int = Field(0, ge=0, le=6)
    hour: int = Field(8, ge=0, le=23)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class TeamSettings(_Frozen):
    name: str = Field(min_length=1)
    supervisor: str | None = None
    claim_mode: bool = False  # offer each ticket to every eligible agent; the first claim wins
    fallback_team: str | None = None  # may take the team's tickets after the skills timeout
    # the team's own [requester] follow-up days (None: the desk's)
    pending_remind_days: int | None = Field(None, ge=0, le=365)
    pending_resolve_days: int | None = Field(None, ge=0, le=365)
    resolved_close_days: int | None = Field(None, ge=0, le=365)
    weekly_report: WeeklyReportSettings | None = None  # None: no weekly report by mail


class AgentSettings(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    display_name: str = ""
    email: str = Field(min_length=3)
    teams: tuple[str, ...] = ()
    capacity: int = Field(5, ge=0, le=10_000)
    status: Literal["online", "away", "offline"] = "offline"
    skills: dict[str, int] = {}
    supervisor: str | None = None
    # a staff account's role: agent, supervisor or admin (a team's supervisor is at least
    # a supervisor of that team)
    role: Literal["agent", "supervisor", "admin"] = "agent"
    seniority: int = Field(0, ge=0, le=100)
    channel_capacity: dict[Literal["email", "telegram", "web"], int] = {}  # per-channel limit
    timezone: str = "UTC"  # the agent's notices give times in it
    language: str = ""  # the agent's notices and the bot's answers; "" = helpdesk.language

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return known_language(value) if value.strip() else ""

    @field_validator("channel_capacity")
    @classmethod
    def _channel_limits(cls, value: dict[str, int]) -> dict[str, int]:
        for channel, limit in value.items():
            if limit < 0:
                raise ValueError(f"channel {channel!r} capacity {limit} is negative")
        return value

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str) -> str:
        if "@" not in value or any(c in value for c in "\r\n <>"):
            raise ValueError("not an email address")
        return value

    @field_validator("skills")
    @classmethod
    def _skill_levels(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill!r} level {level} is outside 1..5")
        return {skill.strip().lower(): level for skill, level in value.items()}  # as rules


class Settings(_Frozen):
    database_url: str = "sqlite:///relaydesk.db"
    broker_url: str = "stub://"  # stub:// = in-process; redis://... or amqp://...
    log_format: Literal["text", "json"] = "text"  # json: one event per line (--log-format)
    helpdesk: HelpdeskSettings = HelpdeskSettings()
    web: WebSettings = WebSettings()
    smtp: SmtpSettings = SmtpSettings()
    email: EmailSettings = EmailSettings()
    routing: RoutingSettings = RoutingSettings()
    rules: RulesSettings = RulesSettings()
    sla: SlaSettings = SlaSettings()
    telegram: TelegramSettings = TelegramSettings()
    staff: StaffSettings = StaffSettings()
    broker: BrokerSettings = BrokerSettings()
    retries: RetrySettings = RetrySettings()
    worker: WorkerSettings = WorkerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    reports: ReportSettings = ReportSettings()
    webhooks: WebhookSettings = WebhookSettings()
    requester: RequesterSettings = RequesterSettings()
    teams: tuple[TeamSettings, ...] = ()
    agents: tuple[AgentSettings, ...] = ()
    categories: dict[str, str] = {}  # category -> team
    macros: tuple[MacroSettings, ...] = ()

    @property
    def embedded(self) -> bool:
        return self.broker_url.startswith("stub:")

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, value: str) -> str:
        if not value.startswith(("stub:", "redis://", "rediss://", "amqp://", "amqps://")):
            raise ValueError("expected stub://, redis://, rediss://, amqp:// or amqps://")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @model_validator(mode="after")
    def _references_exist(self) -> Settings:
        teams = {t.name for t in self.teams}
        agents = {a.name for a in self.agents}
        problems = []
        if len(teams) != len(self.teams):
            problems.append("teams: duplicate team name")
        if len(agents) != len(self.agents):
            problems.append("agents: duplicate agent name")
        for i, agent in enumerate(self.agents):
            for team in agent.teams:
                if team not in teams:
                    problems.append(f"agents.{i}.teams: unknown team {team!r}")
            if agent.supervisor and agent.supervisor not in agents:
                problems.append(f"agents.{i}.supervisor: unknown agent {agent.supervisor!r}")
        for i, team_cfg in enumerate(self.teams):
            if team_cfg.supervisor and team_cfg.supervisor not in agents:
                problems.append(f"teams.{i}.supervisor: unknown agent {team_cfg.supervisor!r}")
            if team_cfg.fallback_team and team_cfg.fallback_team not in teams:
                problems.append(f"teams.{i}.fallback_team: unknown team {team_cfg.fallback_team!r}")
        if teams and self.helpdesk.default_team not in teams:
            problems.append(f"helpdesk.default_team: unknown team {self.helpdesk.default_team!r}")
        for key, team in self.rules.team_references():
            if team not in teams:
                problems.append(f"rules.{key}: unknown team {team!r}")
        for key, team in self.sla.team_references():
            if team not in teams:
                problems.append(f"sla.{key}: unknown team {team!r}")
        for key, name in self.sla.agent_references():
            if name not in agents:
                problems.append(f"sla.{key}: unknown agent {name!r}")
        if len({m.name for m in self.macros}) != len(self.macros):
            problems.append("macros: duplicate macro name")
        for i, macro in enumerate(self.macros):
            if macro.team and macro.team not in teams:
                problems.append(f"macros.{i}.team: unknown team {macro.team!r}")
        for category, team in self.categories.items():
            if team not in teams:
                problems.append(f"categories.{category}: unknown team {team!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self
