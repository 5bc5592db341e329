"""``[[macros]]``: canned replies an agent applies in one action.

```toml
[[macros]]
name = "password-reset"                 # how the API and the pages name it
title = "Password reset done"           # what the agent sees on the button
body = "Hello {requester_name},\n\nI reset your password on #{ticket_number}.\n\n{agent_name}"
status = "pending"                      # optional: set with the reply
priority = "high"                       # optional: set with the reply
tags = ["password"]                     # optional: added to the ticket's tags
team = "support"                        # optional: moved to this team (its queue when
                                        # the agent is not in it)
```
"""

from __future__ import annotations

from string import Formatter
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.base import Frozen

MACRO_PLACEHOLDERS = ("requester_name", "ticket_number", "agent_name")
"""What a macro's body may name in braces (``{{`` and ``}}`` are literal braces)."""


class MacroSettings(Frozen):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)
    status: Literal["open", "pending", "resolved"] | None = None
    priority: Literal["urgent", "high", "normal", "low"] | None = None
    tags: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = Field((), max_length=20)
    team: str | None = Field(None, min_length=1, max_length=64)

    @field_validator("body")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        try:
            fields = [(name, spec, conv) for _, name, spec, conv in Formatter().parse(value)]
        except ValueError as exc:
            raise ValueError(f"{exc}: write a literal brace as {{{{ or }}}}") from None
        for name, spec, conversion in fields:
            if name is None:
                continue
            if name not in MACRO_PLACEHOLDERS or spec or conversion:
                known = ", ".join(f"{{{p}}}" for p in MACRO_PLACEHOLDERS)
                raise ValueError(f"unknown placeholder {{{name}}}: a macro may use {known}")
        return value
