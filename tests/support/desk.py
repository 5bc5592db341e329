"""An embedded helpdesk for tests: real store, stub broker, real worker threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import dramatiq
from dramatiq.brokers.stub import StubBroker

from config.settings import Settings
from router.envelopes import DeliveryResult, InboundMessage, OutboundMessage
from router.vocabulary import Channel
from workers.channels.intake import StoreIntake
from workers.channels.registry import ChannelRegistry
from workers.runtime.build import build_runtime
from workers.runtime.context import Runtime
from workers.runtime.processes import prepare_database
from workers.runtime.queues import all_queues


def stub_broker(runtime: Runtime) -> StubBroker:
    """The in-process broker a test's desk runs on (``join`` it to settle the desk)."""
    broker = runtime.broker
    assert isinstance(broker, StubBroker), f"a test desk on {type(broker).__name__}"
    return broker


@dataclass
class CollectingSender:
    """A real in-memory channel: keeps what it was given; can be told to fail."""

    sent: list[OutboundMessage] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)  # dramatiq's time limit too
    lock: threading.Lock = field(default_factory=threading.Lock)
    timeouts: list[float | None] = field(default_factory=list)  # each send's timeout_s

    def send(self, message: OutboundMessage, *, timeout_s: float | None = None) -> DeliveryResult:
        with self.lock:
            self.timeouts.append(timeout_s)
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(message)
        return DeliveryResult(external_id=message.message_id, detail="250 ok")

    def close(self) -> None:
        pass

    def to(self, recipient: str) -> list[OutboundMessage]:
        return [m for m in self.sent if m.recipient == recipient]


@dataclass
class Desk:
    runtime: Runtime
    intake: StoreIntake
    sender: CollectingSender

    def settle(self) -> None:
        for _ in range(3):
            for queue in all_queues(self.runtime.channels):
                stub_broker(self.runtime).join(queue, fail_fast=False)

    def submit(self, key: str, sender: str = "jo@example.org", **kw: object) -> int:
        message = InboundMessage(
            channel=kw.pop("channel", Channel.WEB),  # type: ignore[arg-type]
            idempotency_key=key,
            sender_address=sender,
            sender_name=kw.pop("name", "Jo"),  # type: ignore[arg-type]
            subject=kw.pop("subject", f"help with {key}"),  # type: ignore[arg-type]
            body_text=kw.pop("body", "it is broken"),  # type: ignore[arg-type]
            **kw,  # type: ignore[arg-type]
        )
        receipt = self.intake.accept(message)
        self.settle()
        receipt = self.intake.receipt(receipt.inbox_id)  # type: ignore[assignment]
        assert receipt is not None
        return receipt.ticket_number or 0

    def ticket(self, number: int):  # type: ignore[no-untyped-def]
        view = self.intake.ticket(number)
        assert view is not None
        return view


def desk_for(
    settings: Settings, *, real_email: bool = False, channels: ChannelRegistry | None = None
) -> Iterator[Desk]:
    """A running desk; outbound email is collected in memory unless ``real_email``.
    ``channels``: its registry (default: the standard channels)."""
    runtime = build_runtime(settings, channels=channels)
    prepare_database(runtime)
    sender = CollectingSender()
    if not real_email:
        runtime._senders[Channel.EMAIL] = sender
    worker = dramatiq.Worker(runtime.broker, worker_threads=4, worker_timeout=50)
    worker.start()
    try:
        yield Desk(runtime=runtime, intake=StoreIntake(runtime), sender=sender)
    finally:
        worker.stop()
        runtime.close()
