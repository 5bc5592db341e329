"""The paced mixed load of the fault benchmark: customers writing in by web, SMTP, IMAP
and Telegram, each input retried as its sender would until the desk accepts it.

Accepted means what each channel's sender can know: the web API answered 201/202, the
inbound SMTP server answered 250 to DATA, the mailbox (Dovecot) took the APPEND, the Bot
API server holds the update. Every input carries a token of its own, and the inbox
idempotency key the desk will give it is computed here the way the desk computes it,
so the reconciliation can find each input in the store.
"""

from __future__ import annotations

import itertools
import smtplib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate

import httpx

from connectors.email.normalize import envelope_message
from tests.support.dovecot import Dovecot
from tests.support.telegram_server import TelegramServer

CHANNELS = ("web", "smtp", "imap", "telegram")
GIVE_UP_S = 240.0  # a sender that cannot get its input accepted in this long stops trying


@dataclass
class Input:
    token: str
    channel: str
    offered_at: float
    key: str = ""  # the inbox idempotency key the desk gives it
    accepted_at: float | None = None
    tries: int = 0
    chat_id: int | None = None  # telegram: the customer's chat (one per input)
    errors: list[str] = field(default_factory=list)


class Load:
    def __init__(
        self,
        *,
        web_url: str,
        smtp_port: int,
        dovecot: Dovecot,
        imap_user: str,
        telegram: TelegramServer,
        rate: float,
    ) -> None:
        self.web_url = web_url
        self.smtp_port = smtp_port
        self.dovecot = dovecot
        self.imap_user = imap_user
        self.telegram = telegram
        self.bot_id = int(telegram.token.split(":")[0])
        self.rate = rate
        self.inputs: list[Input] = []
        self.cutting = threading.Event()  # while set, SMTP sends are first cut mid-DATA
        self.cuts = 0
        self._lock = threading.Lock()
        self._chats = itertools.count(70_000_001)
        self._run = uuid.uuid4().hex[:6]
        self._seq = itertools.count()
        self._http = httpx.Client(timeout=30)
        self._pool = ThreadPoolExecutor(32, thread_name_prefix="load")
        self._stop = threading.Event()
        self._pacer: threading.Thread | None = None

    # -- pacing ------------------------------------------------------------------------

    def start(self) -> None:
        self._pacer = threading.Thread(target=self._pace, name="pacer", daemon=True)
        self._pacer.start()

    def stop(self) -> None:
        """Offer nothing more and wait for every sender to be accepted or give up."""
        self._stop.set()
        if self._pacer is not None:
            self._pacer.join()
        self._pool.shutdown(wait=True)
        self._http.close()

    def _pace(self) -> None:
        started = time.monotonic()
        for n in itertools.count():
            delay = started + n / self.rate - time.monotonic()
            if self._stop.wait(max(delay, 0)):
                return
            self.offer(CHANNELS[n % len(CHANNELS)])

    def offer(self, channel: str) -> Input:
        item = Input(f"f{self._run}x{next(self._seq)}", channel, time.monotonic())
        with self._lock:
            self.inputs.append(item)
        self._pool.submit(self._deliver, item)
        return item

    def burst_imap(self, count: int) -> None:
        """``count`` mails into the mailbox at once (the poller then FETCHes them together)."""
        for _ in range(count):
            self.offer("imap")

    def accepted(self) -> list[Input]:
        with self._lock:
            return [i for i in self.inputs if i.accepted_at is not None]

    def snapshot(self) -> list[Input]:
        with self._lock:
            return list(self.inputs)

    # -- one input, retried until accepted ---------------------------------------------

    def _deliver(self, item: Input) -> None:
        send = getattr(self, f"_send_{item.channel}")
        deadline = item.offered_at + GIVE_UP_S
        while time.monotonic() < deadline:
            item.tries += 1
            try:
                send(item)
            except Exception as exc:  # refused or unreachable: the sender tries again
                if len(item.errors) < 5:
                    item.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                time.sleep(min(0.5 * item.tries, 3))
                continue
            item.accepted_at = time.monotonic()
            return

    def _send_web(self, item: Input) -> None:
        item.key = f"web:{item.token}"
        answer = self._http.post(
            f"{self.web_url}/api/v1/tickets",
            headers={"Idempotency-Key": item.token},
            json={
                "requester": {"name": f"Web {item.token}", "email": f"{item.token}@example.org"},
                "subject": f"Web request {item.token}",
                "body": f"The portal does not load ({item.token}).",
            },
        )
        if answer.status_code not in (201, 202):
            raise RuntimeError(f"web answered {answer.status_code}")

    def _mail(self, item: Input) -> bytes:
        mail = EmailMessage()
        mail["From"] = f"Customer {item.token} <{item.token}@example.org>"
        mail["To"] = "support@desk.test"
        mail["Subject"] = f"Mail request {item.token}"
        mail["Message-ID"] = f"<{item.token}@customers.test>"
        mail["Date"] = formatdate()
        mail.set_content(f"My invoice is wrong ({item.token}).\n" + "Details. " * 40)
        raw = mail.as_bytes()
        item.key = envelope_message(raw).idempotency_key
        return raw

    def _send_smtp(self, item: Input) -> None:
        raw = self._mail(item)
        if self.cutting.is_set():
            self._cut_mid_data(raw)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            refused = client.sendmail(f"{item.token}@example.org", ["support@desk.test"], raw)
        if refused:
            raise RuntimeError(f"refused: {refused}")

    def _cut_mid_data(self, raw: bytes) -> None:
        """A client that dies half-way through DATA: the socket closes, no final dot."""
        client = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30)
        client.ehlo()
        client.mail("cut@example.org")
        client.rcpt("support@desk.test")
        code, _ = client.docmd("DATA")
        if code == 354 and client.sock is not None:
            client.sock.sendall(raw[: len(raw) // 2])
        if client.sock is not None:
            client.sock.close()
        with self._lock:
            self.cuts += 1

    def _send_imap(self, item: Input) -> None:
        raw = self._mail(item)
        self.dovecot.append(self.imap_user, raw)

    def _send_telegram(self, item: Input) -> None:
        if item.chat_id is None:
            item.chat_id = next(self._chats)
        update_id = self.telegram.customer_message(
            item.chat_id, f"The app crashes ({item.token})", first_name="Chat"
        )
        item.key = f"update:{self.bot_id}:{update_id}"
