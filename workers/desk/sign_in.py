"""Staff sign-in with a password, the session it opens, and sign-out.

A session's secret (256 random bits) goes into the browser's cookie; the store
keeps only its SHA-256. Failed sign-ins count per account name and per client
address in the store, so every web process refuses alike once either has
reached its limit (``SignInThrottled``: the caller answers 429 with Retry-After).
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from router.audit_origin import ActorRef
from router.credentials import SessionPolicy, secret_hash
from router.errors import SignInRefused, SignInThrottled
from router.sign_in_limits import SignInLimit, account_key, address_key, retry_after_seconds
from router.staff_views import Caller, SignedIn
from router.vocabulary import AuditAction, SystemActor
from workers.desk.assignments import agent_named
from workers.desk.callers import session_caller_of
from workers.desk.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from workers.runtime.context import Runtime

log = logging.getLogger(__name__)


def session_policy(runtime: Runtime) -> SessionPolicy:
    staff = runtime.settings.staff
    return SessionPolicy(
        idle=timedelta(seconds=staff.session_idle_s),
        max_age=timedelta(seconds=staff.session_max_age_s),
    )


def _limits(runtime: Runtime, name: str, address: str | None) -> dict[str, SignInLimit]:
    staff = runtime.settings.staff
    window = timedelta(seconds=staff.failure_window_s)
    return {
        account_key(name): SignInLimit(staff.failures_per_account, window),
        address_key(address): SignInLimit(staff.failures_per_address, window),
    }


def set_password(
    runtime: Runtime, name: str, password: str, *, actor: ActorRef = SystemActor.CLI
) -> int:
    """Set agent ``name``'s password (``ValueError`` when too weak); ends the agent's open
    sessions. Returns how many sessions it ended."""
    staff = runtime.settings.staff
    check_new_password(password, staff)
    hashed = hash_password(password, staff)
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        uow.staff.set_password_hash(agent.id, hashed, now)
        ended = uow.staff_sessions.revoke_all(agent.id, now)
        uow.after_commit(runtime.callers.forget_all)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.AGENT_PASSWORD_SET,
            detail=f"{name}: a new password" + (f", {ended} session(s) ended" if ended else ""),
            now=now,
        )
    return ended


def end_sessions(runtime: Runtime, name: str, *, actor: ActorRef = SystemActor.CLI) -> int:
    """End every open session of agent ``name`` (a lost laptop, a leaving agent); how many."""
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        agent = agent_named(uow, name)
        ended = uow.staff_sessions.revoke_all(agent.id, now)
        uow.after_commit(runtime.callers.forget_all)
        uow.audit.record(
            ticket_id=None,
            actor=actor,
            action=AuditAction.AGENT_SESSIONS_ENDED,
            detail=f"{name}: {ended} open session(s) ended",
            now=now,
        )
    return ended


def sign_in(
    runtime: Runtime, name: str, password: str, *, address: str | None, user_agent: str = ""
) -> SignedIn:
    """Check the password and open a session; ``SignInThrottled`` before checking when the
    account or the address has failed too often, ``SignInRefused`` when it does not match."""
    now = runtime.now()
    limits = _limits(runtime, name, address)
    with runtime.db.unit_of_work() as uow:
        counts = uow.sign_in_failures.counts(list(limits))
        found = uow.staff.password_hash(name)
    waits = [w for key, limit in limits.items() if (w := limit.wait(counts.get(key), now))]
    if waits:
        raise SignInThrottled(retry_after_seconds(max(waits)))
    staff = runtime.settings.staff
    stored = found[1] if found else None
    if found is None or not verify_password(stored, password, staff):
        _count_failure(runtime, limits, name, address)
        raise SignInRefused("wrong name or password")
    agent_id = found[0]
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    policy = session_policy(runtime)
    with runtime.db.unit_of_work() as uow:
        uow.sign_in_failures.forget(account_key(name))
        if stored and needs_rehash(stored, staff):
            uow.staff.set_password_hash(agent_id, hash_password(password, staff), now)
        uow.staff_sessions.forget_ended(
            agent_id, seen_before=now - policy.idle, created_before=now - policy.max_age
        )
        row = uow.staff_sessions.add(
            agent_id=agent_id,
            secret_hash=secret_hash(secret),
            csrf_token=csrf,
            address=address,
            user_agent=user_agent,
            now=now,
        )
        caller = session_caller_of(
            uow,
            agent_id,
            address,
            session_id=row.id,
            csrf_token=csrf,
            expires_at=policy.expires_at(now, now),
        )
        uow.audit.record(
            ticket_id=None,
            actor=caller.origin,
            action=AuditAction.STAFF_SIGNED_IN,
            detail=f"{name} signed in (session {row.id})",
            now=now,
        )
    return SignedIn(secret=secret, caller=caller)


def _count_failure(
    runtime: Runtime, limits: dict[str, SignInLimit], name: str, address: str | None
) -> None:
    now = runtime.now()
    window = max(limit.window for limit in limits.values())
    with runtime.db.unit_of_work() as uow:
        for key, limit in limits.items():
            uow.sign_in_failures.record(key, now=now, window_opened_after=now - limit.window)
        uow.sign_in_failures.prune(opened_before=now - window)
    log.warning("failed sign-in as %r from %s", name[:100], address or "an unknown address")


def remembered_session_caller(
    runtime: Runtime, secret: str, *, address: str | None
) -> Caller | None:
    """The caller this process remembers for a session cookie's secret (``Runtime.callers``),
    without asking the store; None: not remembered (``session_caller`` asks)."""
    if not secret or len(secret) > 200:
        return None
    key = (secret_hash(secret), address)
    return runtime.callers.get(key, version=runtime.config_version, now=runtime.now())


def session_caller(runtime: Runtime, secret: str, *, address: str | None) -> Caller | None:
    """The caller a session cookie's secret stands for, or None (unknown, ended, expired).
    Records when the session was last seen (at most once a minute, or a new address)."""
    remembered = remembered_session_caller(runtime, secret, address=address)
    if remembered is not None:
        return remembered
    if not secret or len(secret) > 200:
        return None
    now = runtime.now()
    key, version = (secret_hash(secret), address), runtime.config_version
    policy = session_policy(runtime)
    with runtime.db.unit_of_work() as uow:
        row = uow.staff_sessions.by_secret_hash(key[0])
        if row is None or not policy.alive(
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            revoked_at=row.revoked_at,
            now=now,
        ):
            return None
        last_seen = row.last_seen_at
        if policy.needs_touch(row.last_seen_at, now) or row.last_seen_from != address:
            uow.staff_sessions.touch(row.id, address, now)
            last_seen = now
        expires_at = policy.expires_at(row.created_at, last_seen)
        caller = session_caller_of(
            uow,
            row.agent_id,
            address,
            session_id=row.id,
            csrf_token=row.csrf_token,
            expires_at=expires_at,
        )
    # remembered until the session is to be touched again (or ends, if sooner)
    until = min(expires_at, last_seen + policy.touch_every)
    runtime.callers.put(key, caller, version=version, until=until)
    return caller


def sign_out(runtime: Runtime, caller: Caller) -> None:
    """End the caller's session (a token has none to end)."""
    if caller.session_id is None:
        return
    now = runtime.now()
    with runtime.db.unit_of_work() as uow:
        uow.after_commit(runtime.callers.forget_all)
        if uow.staff_sessions.revoke(caller.session_id, now):
            uow.audit.record(
                ticket_id=None,
                actor=caller.origin,
                action=AuditAction.STAFF_SIGNED_OUT,
                detail=f"{caller.principal.name} signed out (session {caller.session_id})",
                now=now,
            )
