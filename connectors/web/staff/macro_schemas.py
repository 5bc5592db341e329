"""The macros' bodies over HTTP: a macro as an admin writes it, as it is listed, and a
request to apply one (pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from config.macro_settings import MacroSettings
from connectors.web.schemas import MAX_BODY_CHARS
from connectors.web.staff.ticket_action_schemas import TAG_PATTERN, FileRef
from connectors.web.text_fields import TEXT_PATTERN, check_text
from router.macros import MacroDefinition
from router.vocabulary import Status

Tag = Annotated[str, Field(pattern=TAG_PATTERN)]


class MacroIn(MacroSettings):
    """A macro as an admin writes it: the body may name `{requester_name}`,
    `{ticket_number}` and `{agent_name}` (`{{`/`}}` are literal braces); `status`,
    `priority`, `tags` (added to the ticket's) and `team` are optional."""

    tags: tuple[Tag, ...] = Field((), max_length=20)

    def definition(self) -> MacroDefinition:
        return MacroDefinition(
            name=self.name,
            title=self.title,
            body=self.body,
            status=self.status,
            priority=self.priority,
            tags=self.tags,
            team=self.team,
            source="api",
        )


class MacroOut(BaseModel):
    name: str
    title: str
    body: str
    status: str | None
    priority: str | None
    tags: list[str]
    team: str | None
    source: Literal["config", "api"] = Field(
        description="`config`: from `[[macros]]`, read-only here; `api`: kept by an admin."
    )

    @classmethod
    def of(cls, macro: MacroDefinition) -> MacroOut:
        return cls(
            name=macro.name,
            title=macro.title,
            body=macro.body,
            status=macro.status,
            priority=macro.priority,
            tags=list(macro.tags),
            team=macro.team,
            source="api" if macro.source == "api" else "config",
        )


class MacroRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    macro: str = Field(min_length=1, max_length=64, description="The macro's `name`.")
    text: str = Field(
        "",
        max_length=MAX_BODY_CHARS,
        description="The agent's edit of the macro's text, sent instead of it (empty: the "
        "macro's text with its placeholders filled).",
        json_schema_extra={"pattern": f"^$|{TEXT_PATTERN}"},
    )
    status: Status | None = Field(None, description="Instead of the macro's status.")
    files: list[FileRef] = Field(
        default_factory=list,
        max_length=20,
        description="Uploaded files to send with it (at most `web.files_per_message`).",
    )

    @field_validator("text")
    @classmethod
    def _valid_text(cls, value: str) -> str:
        return check_text(value) if value else value
