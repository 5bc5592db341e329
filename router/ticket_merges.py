"""Merging two tickets of one requester: which merges are refused, and why. Pure.

The source closes as merged into the target: its messages move there (each marked
with the ticket it came from), and whatever still arrives on its thread (a mail
answering it, its chat, its requester's page) joins the target instead
(``follow_merges``). A merge is refused when it could not mean that.
"""

from __future__ import annotations

from dataclasses import dataclass

from router.vocabulary import Status

MAX_HOPS = 20  # a chain of merges followed this far at most (a merge never makes a loop)


@dataclass(frozen=True)
class MergeSide:
    """What a merge asks of one of its two tickets."""

    number: int
    status: Status
    requester_id: int
    merged_into: int | None


def merge_refusal(source: MergeSide, target: MergeSide) -> str | None:
    """Why ``source`` may not be merged into ``target``; None when it may."""
    if source.number == target.number:
        return f"ticket #{source.number} cannot be merged into itself"
    for side in (source, target):
        if side.merged_into is not None:
            return f"ticket #{side.number} was merged into #{side.merged_into} already"
    if source.requester_id != target.requester_id:
        return (
            f"tickets #{source.number} and #{target.number} have different requesters: "
            "only a requester's own tickets are merged"
        )
    if source.status is Status.CLOSED:
        return f"ticket #{source.number} is closed"
    if target.status is Status.CLOSED:
        return f"ticket #{target.number} is closed: merge into an open one"
    return None
