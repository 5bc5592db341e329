"""The staff API's ticket actions: their request bodies and their answer (pydantic)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.web.schemas import (
    MAX_BODY_CHARS,
    MAX_CUSTOM_FIELDS,
    SLUG_PATTERN,
    CustomValue,
    FieldKey,
)
from connectors.web.staff.schemas import NAME_PATTERN
from connectors.web.text_fields import LINE_PATTERN, TEXT_PATTERN, check_line, check_text
from router.ticket_edits import MAX_TAGS
from router.vocabulary import Priority, Status

TAG_PATTERN = r"^[^\s\u0000-\u001f\u007f,]{1,64}$"  # one word: no blank, control or comma


def _reason() -> Any:
    return Field(
        "",
        max_length=500,
        description="Why (goes to the audit log): one line.",
        json_schema_extra={"pattern": f"^$|{LINE_PATTERN}"},
    )


def _check_reason(value: str) -> str:
    return check_line(value) if value else value


class FileRef(BaseModel):
    """A file kept by ``POST /api/v1/desk/uploads/{number}``, to send with a reply."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="As the upload answered.")
    filename: str = Field(
        min_length=1,
        max_length=255,
        description="The name it goes out with: one line.",
        json_schema_extra={"pattern": LINE_PATTERN},
    )

    _valid_filename = field_validator("filename")(check_line)


class UploadOut(BaseModel):
    sha256: str = Field(description="Name it in a reply's `files`.")
    filename: str
    content_type: str = Field(description="What the file is, by its content.")
    size: int


class ReplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="The answer, plain text; not only whitespace, no NUL.",
        json_schema_extra={"pattern": TEXT_PATTERN},
    )
    status: Status | None = Field(None, description="Then move the ticket to this status.")
    files: list[FileRef] = Field(
        default_factory=list,
        max_length=20,
        description="Uploaded files to send with it (at most `web.files_per_message`).",
    )

    _valid_text = field_validator("text")(check_text)


class NoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=MAX_BODY_CHARS,
        description="The note; each `@name` of an agent tells that agent.",
        json_schema_extra={"pattern": TEXT_PATTERN},
    )

    _valid_text = field_validator("text")(check_text)


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: str = _reason()

    _valid_reason = field_validator("reason")(_check_reason)


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=64, pattern=NAME_PATTERN)
    reason: str = _reason()
    force: bool = Field(False, description="Past the agent's capacity or status.")

    _valid_reason = field_validator("reason")(_check_reason)


class TransferRequest(BaseModel):
    """To an agent, or to a team's queue: one of the two."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    team: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    reason: str = Field(
        min_length=1,
        max_length=500,
        description="Why (required; goes to the audit log): one line.",
        json_schema_extra={"pattern": LINE_PATTERN},
    )

    _valid_reason = field_validator("reason")(check_line)

    @model_validator(mode="after")
    def _one_target(self) -> TransferRequest:
        if (self.agent is None) == (self.team is None):
            raise ValueError("transfer to an agent or to a team: give one of the two")
        return self


class UnassignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = _reason()

    _valid_reason = field_validator("reason")(_check_reason)


class EditRequest(BaseModel):
    """The fields to change; a field left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority | None = Field(None, description="Re-plans the SLA clocks.")
    category: str | None = Field(None, pattern=SLUG_PATTERN, description="Re-plans the clocks.")
    team: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="Re-plans the clocks; an agent not in the new team gives the ticket back "
        "to its queue.",
    )
    tags: list[str] | None = Field(
        None,
        max_length=MAX_TAGS,
        description="The tags (replacing them): words without blanks or commas.",
        json_schema_extra={"items": {"type": "string", "pattern": TAG_PATTERN}},
    )
    custom_fields: dict[FieldKey, CustomValue] | None = Field(
        None,
        max_length=MAX_CUSTOM_FIELDS,
        description="The keys to set; a key set to null is removed.",
        json_schema_extra={"additionalProperties": False},
    )
    reason: str = _reason()

    _valid_reason = field_validator("reason")(_check_reason)

    @field_validator("tags")
    @classmethod
    def _words(cls, tags: list[str] | None) -> list[str] | None:
        import re

        for tag in tags or ():
            if not re.fullmatch(TAG_PATTERN, tag):
                raise ValueError(f"{tag!r} is not a tag: one word, without blanks or commas")
        return tags


class ActionOut(BaseModel):
    """What an action did: the ticket's new version (also the ETag) and what changed."""

    number: int
    version: str | None = Field(
        description="The version after the change (null: the ticket left the caller's scope)."
    )
    changed: list[str] = Field(description="What changed, e.g. `status` or `priority`.")
