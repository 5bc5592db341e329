"""What the desk tells a requester on its own, and asks of them."""

from __future__ import annotations

from config.base import Frozen


class RequesterSettings(Frozen):
    # tell the requester, on their channel and threaded, that their request was resolved
    # (with the rating question)
    resolved_notice: bool = True
    # ask them to rate the help with each resolution (the notice's links and buttons, the
    # ticket's page)
    ratings: bool = True
