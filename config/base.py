"""Building blocks shared by the settings models: frozen models and secrets."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WithPassword(Frozen):
    """A password given inline, by an environment variable's name, or by a file's path.

    Prefer ``password_env`` or ``password_file``: they keep the secret out of the
    configuration file. ``config check`` never prints any of them.
    """

    password: str = ""
    password_env: str = ""
    password_file: str = ""

    def resolved_password(self) -> str:
        """The password from the environment or a file named in config, else inline."""
        if self.password_env:
            return os.environ.get(self.password_env, "")
        if self.password_file:
            return Path(self.password_file).read_text().strip()
        return self.password
