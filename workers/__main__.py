"""``python -m workers`` is ``relaydesk``."""

from workers.cli import main

main()
