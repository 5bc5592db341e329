"""A desk simulation as CSV rows and as tables for the terminal (``rules simulate``).

CSV: one row per finding, ``kind, field, from, to, count, examples``:
``change`` (classification), ``rule_never_matched``, ``no_rule_matched``;
``unrouted`` (field: the reason; from/to: tickets currently/with the candidate),
``agent_share`` and ``team_share`` (from/to: tickets; count: the change),
``urgent_to_seniors`` (from/to; count: urgent tickets assigned with the candidate);
``sla_policy`` (from -> to policy); ``sla_move`` (field: the clock, from: how far,
count); ``sla_flip`` (field: the clock, from -> to: met/breached, count, examples).
"""

from __future__ import annotations

import csv
from typing import TextIO

from rich.console import Console
from rich.table import Table

from router.catalogs import Texts
from router.desk_simulation import DeskSimulation
from router.routing_replay import Blocked
from router.routing_shift import RoutingShift, Share
from router.rule_simulation import Simulation
from router.simulation_report import share
from router.sla_simulation import KINDS, Move, SlaTally, Verdict


def _numbers(examples: tuple[int, ...] | list[int]) -> str:
    return " ".join(str(n) for n in examples)


def write_csv(result: DeskSimulation, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(["kind", "field", "from", "to", "count", "examples"])
    rules = result.classification
    for c in rules.changes:
        writer.writerow(["change", c.field, c.before, c.after, c.count, _numbers(c.examples)])
    for name in rules.rules_never_matched:
        writer.writerow(["rule_never_matched", "", name, "", 0, ""])
    writer.writerow(
        ["no_rule_matched", "", "", "", rules.unmatched, _numbers(rules.unmatched_examples)]
    )
    routing = result.routing
    for u in routing.unrouted:
        row = ["unrouted", u.reason.value, u.current, u.candidate, u.candidate]
        writer.writerow([*row, _numbers(u.examples)])
    for kind, shares in (("agent_share", routing.agents), ("team_share", routing.teams)):
        for s in shares:
            writer.writerow([kind, s.name, s.current, s.candidate, s.change, ""])
    seniors = routing.urgent_to_seniors
    row = ["urgent_to_seniors", "", seniors.current, seniors.candidate, routing.urgent.candidate]
    writer.writerow([*row, ""])
    sla = result.sla
    for (before, after), n in sorted(sla.policies.items(), key=lambda i: -i[1]):
        writer.writerow(["sla_policy", "", before, after, n, ""])
    for kind in KINDS:
        tally = sla.clocks[kind]
        for m in Move:
            if tally.moves[m]:
                writer.writerow(["sla_move", kind, m.value, "", tally.moves[m], ""])
        flips = (
            ("met", "breached", tally.met_to_breached, tally.met_to_breached_examples),
            ("breached", "met", tally.breached_to_met, tally.breached_to_met_examples),
        )
        for before, after, n, examples in flips:
            writer.writerow(["sla_flip", kind, before, after, n, _numbers(examples)])


def print_tables(result: DeskSimulation, texts: Texts, console: Console) -> None:
    _classification(result.classification, texts, console)
    _routing(result.routing, texts, console)
    _sla(result.sla, texts, console)


def _classification(result: Simulation, texts: Texts, console: Console) -> None:
    _ = texts.gettext
    console.print(
        texts.ngettext(
            "%(changed)d of %(num)d ticket would be classified differently.",
            "%(changed)d of %(num)d tickets would be classified differently.",
            result.tickets,
            changed=result.changed,
        )
    )
    if result.changes:
        table = Table(title=_("What would change"))
        for header in (_("Field"), _("From"), _("To"), _("Tickets"), _("For example")):
            table.add_column(header)
        words = {
            "category": _("category"),
            "priority": _("priority"),
            "team": _("team"),
            "skills": _("skills"),
        }
        for c in result.changes:
            examples = ", ".join(f"#{n}" for n in c.examples)
            table.add_row(words[c.field], c.before, c.after, str(c.count), examples)
        console.print(table)
    if result.rules_never_matched:
        console.print(
            _(
                "Rules that would never match: %(rules)s",
                rules=", ".join(result.rules_never_matched),
            )
        )
    if result.unmatched:
        examples = ", ".join(f"#{n}" for n in result.unmatched_examples)
        console.print(
            texts.ngettext(
                "%(num)d ticket matches no rule (for example %(examples)s).",
                "%(num)d tickets match no rule (for example %(examples)s).",
                result.unmatched,
                examples=examples,
            )
        )


def _routing(result: RoutingShift, texts: Texts, console: Console) -> None:
    _ = texts.gettext
    console.print(
        _(
            "Routing: %(current)d tickets assigned now, %(candidate)d with the candidate "
            "(%(waited)d of them after waiting for a free slot).",
            current=result.assigned.current,
            candidate=result.assigned.candidate,
            waited=result.waited.candidate,
        )
    )
    if result.unrouted:
        why = {
            Blocked.NO_AGENT_IN_TEAM: _("no agent in the team"),
            Blocked.NO_SKILL: _("nobody with the skills"),
            Blocked.OFFLINE: _("those able are offline or away"),
            Blocked.FULL: _("those able are full"),
        }
        table = Table(title=_("Tickets nobody could take when they arrived"))
        for header in (_("Why"), _("Now"), _("Candidate"), _("For example")):
            table.add_column(header)
        for u in result.unrouted:
            examples = ", ".join(f"#{n}" for n in u.examples)
            table.add_row(why[u.reason], str(u.current), str(u.candidate), examples)
        console.print(table)
    whole = (result.assigned.current, result.assigned.candidate)
    _shares(_("Work per agent"), _("Agent"), result.agents, whole, texts, console)
    whole = (result.tickets, result.tickets)
    _shares(_("Work per team"), _("Team"), result.teams, whole, texts, console)
    console.print(
        _(
            "Urgent tickets taken by senior agents: %(current)d of %(urgent)d now, "
            "%(candidate)d of %(candidate_urgent)d with the candidate.",
            current=result.urgent_to_seniors.current,
            urgent=result.urgent.current,
            candidate=result.urgent_to_seniors.candidate,
            candidate_urgent=result.urgent.candidate,
        )
    )


def _shares(
    title: str,
    who: str,
    shares: tuple[Share, ...],
    whole: tuple[int, int],
    texts: Texts,
    console: Console,
) -> None:
    if not shares:
        return
    _ = texts.gettext
    table = Table(title=title)
    for header in (who, _("Now"), _("Candidate"), _("Change")):
        table.add_column(header)
    for s in shares:
        now = f"{s.current} ({share(s.current, whole[0])}%)"
        then = f"{s.candidate} ({share(s.candidate, whole[1])}%)"
        table.add_row(s.name, now, then, f"{s.change:+d}")
    console.print(table)


def _sla(result: SlaTally, texts: Texts, console: Console) -> None:
    _ = texts.gettext
    kinds = {"first_response": _("First response"), "resolution": _("Resolution")}
    moves = {
        Move.EARLIER_DAYS: _("earlier by over a day"),
        Move.EARLIER_HOURS: _("earlier by 1 hour to a day"),
        Move.EARLIER_MINUTES: _("earlier by under an hour"),
        Move.UNCHANGED: _("unchanged"),
        Move.LATER_MINUTES: _("later by under an hour"),
        Move.LATER_HOURS: _("later by 1 hour to a day"),
        Move.LATER_DAYS: _("later by over a day"),
        Move.NEWLY_TRACKED: _("tracked only with the candidate"),
        Move.NO_LONGER_TRACKED: _("no longer tracked"),
    }
    table = Table(title=_("How the SLA due times would move"))
    table.add_column(_("Due time"))
    for kind in KINDS:
        table.add_column(kinds[kind])
    for m in Move:
        counts = [result.clocks[kind].moves[m] for kind in KINDS]
        if any(counts):
            table.add_row(moves[m], *(str(n) for n in counts))
    console.print(table)
    verdicts = Table(title=_("Targets met and missed"))
    headers = (
        _("Clock"),
        _("Met now"),
        _("Met with the candidate"),
        _("Breached now"),
        _("Breached with the candidate"),
    )
    for header in headers:
        verdicts.add_column(header)
    verdicts.add_column(_("Met -> breached"))
    verdicts.add_column(_("Breached -> met"))
    for kind in KINDS:
        tally = result.clocks[kind]
        verdicts.add_row(
            kinds[kind],
            str(tally.current[Verdict.MET]),
            str(tally.candidate[Verdict.MET]),
            str(tally.current[Verdict.BREACHED]),
            str(tally.candidate[Verdict.BREACHED]),
            _flip(tally.met_to_breached, tally.met_to_breached_examples),
            _flip(tally.breached_to_met, tally.breached_to_met_examples),
        )
    console.print(verdicts)


def _flip(count: int, examples: list[int]) -> str:
    shown = ", ".join(f"#{n}" for n in examples)
    return f"{count} ({shown})" if examples else str(count)
