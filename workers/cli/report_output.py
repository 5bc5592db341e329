"""The report in the terminal: tables (rich), CSV rows or JSON; the words it uses.

``report_rows`` is the report flat, one figure per row (section, name, measure,
value): what the CSV holds, and what the tables show grouped by section.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from router.report import Report
from router.report_figures import Person
from router.report_stats import Summary

Row = tuple[str, str, str, Any]

TOP_TITLES = {
    "category": "Top categories",
    "tag": "Top tags",
    "form": "Top forms",
    "organisation": "Top organisations",
    "requester": "Top requesters",
}
NO_DATA = "no data"


def duration(seconds: float | None) -> str:
    """``4h 05m``, ``2d 3h``, ``45s``; ``-`` for no data."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def report_rows(report: Report) -> Iterator[Row]:
    """Every figure of the report, one per row."""
    v = report.volume
    for bucket in v.buckets:
        yield ("volume", bucket.start.isoformat(), "created", bucket.created)
        yield ("volume", bucket.start.isoformat(), "resolved", bucket.resolved)
    for section, items in (("volume", (v.total,)), ("channel", v.by_channel)):
        for c in items:
            yield from _compared(section, c)
    for c in v.by_category:
        yield from _compared("category", c)
    b = report.backlog
    yield ("backlog", "all", "open", b.total)
    for name, n in (*b.by_status.items(), *b.by_priority.items(), *b.by_age.items()):
        yield ("backlog", name, "open", n)
    yield ("backlog", "in the queue", "open", b.waiting_in_queue)
    yield ("backlog", "with an agent", "open", b.waiting_for_agent)
    yield ("backlog", "on the customer", "open", b.waiting_on_customer)
    s = report.speed
    for name, summary in (
        ("first response (wall)", s.first_response_wall),
        ("first response (business)", s.first_response_business),
        ("resolution (wall)", s.resolution_wall),
        ("resolution (business)", s.resolution_business),
    ):
        yield from _summary(name, summary)
    yield ("speed", "replies per ticket", "mean", s.replies_per_ticket)
    yield ("speed", "reopen rate", "share", s.reopen_rate)
    p = report.promises
    for group, attained in (
        ("all", (p.total,)),
        ("policy", p.by_policy),
        ("priority", p.by_priority),
        ("team", p.by_team),
        ("clock", p.by_clock),
    ):
        for a in attained:
            name = a.name if group == "all" else f"{group} {a.name}"
            for measure in ("met", "breached", "running", "attainment"):
                yield ("promises", name, measure, getattr(a, measure))
    for step, n in p.breaches_by_step.items():
        yield ("promises", f"escalation step {step}", "breached", n)
    for section, persons in (("agent", report.agents), ("team", report.teams)):
        for person in persons:
            for field in dataclasses.fields(Person)[1:]:
                yield (section, person.name, field.name, getattr(person, field.name))
    for point in report.load_over_time:
        yield ("load", point.start.isoformat(), "load_share", point.load_share)
        yield ("load", point.start.isoformat(), "peak", point.peak)
    for key, ranked in report.top.items():
        for name, n in ranked:
            yield (f"top {key}", name, "created", n)


def _compared(section: str, c: Any) -> Iterator[Row]:
    for measure in ("created", "resolved", "previous_created", "previous_resolved"):
        yield (section, c.name, measure, getattr(c, measure))


def _summary(name: str, summary: Summary) -> Iterator[Row]:
    yield ("speed", name, "count", summary.count)
    for measure in ("mean_s", "median_s", "p90_s"):
        yield ("speed", name, measure, getattr(summary, measure))


def write_csv(report: Report, out: TextIO) -> None:
    writer = csv.writer(out)
    writer.writerow(("section", "name", "measure", "value"))
    for section, name, measure, value in report_rows(report):
        writer.writerow((section, name, measure, "" if value is None else value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def write_json(report: Report, out: TextIO) -> None:
    data = dataclasses.asdict(report)
    data["promises"]["breaches_by_step"] = {
        str(k): n for k, n in report.promises.breaches_by_step.items()
    }
    json.dump(data, out, default=_jsonable, indent=2, ensure_ascii=False)
    out.write("\n")


def print_tables(report: Report, console: Console) -> None:
    """The report as tables, in the order a supervisor reads it."""
    filters = ", ".join(f"{k} {'/'.join(v)}" for k, v in report.filters.given().items())
    console.print(
        f"[bold]Report[/bold] {report.period.describe()}"
        + (f", {filters}" if filters else "")
        + f"; beside {report.previous.first} to {report.previous.last}"
    )
    v = report.volume
    table = _table("Created and resolved, per " + ("week" if v.weekly else "day"), "", "created")
    table.add_column("resolved", justify="right")
    for bucket in v.buckets:
        table.add_row(bucket.start.isoformat(), str(bucket.created), str(bucket.resolved))
    console.print(table)
    for title, items in (
        ("Volume", (v.total,)),
        ("By channel", v.by_channel),
        ("By category", v.by_category),
    ):
        table = _table(title, "", "created", "before", "resolved", "before")
        for c in items:
            table.add_row(
                c.name,
                str(c.created),
                str(c.previous_created),
                str(c.resolved),
                str(c.previous_resolved),
            )
        console.print(table)
    b = report.backlog
    table = _table(f"Backlog now: {b.total} open", "", "tickets")
    for name, n in (
        ("waiting in the queue", b.waiting_in_queue),
        ("waiting for their agent", b.waiting_for_agent),
        ("waiting on the customer", b.waiting_on_customer),
        *((f"status {k}", n) for k, n in b.by_status.items()),
        *((f"priority {k}", n) for k, n in b.by_priority.items()),
        *((f"age {k}", n) for k, n in b.by_age.items()),
    ):
        table.add_row(name, str(n))
    console.print(table)
    s = report.speed
    table = _table("Speed", "", "tickets", "mean", "median", "90%")
    for name, m in (
        ("first response, wall time", s.first_response_wall),
        ("first response, business time", s.first_response_business),
        ("resolution, wall time", s.resolution_wall),
        ("resolution, business time", s.resolution_business),
    ):
        table.add_row(
            name, str(m.count), duration(m.mean_s), duration(m.median_s), duration(m.p90_s)
        )
    console.print(table)
    replies = "-" if s.replies_per_ticket is None else f"{s.replies_per_ticket:.1f}"
    console.print(
        f"{s.resolved} resolved: {replies} replies per ticket, reopen rate {percent(s.reopen_rate)}"
    )
    p = report.promises
    table = _table("Promises (SLA clocks started in the period)", "", "met", "breached", "running")
    table.add_column("attained", justify="right")
    for prefix, attainments in (
        ("", (p.total,)),
        ("policy ", p.by_policy),
        ("priority ", p.by_priority),
        ("team ", p.by_team),
        ("clock ", p.by_clock),
    ):
        for a in attainments:
            table.add_row(
                prefix + a.name, str(a.met), str(a.breached), str(a.running), percent(a.attainment)
            )
    console.print(table)
    if p.breaches_by_step:
        steps = ", ".join(f"step {k}: {n}" for k, n in p.breaches_by_step.items())
        console.print(f"Breaches by escalation steps fired: {steps}")
    for title, persons in (("Agents", report.agents), ("Teams", report.teams)):
        table = _table(
            title,
            "",
            "handled",
            "resolved",
            "handling",
            "1st response",
            "reopened",
            "load",
            "rated",
        )
        for who in persons:
            load = (
                "-" if who.mean_load is None else f"{who.mean_load:.1f} ({percent(who.load_share)})"
            )
            table.add_row(
                who.name,
                str(who.handled),
                str(who.resolved),
                duration(who.median_handling_s),
                duration(who.median_first_response_s),
                str(who.reopened),
                load,
                percent(who.satisfaction),
            )
        console.print(table if persons else f"{title}: {NO_DATA}")
    sampled = [p for p in report.load_over_time if p.load_share is not None]
    table = _table(
        "Load against capacity, per " + ("week" if v.weekly else "day"), "", "load", "peak"
    )
    for point in sampled:
        table.add_row(point.start.isoformat(), percent(point.load_share), str(point.peak))
    console.print(table if sampled else f"Load against capacity: {NO_DATA}")
    for key, ranked in report.top.items():
        table = _table(TOP_TITLES[key], "", "created")
        for name, n in ranked:
            table.add_row(name, str(n))
        console.print(table if ranked else f"{TOP_TITLES[key]}: {NO_DATA}")


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table
