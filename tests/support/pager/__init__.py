"""A small channel of the test suite's own, plugged in through the registry: a pager
gateway that speaks JSON lines through two spool files (no core module knows it)."""
