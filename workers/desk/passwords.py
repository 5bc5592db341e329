"""Password hashes: Argon2id through argon2-cffi, at the costs the settings give."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.staff_settings import StaffSettings

MAX_PASSWORD_CHARS = 1024


@cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=4)


def hasher(settings: StaffSettings) -> PasswordHasher:
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def check_new_password(password: str, settings: StaffSettings) -> None:
    """Raise ``ValueError`` saying what is wrong with ``password`` as a new one."""
    if len(password) < settings.min_password_chars:
        raise ValueError(f"a password needs at least {settings.min_password_chars} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    if password != password.strip():
        raise ValueError("a password must not start or end with spaces")


def hash_password(password: str, settings: StaffSettings) -> str:
    return hasher(settings).hash(password)


def verify_password(password_hash: str | None, password: str, settings: StaffSettings) -> bool:
    """Whether ``password`` matches; with no hash, the same work is done against a hash
    of nothing anyone knows, so a missing account takes as long as a wrong password."""
    ph = hasher(settings)
    try:
        return ph.verify(password_hash or _decoy(settings), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, settings: StaffSettings) -> bool:
    return hasher(settings).check_needs_rehash(password_hash)


@cache
def _decoy_for(time_cost: int, memory_kib: int) -> str:
    import secrets

    return _hasher(time_cost, memory_kib).hash(secrets.token_urlsafe(32))


def _decoy(settings: StaffSettings) -> str:
    return _decoy_for(settings.argon2_time_cost, settings.argon2_memory_kib)
