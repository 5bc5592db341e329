"""The clients of ``benchmarks.web_intake --load``: locust users posting web tickets.

Run by locust (a dev dependency) in a process of its own, never imported by the
benchmark itself (locust patches the standard library for gevent when imported).
Each user posts ``POST /api/v1/tickets`` as fast as it is answered, each request with
an Idempotency-Key of its own.
"""

from __future__ import annotations

import itertools
import os

from locust import FastHttpUser, constant, task

_numbers = itertools.count()
_RUN = os.environ.get("WEB_LOAD_RUN", "load")


class WebSubmitter(FastHttpUser):
    wait_time = constant(0)

    @task
    def submit(self) -> None:
        n = next(_numbers)
        self.client.post(
            "/api/v1/tickets",
            json={
                "requester": {"name": f"Customer {n}", "email": f"customer{n}@example.org"},
                "subject": f"Request {n}",
                "body": "Something is broken, please help.",
            },
            headers={"Idempotency-Key": f"{_RUN}-{n}"},
            name="POST /api/v1/tickets",
        )
