"""The Telegram channel: the bot's token, polling or webhook, limits and links."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from config.base import Frozen


class TelegramSettings(Frozen):
    """One support bot: customers write to it, linked agents work from it.

    The token is given by an environment variable's name (``token_env``), a
    file's path (``token_file``) or inline (``token``, not recommended); it is
    never printed or logged. ``RELAYDESK_TELEGRAM__TOKEN`` works too.
    """

    enabled: bool = False
    token: str = Field("", repr=False)
    token_env: str = ""
    token_file: str = ""
    base_url: str = "https://api.telegram.org/bot"  # the Bot API server (a local one works)
    base_file_url: str = "https://api.telegram.org/file/bot"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout_s: int = Field(25, ge=0, le=50)  # long polling: how long getUpdates waits
    webhook_url: str = ""  # the public https URL Telegram posts to (webhook mode)
    webhook_path: str = Field("/telegram/webhook", pattern=r"^/[A-Za-z0-9_./-]*$")
    # checked on every webhook request (the X-Telegram-Bot-Api-Secret-Token header)
    secret_token: str = Field("", repr=False)
    secret_token_env: str = ""
    timeout_s: float = Field(10.0, gt=0)
    max_attachment_bytes: int = Field(20_000_000, gt=0)  # the Bot API serves at most 20 MB
    messages_per_s: int = Field(30, ge=1)  # per bot (Telegram's limit is about 30)
    messages_per_chat_s: int = Field(1, ge=1)  # per chat (Telegram's limit is about 1)
    max_retry_after_s: float = Field(5.0, gt=0)  # wait in place for a 429 up to this long
    link_code_ttl_s: int = Field(900, ge=60)  # how long `agents link` codes are valid
    web_ticket_url: str = ""  # e.g. "https://desk.example.com/tickets/{number}": Open in web

    def resolved_token(self) -> str:
        if self.token_env:
            return os.environ.get(self.token_env, "")
        if self.token_file:
            return Path(self.token_file).read_text().strip()
        return self.token

    def resolved_secret(self) -> str:
        if self.secret_token_env:
            return os.environ.get(self.secret_token_env, "")
        return self.secret_token

    def ticket_url(self, number: int) -> str | None:
        return self.web_ticket_url.format(number=number) if self.web_ticket_url else None

    @model_validator(mode="after")
    def _complete(self) -> TelegramSettings:
        if sum(bool(x) for x in (self.token, self.token_env, self.token_file)) > 1:
            raise ValueError("give the token one way: token, token_env or token_file")
        if not self.enabled:
            return self
        if not (self.token or self.token_env or self.token_file):
            raise ValueError("enabled without a token: set token_env (or token_file)")
        if self.mode == "webhook":
            if not self.webhook_url.startswith("https://") and "127.0.0.1" not in self.webhook_url:
                raise ValueError("webhook mode needs webhook_url, an https:// URL")
            if not (self.secret_token or self.secret_token_env):
                raise ValueError("webhook mode needs secret_token (or secret_token_env)")
        if self.web_ticket_url and "{number}" not in self.web_ticket_url:
            raise ValueError("web_ticket_url must contain {number}")
        return self
