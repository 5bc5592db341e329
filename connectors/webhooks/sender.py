"""Send one webhook: resolve, refuse what is ours, connect to the address checked, sign, post.

The receiver's name is resolved here, every address it gives is checked
(``router.webhook_policy``), and the request goes to the address that was
checked (Host and TLS server name still the receiver's name): a name that
resolves elsewhere a moment later (DNS rebinding) cannot turn the request
inward. Redirects are not followed; timeouts are short; the answer's body is
not read. httpx's errors become the project's ``TransientError`` here. httpx is imported
when a sender is made or used (a process that sends no webhook does not load it).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from config.webhook_settings import WebhookSettings
from connectors.webhooks.signing import signed_headers
from router.errors import PermanentError, TransientError
from router.webhook_policy import (
    AddressPolicy,
    IPAddress,
    Target,
    address_literal,
    first_refusal,
    parse_url,
)

Resolver = Callable[[str, int], list[IPAddress]]


class ReceiverRefused(PermanentError):
    """The receiver's URL or address is not one webhooks may go to."""


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    message_id: str
    timestamp: datetime
    body: str
    secret: str


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    location: str | None = None  # a redirect's target (never followed)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (``TransientError`` when the lookup fails)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TransientError(f"cannot resolve {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def checked_address(target: Target, policy: AddressPolicy, resolve: Resolver) -> IPAddress:
    """The address to connect to: the literal, or the name's first address, once every
    address the name gives is allowed; ``ReceiverRefused`` says why not."""
    literal = address_literal(target.host)
    addresses = [literal] if literal is not None else resolve(target.host, target.port)
    why = first_refusal(addresses, policy)
    if why is not None:
        raise ReceiverRefused(f"{target.host}: {why}")
    return addresses[0]


def check_receiver(url: str, settings: WebhookSettings, resolve: Resolver = resolve_host) -> None:
    """Refuse, when subscribing, a URL webhooks may not go to (``ReceiverRefused``)."""
    try:
        target = parse_url(url)
    except ValueError as exc:
        raise ReceiverRefused(str(exc)) from None
    checked_address(target, policy_of(settings), resolve)


def policy_of(settings: WebhookSettings) -> AddressPolicy:
    return AddressPolicy.of(settings.allow_private_networks, settings.allowed_networks)


class WebhookSender:
    """One per process: an HTTP client that keeps its connections."""

    def __init__(self, settings: WebhookSettings, resolve: Resolver = resolve_host) -> None:
        import httpx

        self.policy = policy_of(settings)
        self.resolve = resolve
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address checked is the one used
            headers={"User-Agent": settings.user_agent},
        )

    def send(self, request: WebhookRequest) -> WebhookAnswer:
        """Post the signed request; the receiver's answer (any status), or
        ``TransientError`` (no answer: timeout, refused connection, lookup failure) or
        ``ReceiverRefused``."""
        import httpx

        try:
            target = parse_url(request.url)
            url = httpx.URL(request.url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise ReceiverRefused(str(exc)) from None
        address = checked_address(target, self.policy, self.resolve)
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Content-Type": "application/json",
            **signed_headers(
                request.secret,
                message_id=request.message_id,
                timestamp=request.timestamp,
                body=request.body,
            ),
        }
        extensions = {}
        if target.scheme == "https" and address_literal(target.host) is None:
            extensions["sni_hostname"] = url.raw_host.decode("ascii")
        try:
            with self.client.stream(
                "POST",
                url.copy_with(host=str(address)),
                content=request.body.encode("utf-8"),
                headers=headers,
                extensions=extensions,
            ) as response:
                return WebhookAnswer(response.status_code, response.headers.get("location"))
        except httpx.TimeoutException as exc:
            raise TransientError(f"no answer in time ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self.client.close()
