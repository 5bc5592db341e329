"""Run ``relaydesk`` commands as real processes, as an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATE_TIMEOUT_S = 180


def relaydesk_env(config: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env.update({"RELAYDESK_CONFIG": str(config), "PYTHONUNBUFFERED": "1", **extra})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def migrated_env(
    config: Path, database_url: str, broker_url: str, **extra: str
) -> tuple[dict[str, str], str]:
    """The environment of a deployment on ``database_url`` and ``broker_url`` once
    ``relaydesk migrate`` has run in it; and what migrate printed."""
    env = relaydesk_env(
        config, RELAYDESK_DATABASE_URL=database_url, RELAYDESK_BROKER_URL=broker_url, **extra
    )
    # about 3 s of CPU; on a machine at load 16-20 it once took over 60 s of wall
    migrated = run(["migrate"], env, timeout=MIGRATE_TIMEOUT_S)
    assert migrated.returncode == 0, migrated.stderr
    return env, migrated.stdout


def run(
    args: list[str], env: dict[str, str], timeout: float = MIGRATE_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


class Background:
    """A long-running relaydesk process whose output goes to a file we can read."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (lives as long as the process)
            prefix="relaydesk-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workers", *args],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=cwd or ROOT,
            start_new_session=True,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30) -> str:
        wait_until(lambda: text in self.output(), timeout, lambda: self.output())
        return self.output()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode

    def kill_group(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def wait_until(
    predicate: Callable[[], object], timeout: float, describe: Callable[[], str] = lambda: ""
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s\n{describe()}")
        time.sleep(0.1)


def child_pids(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []
