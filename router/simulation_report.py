"""A desk simulation as plain data: what the command line's JSON and the staff API say.

The classification keys stay at the top level (as ``relaydesk rules simulate`` first
wrote them); ``routing`` and ``sla`` sit beside them.
"""

from __future__ import annotations

from typing import Any

from router.desk_simulation import DeskSimulation
from router.routing_shift import Pair, RoutingShift, Share
from router.rule_simulation import Simulation
from router.sla_simulation import KINDS, ClockTally, Move, SlaTally, Verdict


def report(result: DeskSimulation) -> dict[str, Any]:
    return {
        **classification(result.classification),
        "routing": routing(result.routing),
        "sla": sla(result.sla),
    }


def classification(result: Simulation) -> dict[str, Any]:
    return {
        "tickets": result.tickets,
        "changed": result.changed,
        "changes": [
            {
                "field": c.field,
                "from": c.before,
                "to": c.after,
                "count": c.count,
                "examples": list(c.examples),
            }
            for c in result.changes
        ],
        "rules_never_matched": list(result.rules_never_matched),
        "unmatched": result.unmatched,
        "unmatched_examples": list(result.unmatched_examples),
    }


def routing(result: RoutingShift) -> dict[str, Any]:
    return {
        "tickets": result.tickets,
        "assigned": _pair(result.assigned),
        "waited_for_a_slot": _pair(result.waited),
        "never_assigned": _pair(result.never_assigned),
        "unrouted": [
            {
                "reason": u.reason.value,
                "current": u.current,
                "candidate": u.candidate,
                "examples": list(u.examples),
            }
            for u in result.unrouted
        ],
        "agents": _shares(result.agents, result.assigned),
        "teams": _shares(result.teams, Pair(result.tickets, result.tickets)),
        "urgent": _pair(result.urgent),
        "urgent_to_seniors": _pair(result.urgent_to_seniors),
    }


def sla(result: SlaTally) -> dict[str, Any]:
    return {
        "tickets": result.tickets,
        "as_of": result.as_of.isoformat(),
        "policy_changes": [
            {"from": before, "to": after, "count": n}
            for (before, after), n in sorted(result.policies.items(), key=lambda i: -i[1])
        ],
        **{kind: clock(result.clocks[kind]) for kind in KINDS},
    }


def clock(tally: ClockTally) -> dict[str, Any]:
    return {
        "moves": {m.value: tally.moves[m] for m in Move},
        "mean_shift_minutes": round(tally.mean_shift_s / 60, 1),
        "current": {v.value: tally.current[v] for v in Verdict},
        "candidate": {v.value: tally.candidate[v] for v in Verdict},
        "met_to_breached": {
            "count": tally.met_to_breached,
            "examples": list(tally.met_to_breached_examples),
        },
        "breached_to_met": {
            "count": tally.breached_to_met,
            "examples": list(tally.breached_to_met_examples),
        },
    }


def share(part: int, whole: int) -> float:
    """A percentage with one decimal; 0 of nothing is 0."""
    return round(100 * part / whole, 1) if whole else 0.0


def _pair(pair: Pair) -> dict[str, int]:
    return {"current": pair.current, "candidate": pair.candidate}


def _shares(shares: tuple[Share, ...], whole: Pair) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "current": s.current,
            "candidate": s.candidate,
            "current_share": share(s.current, whole.current),
            "candidate_share": share(s.candidate, whole.candidate),
        }
        for s in shares
    ]
