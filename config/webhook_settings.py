"""Outgoing webhooks: where they may go, how long a receiver is waited for, when to retry."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from config.base import Frozen

# Standard Webhooks' suggested schedule (as Svix retries): after 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h and 10 h: about 27 hours from the first attempt to the last
DEFAULT_RETRY_SCHEDULE_S = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class WebhookSettings(Frozen):
    # receivers on loopback, private (RFC 1918, fc00::/7), link-local, shared or reserved
    # addresses are refused, when subscribing and at every delivery, unless allowed here:
    # all of them, or the networks listed (CIDR, e.g. "10.20.0.0/16")
    allow_private_networks: bool = False
    allowed_networks: tuple[str, ...] = ()
    connect_timeout_s: float = Field(3.0, gt=0, le=60)
    timeout_s: float = Field(10.0, gt=0, le=120)  # the whole answer, after connecting
    # waits between attempts: one attempt more than the waits; then the delivery has
    # failed and its subscription is paused (and the admins told)
    retry_schedule_s: tuple[float, ...] = Field(DEFAULT_RETRY_SCHEDULE_S, max_length=50)
    user_agent: str = "relaydesk-webhooks/1"
    # events older than this are deleted with their deliveries (those still under way wait)
    keep_days: int = Field(30, ge=1, le=3650)

    @field_validator("allowed_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not a network (CIDR)") from None
        return value

    @field_validator("retry_schedule_s")
    @classmethod
    def _waits(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(wait < 0 for wait in value):
            raise ValueError("a wait cannot be negative")
        return value
