"""SIGTERM and SIGINT for a process that serves the web app, from its first moment.

A stop asked for while the process is still starting (building its runtime, its
connectors, the app) is kept, and ends uvicorn as soon as it runs: the process shuts
down as after a stop while it serves (uvicorn's graceful shutdown, then the caller's
clean-up) and exits 0, where the default action of the signal would have killed it
half-started (exit -15).
"""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uvicorn


class WebStop:
    """Installs its handlers when made: make it first thing in the process."""

    def __init__(self) -> None:
        self.asked = False
        self._server: uvicorn.Server | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._ask)

    def _ask(self, _signum: int, _frame: FrameType | None) -> None:
        self.asked = True
        if self._server is not None:
            self._server.should_exit = True

    def serve(self, server: uvicorn.Server, sockets: list[socket.socket] | None) -> None:
        """Run ``server`` until a stop is asked for (at once if one already was).

        While it runs uvicorn handles the signals itself; when it returns it puts these
        handlers back and raises again the signal it caught, which is then harmless."""
        self._server = server
        if self.asked:
            server.should_exit = True  # uvicorn starts, sees it, and shuts down
        server.run(sockets=sockets)
