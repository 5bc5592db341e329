"""The Redis a benchmark runs on: RELAYDESK_BENCH_REDIS when set, else a private
redis-server started for the run on a free port (the machine's Redis is never touched).

A benchmark calls ``bench_redis()`` around its run; its processes, started with the
environment, read the same URL through ``RELAYDESK_BENCH_REDIS``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.redis_server import private_redis_server

ENV = "RELAYDESK_BENCH_REDIS"


def redis_url() -> str:
    """The URL ``bench_redis`` chose (read where a benchmark needs it, after it started)."""
    url = os.environ.get(ENV)
    if not url:
        raise RuntimeError("no Redis for the benchmark: run it inside bench_redis()")
    return url


@contextmanager
def bench_redis() -> Iterator[str]:
    given = os.environ.get(ENV)
    if given:
        yield given
        return
    with private_redis_server() as url:
        os.environ[ENV] = url
        try:
            yield url
        finally:
            os.environ.pop(ENV, None)
