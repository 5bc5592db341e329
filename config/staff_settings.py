"""Staff sign-in: how long a session lasts and how many failed sign-ins are allowed."""

from __future__ import annotations

from pydantic import Field

from config.base import Frozen


class StaffSettings(Frozen):
    # a session ends after this long without a request, and this long after sign-in at most
    session_idle_s: int = Field(8 * 3600, ge=60, le=30 * 86400)
    session_max_age_s: int = Field(7 * 86400, ge=60, le=365 * 86400)
    # failed sign-ins allowed per window: per account, and per client address
    failures_per_account: int = Field(5, ge=1, le=1000)
    failures_per_address: int = Field(30, ge=1, le=100_000)
    failure_window_s: int = Field(900, ge=1, le=86400)
    min_password_chars: int = Field(10, ge=8, le=1024)
    # Argon2id cost of a new password hash (RFC 9106's second recommendation by default);
    # a sign-in with a hash of other costs rehashes it. Lower only in tests.
    argon2_time_cost: int = Field(3, ge=1, le=50)
    argon2_memory_kib: int = Field(65536, ge=1024, le=4 * 1024 * 1024)
