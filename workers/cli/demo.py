"""``relaydesk demo seed``: a believable history on a desk, for trying it and for
acceptance tests (workers/desk/demo_seed.py)."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from config.settings import Settings
from router.demo_history import LANGUAGES
from workers.cli.context import pass_settings
from workers.cli.speech import cli_texts
from workers.desk.demo_seed import DeskIsRunning, seed_demo


@click.group("demo")
def demo() -> None:
    """A demo desk: a made-up history to try every view, report and simulation on."""


def _languages(value: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [lang for lang in chosen if lang not in LANGUAGES]
    if unknown or not chosen:
        raise click.BadParameter(f"a comma-separated list of {', '.join(LANGUAGES)}")
    return chosen


@demo.command("seed")
@click.option("--tickets", type=click.IntRange(0, 1_000_000), default=5000, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=60, show_default=True)
@click.option("--lang", "languages", default="en,zh", show_default=True, help="en, zh or both.")
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed, the same desk."
)
@click.option("--force", is_flag=True, help="Even while the desk's processes are running.")
@pass_settings
def seed(
    settings: Settings, tickets: int, days: int, languages: str, seed: int, force: bool
) -> None:
    """Fill the desk with TICKETS requests over the last DAYS days: customers of a few
    organisations writing by email, the web form and Telegram, agents answering, asking,
    noting, transferring and resolving, follow-ups, breaches and ratings; all through
    the desk's own use cases. What the desk sends in that past goes nowhere. Run it with
    the desk stopped."""
    texts = cli_texts(settings)
    chosen = _languages(languages)
    err = Console(stderr=True)
    with Progress(
        TextColumn(texts.gettext("Seeding the demo desk")),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("seed", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if progress.disable and done * 10 // total > (done - 1) * 10 // total:
                # no bar where stderr is not a terminal (a log, a pipe): a line a tenth
                click.echo(
                    texts.gettext(
                        "Seeding the demo desk: %(done)d of %(total)d events played",
                        done=done,
                        total=total,
                    ),
                    err=True,
                )

        try:
            report = seed_demo(
                settings,
                tickets=tickets,
                days=days,
                languages=chosen,
                seed=seed,
                force=force,
                progress=advance,
            )
        except DeskIsRunning as exc:
            raise click.ClickException(
                texts.gettext(
                    "The desk is running (%(processes)s): stop it first, or its scheduler "
                    "would send the made-up history's mail and chat for real.",
                    processes=", ".join(exc.processes),
                )
            ) from None
    click.echo(
        texts.gettext(
            "%(tickets)d tickets from %(events)d events of %(days)d days.",
            tickets=report.tickets,
            events=report.events,
            days=days,
        )
    )
    sent = sum(report.sent_nowhere.values())
    click.echo(
        texts.gettext("%(sent)d messages the desk sent in that past went nowhere.", sent=sent)
    )
    if report.skipped:
        skipped = ", ".join(f"{step} {count}" for step, count in sorted(report.skipped.items()))
        click.echo(
            texts.gettext("Steps the desk refused (as it would have): %(steps)s.", steps=skipped)
        )
