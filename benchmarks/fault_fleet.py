"""The fleet the fault benchmark runs against, and the services it breaks.

Everything here is private to one run: a PostgreSQL cluster made with initdb on a free
port (so it can be restarted without touching the machine's), a redis-server on a free
port keeping nothing on disk (so a restart wipes it), and the relaydesk processes an
operator runs (web, scheduler, the SMTP, IMAP and Telegram connectors, a worker
supervisor with its worker processes), each a real process started with
``python -m workers``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.processes import Background, child_pids, relaydesk_env, run, wait_until
from tests.support.services import free_port


def _postgres_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed (PostgreSQL's server binaries)")
    return found


def _wait_listening(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb) on a free loopback port; trust auth.

    PostgreSQL refuses to run as root: as root, the cluster belongs to ``postgres``.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="relaydesk-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self._run(
            _postgres_binary("initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            _postgres_binary("pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.root / "postgres.log"), "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(_postgres_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop (every connection is cut) and start again on the same port."""
        self.stop()
        self.start()

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A redis-server of our own on a free port that keeps nothing on disk, so that
    ``wipe`` (kill -9, start again on the same port) loses every queued message."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="relaydesk-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", str(self.root),
                "--logfile", str(self.root / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_listening(self.port, 10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def wipe(self) -> None:
        """The broker dies with everything queued in it, and comes back empty."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


CONFIG = """
[helpdesk]
name = "relaydesk faults"
address = "support@desk.test"
default_team = "support"

[smtp]
transport = "smtp"
host = "127.0.0.1"
port = {relay_port}

[broker]
namespace = "faults"

[web]
host = "127.0.0.1"
port = {web_port}

[email]
attachments_dir = "{files}"

[email.inbound_smtp]
host = "127.0.0.1"
port = {smtp_port}
addresses = ["support@desk.test"]

[[email.mailboxes]]
name = "support"
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{imap_user}"
password_env = "FAULTS_IMAP_PASSWORD"
address = "support@desk.test"

[telegram]
enabled = true
token_env = "FAULTS_TELEGRAM_TOKEN"
base_url = "{telegram_url}/bot"
base_file_url = "{telegram_url}/file/bot"
messages_per_chat_s = 5
# getUpdates waits a second, not 25: a stopping connector waits out the long poll in flight
poll_timeout_s = 1

[[teams]]
name = "support"
{agents}
"""

AGENT = """
[[agents]]
name = "agent{i}"
email = "agent{i}@desk.test"
teams = ["support"]
capacity = 10000
status = "online"
"""


class Fleet:
    """The relaydesk processes of a distributed deployment, started as an operator would."""

    def __init__(self, env: dict[str, str], *, processes: int, threads: int) -> None:
        self.env = env
        self.web_port = int(env["FAULTS_WEB_PORT"])
        self.smtp_port = int(env["FAULTS_SMTP_PORT"])
        self.processes = processes
        self.workers = Background(
            ["worker", "--processes", str(processes), "--threads", str(threads)], env
        )
        self.others = {
            kind: Background(args, env)
            for kind, args in {
                "scheduler": ["scheduler"],
                "web": ["web"],
                "smtp": ["connector", "smtp"],
                "imap": ["connector", "imap"],
                "telegram": ["connector", "telegram"],
            }.items()
        }
        self.kills = 0

    @classmethod
    def deploy(
        cls,
        root: Path,
        *,
        database_url: str,
        broker_url: str,
        relay_port: int,
        imap_port: int,
        imap_user: str,
        imap_password: str,
        telegram_url: str,
        telegram_token: str,
        agents: int,
    ) -> dict[str, str]:
        """Write the configuration, migrate the store: the fleet's environment."""
        web_port, smtp_port = free_port(), free_port()
        config = root / "relaydesk.toml"
        config.write_text(
            CONFIG.format(
                relay_port=relay_port, web_port=web_port, smtp_port=smtp_port,
                files=root / "files", imap_port=imap_port, imap_user=imap_user,
                telegram_url=telegram_url,
                agents="".join(AGENT.format(i=i) for i in range(agents)),
            )
        )  # fmt: skip
        env = relaydesk_env(
            config,
            RELAYDESK_DATABASE_URL=database_url,
            RELAYDESK_BROKER_URL=broker_url,
            FAULTS_IMAP_PASSWORD=imap_password,
            FAULTS_TELEGRAM_TOKEN=telegram_token,
        )
        migrated = run(["migrate"], env, timeout=600)  # a busy machine takes its time
        if migrated.returncode != 0:
            raise RuntimeError(f"relaydesk migrate failed: {migrated.stderr}")
        return {**env, "FAULTS_WEB_PORT": str(web_port), "FAULTS_SMTP_PORT": str(smtp_port)}

    def wait_started(self) -> None:
        self.workers.wait_for_output("threads on", 60)
        self.others["scheduler"].wait_for_output("relaydesk scheduler", 60)
        self.others["smtp"].wait_for_output("inbound SMTP on", 60)
        self.others["telegram"].wait_for_output("polling", 60)
        _wait_listening(self.web_port, 60)
        self.wait_full_strength(120)

    def worker_pids(self) -> list[int]:
        """The worker processes that are consuming (not booting, not the resource tracker)."""
        consuming = {int(p) for p in re.findall(r"worker (\d+) consuming", self.workers.output())}
        return [p for p in child_pids(self.workers.proc.pid) if p in consuming]

    def wait_full_strength(self, timeout: float) -> None:
        """Until every worker process the supervisor keeps is consuming."""
        wait_until(
            lambda: len(self.worker_pids()) >= self.processes,
            timeout,
            lambda: self.workers.output()[-3000:],
        )

    def kill_worker(self, rng: random.Random) -> int:
        """kill -9 one worker process once all are consuming (its supervisor starts another)."""
        self.wait_full_strength(120)
        victim = rng.choice(self.worker_pids())
        os.kill(victim, signal.SIGKILL)
        self.kills += 1
        return victim

    def restarts(self) -> int:
        return len(re.findall(r"exited \(-9\), restarting", self.workers.output()))

    def outputs(self) -> dict[str, str]:
        return {
            "worker": self.workers.output(),
            **{kind: proc.output() for kind, proc in self.others.items()},
        }

    def stop(self) -> None:
        """SIGTERM to every process at once, then wait; what is left is killed."""
        procs = [*self.others.values(), self.workers]
        for proc in procs:
            if proc.proc.poll() is None:
                proc.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.proc.wait(max(deadline - time.monotonic(), 0.1))
            proc.kill_group()
