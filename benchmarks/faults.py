"""Nothing accepted is lost: a paced mixed load against a distributed fleet, with faults.

    python -m benchmarks.faults [--rate 4] [--kills 20] [--kill-every 8] [--settle 35]
                                [--until-recovered]
                                [--faults kill,broker,postgres,smtp_cut,dovecot,bot_api_502]
                                [--no-together] [--processes 2] [--threads 4]

Needs PostgreSQL's server binaries (initdb, pg_ctl), redis-server and Dovecot installed;
it touches no running service: it makes a PostgreSQL cluster of its own with initdb on
a free port, starts a redis-server of its own on a free port, a Dovecot of its own, the
loopback Bot API server of the test suite and an SMTP sink (aiosmtpd) as the relay,
then the fleet an operator runs (``relaydesk web``, ``scheduler``, ``connector smtp``,
``connector imap``, ``connector telegram`` and ``worker --processes 2 --threads 4``),
all with the shipped default settings but a Telegram long poll of one second
(``fault_fleet.CONFIG``: the connector waits out the poll in flight when it stops).

Customers write in at ``--rate`` inputs per second, in turn by the web API, SMTP, a
mail into the IMAP mailbox and a Telegram message, each sender retrying until its
input is accepted. Each fault comes on its own, ``--settle`` seconds apart (with
``--until-recovered``, as soon as the last one is recovered from, at most ``--settle``
seconds after it: what the test suite runs):

- ``kill``: kill -9 of a worker process, ``--kills`` times, ``--kill-every`` s apart
  (the worker supervisor starts another);
- ``broker``: the redis-server killed and started again empty (every message lost);
- ``postgres``: the cluster stopped and started again (every connection cut);
- ``smtp_cut``: for five seconds, every SMTP client first drops its connection half-way
  through DATA, then sends again as an MTA does;
- ``dovecot``: ten mails into the mailbox, then Dovecot restarted while the poller
  fetches them;
- ``bot_api_502``: the Bot API answers 502 to everything for ten seconds;

then all of them at once (``together``). The load stops, the backlog drains, and every
accepted input is reconciled with the store (its inbox row, one ticket) and every outbox
row with what the SMTP sink and the Bot API server received.

The last line is key=value: accepted, tickets, lost (accepted, no ticket),
duplicated_tickets, duplicated_deliveries (a mail or chat message received more than
once), undelivered, kills, then recovery_<kind>_p50_s and _max_s per fault kind: from
the fault's end until every input accepted before it is done (ticket assigned, its
acknowledgement and agent notice delivered) and a new one is too.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from benchmarks.fault_fleet import Fleet, PrivatePostgres, PrivateRedis
from benchmarks.fault_ledger import Fault, Ledger, reconcile, summarise
from benchmarks.fault_load import Load
from tests.support.dovecot import Dovecot
from tests.support.smtp_sink import SmtpSink
from tests.support.telegram_server import TelegramServer

KINDS = ("kill", "broker", "postgres", "smtp_cut", "dovecot", "bot_api_502")
CUT_S = 5.0
OUTAGE_S = 10.0


class Injector:
    """Each fault, done to the services of this run; returns when the thing is back."""

    def __init__(
        self,
        fleet: Fleet,
        postgres: PrivatePostgres,
        broker: PrivateRedis,
        dovecot: Dovecot,
        telegram: TelegramServer,
        load: Load,
        rng: random.Random,
    ) -> None:
        self.fleet, self.postgres, self.broker = fleet, postgres, broker
        self.dovecot, self.telegram, self.load, self.rng = dovecot, telegram, load, rng

    def kill(self) -> None:
        self.fleet.kill_worker(self.rng)

    def broker_wipe(self) -> None:
        self.broker.wipe()

    def postgres_restart(self) -> None:
        self.postgres.restart()

    def smtp_cut(self) -> None:
        self.load.cutting.set()
        time.sleep(CUT_S)
        self.load.cutting.clear()

    def dovecot_restart(self) -> None:
        self.load.burst_imap(10)
        time.sleep(0.3)  # the poller is told and fetches
        self.dovecot.restart()

    def bot_api_502(self) -> None:
        self.telegram.fail_for(OUTAGE_S, 502)
        time.sleep(OUTAGE_S)

    def by_kind(self) -> dict[str, Callable[[], None]]:
        return {
            "kill": self.kill,
            "broker": self.broker_wipe,
            "postgres": self.postgres_restart,
            "smtp_cut": self.smtp_cut,
            "dovecot": self.dovecot_restart,
            "bot_api_502": self.bot_api_502,
        }


def timed(kind: str, act: Callable[[], None]) -> Fault:
    started = time.monotonic()
    act()
    return Fault(kind, started, time.monotonic())


def together(injector: Injector, kinds: list[str]) -> Fault:
    """Every fault at once, each in its own thread; over when the last is."""
    acts = injector.by_kind()
    started = time.monotonic()
    threads = [threading.Thread(target=acts[k], name=f"fault-{k}") for k in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Fault("together", started, time.monotonic())


def settle(fault: Fault, seconds: float, ledger: Ledger | None) -> None:
    """Wait ``seconds`` after ``fault``; with a ledger, only until the fault is recovered
    from (every input accepted before its end done, and a new one), at most that long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ledger is not None and ledger.recovered(fault):
            return
        time.sleep(min(0.25, max(deadline - time.monotonic(), 0)))


def run_faults(
    injector: Injector, args: argparse.Namespace, ledger: Ledger | None = None
) -> list[Fault]:
    """The faults of ``args`` in turn, then together; each settled (``settle``) with
    ``ledger`` if given, else for the whole ``--settle``."""
    faults: list[Fault] = []
    acts = injector.by_kind()
    for kind in args.faults:
        if kind == "kill":
            for n in range(args.kills):
                faults.append(timed("kill", acts["kill"]))
                print(f"  kill {n + 1}/{args.kills}", flush=True)
                time.sleep(args.kill_every)
            settle(faults[-1], max(args.settle - args.kill_every, 0), ledger)
            continue
        faults.append(timed(kind, acts[kind]))
        print(f"  {kind}: {faults[-1].ended - faults[-1].started:.1f} s", flush=True)
        settle(faults[-1], args.settle, ledger)
    if args.together:
        faults.append(together(injector, list(args.faults)))
        print("  together", flush=True)
        settle(faults[-1], args.settle, ledger)
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=4.0, help="Inputs per second offered.")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=8.0)
    parser.add_argument("--settle", type=float, default=35.0, help="Seconds between faults.")
    parser.add_argument(
        "--until-recovered",
        action="store_true",
        help="Next fault once the last is recovered from (at most --settle seconds after).",
    )
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument(
        "--faults",
        type=lambda s: [k for k in s.split(",") if k],
        default=list(KINDS),
        help=f"Which, in order (default all: {','.join(KINDS)}).",
    )
    parser.add_argument("--no-together", dest="together", action="store_false")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--drain-timeout", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--explain", action="store_true", help="Show where the slowest input of each fault waited."
    )
    parser.add_argument("--logs", type=Path, help="Write each process's output here.")
    args = parser.parse_args()
    unknown = set(args.faults) - set(KINDS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    with ExitStack() as stack:
        run(stack, args)


def run(stack: ExitStack, args: argparse.Namespace) -> None:
    root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="relaydesk-faults-")))
    postgres = PrivatePostgres()
    stack.callback(postgres.close)
    postgres.start()
    broker = PrivateRedis()
    stack.callback(broker.close)
    broker.start()
    sink = stack.enter_context(SmtpSink())
    dovecot = stack.enter_context(Dovecot())
    mailbox = dovecot.new_account("faults")
    telegram = stack.enter_context(TelegramServer())
    env = Fleet.deploy(
        root,
        database_url=postgres.url,
        broker_url=broker.url,
        relay_port=sink.port,
        imap_port=dovecot.port,
        imap_user=mailbox.user,
        imap_password=mailbox.password,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
        agents=args.agents,
    )
    fleet = Fleet(env, processes=args.processes, threads=args.threads)
    stack.callback(fleet.stop)
    if args.logs:
        stack.callback(_write_logs, fleet, args.logs)
    fleet.wait_started()
    load = Load(
        web_url=f"http://127.0.0.1:{fleet.web_port}",
        smtp_port=fleet.smtp_port,
        dovecot=dovecot,
        imap_user=mailbox.user,
        telegram=telegram,
        rate=args.rate,
    )
    ledger = Ledger(postgres.url, load)
    ledger.start()
    stack.callback(ledger.stop)
    print(f"load: {args.rate:g} inputs/s (web, SMTP, IMAP, Telegram in turn)", flush=True)
    load.start()
    started = time.monotonic()
    time.sleep(args.warmup)
    injector = Injector(fleet, postgres, broker, dovecot, telegram, load, random.Random(args.seed))
    faults = run_faults(injector, args, ledger if args.until_recovered else None)
    load.stop()
    drained = ledger.wait_drained(args.drain_timeout)
    print(f"drained: {drained}", flush=True)
    figures = reconcile(postgres.url, load, sink, telegram)
    recoveries: dict[str, list[float]] = defaultdict(list)
    for fault in faults:
        recoveries[fault.kind].append(ledger.recovery(fault))
        print(
            f"  {fault.kind} at {fault.ended - started:.0f} s: recovered in "
            f"{recoveries[fault.kind][-1]:.1f} s",
            flush=True,
        )
        slowest = ledger.slowest(fault)
        if args.explain and slowest is not None:
            print("\n".join("    " + line for line in ledger.timeline(slowest, fault)))
    never = [i.token for i in load.snapshot() if i.accepted_at is None]
    print(
        f"offered {figures['offered']}, accepted {figures['accepted']} "
        f"(never accepted: {len(never)}), SMTP clients cut mid-DATA: {load.cuts}, "
        f"worker processes killed: {fleet.kills} (restarted: {fleet.restarts()})",
        flush=True,
    )
    line = {
        "accepted": str(figures["accepted"]),
        "tickets": str(figures["tickets"]),
        "lost": str(figures["lost"]),
        "duplicated_tickets": str(figures["duplicated_tickets"]),
        "duplicated_deliveries": str(figures["duplicated_deliveries"]),
        "undelivered": str(figures["undelivered"]),
        "kills": str(fleet.kills),
        **summarise(recoveries),
    }
    print(" ".join(f"{k}={v}" for k, v in line.items()), flush=True)


def _write_logs(fleet: Fleet, where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for kind, text in fleet.outputs().items():
        (where / f"{kind}.log").write_text(text)


if __name__ == "__main__":
    main()
