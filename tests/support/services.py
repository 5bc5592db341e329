"""Reach the real servers the integration tests need: skip on a laptop, fail in CI."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from sqlalchemy import Connection

PG_ADMIN_URL = os.environ.get(
    "RELAYDESK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def require(name: str, host: str, port: int) -> None:
    """Skip the test when ``name`` is not listening, unless ``CI`` is set: then fail."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def fresh_postgres_database(*, durable: bool = False) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test run; dropped afterwards.
    ``durable``: its commits wait for the WAL flush as a deployment's do (a benchmark's:
    every one passes it, tests/unit/test_benchmark_databases.py); else a test's
    (``create_database``)."""
    from sqlalchemy import create_engine, text

    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"relaydesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            create_database(conn, name, durable=durable)
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def create_database(
    admin: Connection, name: str, *, template: str | None = None, durable: bool = False
) -> None:
    """Create the test's database ``name`` (a copy of ``template`` if given) whose commits
    do not wait for the server's write-ahead log to reach the disk (synchronous_commit
    off, for every connection to it, the relaydesk processes' included): a commit is
    as atomic and as visible as before, and only a crash of the server itself could
    lose the last ones, which a test's database never outlives. A flush took several
    times a commit without it on this machine's disk (3.5-4.4 against 0.6 ms at load 6,
    8-9 against 1.0-1.2 ms at load 16). ``durable``: as the server's setting says (a
    benchmark's: it measures what a deployment pays)."""
    from sqlalchemy import text

    copied = f' TEMPLATE "{template}"' if template else ""
    admin.execute(text(f'CREATE DATABASE "{name}"{copied}'))
    if not durable:
        admin.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def private_rabbitmq_vhost() -> Iterator[str]:
    """An ``amqp://`` URL on a virtual host of its own, deleted afterwards: the test's
    queues never meet another program's (RabbitMQ has no key prefix like Redis)."""
    import shutil
    import subprocess

    require("RabbitMQ", "127.0.0.1", 5672)
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    vhost = f"relaydesk_test_{uuid.uuid4().hex[:12]}"

    def call(*args: str) -> None:
        subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60)

    try:
        call("add_vhost", vhost)
        call("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    except (OSError, subprocess.SubprocessError) as exc:
        message = f"cannot make a private RabbitMQ virtual host with {ctl}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run([ctl, "-q", "delete_vhost", vhost], capture_output=True, timeout=60)
