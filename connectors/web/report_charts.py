"""A report's three charts as SVG, drawn on the server by pygal: the volume's trend lines
(created and resolved per day or week), created tickets per channel as stacked bars, and
the backlog's age histogram.

Each chart is a whole SVG document in the reader's language, without a script (pygal's
tooltips would come from elsewhere): the dashboard shows it as an image and lists its
numbers beside it (``chart_rows``); the weekly report attaches the same files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from router.catalogs import N_, Texts
from router.report import Report

#: The backlog's age buckets (router.report_figures.AGE_BUCKETS) in the reader's words.
AGE_WORDS = {
    "under 1 day": N_("under 1 day"),
    "1-3 days": N_("1-3 days"),
    "3-7 days": N_("3-7 days"),
    "1-4 weeks": N_("1-4 weeks"),
    "over 4 weeks": N_("over 4 weeks"),
}

#: pygal writes its tooltips' settings as an inline script even without the tooltips: an
#: image runs none, and the files we send or show have none.
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)

#: The charts' pygal ``Style``, as its arguments.
STYLE = {
    "background": "white",
    "plot_background": "white",
    "foreground": "#222",
    "foreground_strong": "#111",
    "foreground_subtle": "#888",
    "colors": ("#2b6cb0", "#2f855a", "#c05621", "#6b46c1", "#b7791f", "#4a5568"),
    "font_family": "sans-serif",
}


@dataclass(frozen=True)
class Chart:
    """One chart: its name (a file name's stem), title, and the numbers it draws: a header
    row, then one row per label."""

    name: str
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    empty: str = "-"  # what the chart says when it has nothing to draw
    stacked: bool = False
    lines: bool = False

    def svg(self) -> bytes:
        """The chart as a standalone SVG document."""
        # pygal is imported at the first chart drawn, not with this module: the web app and
        # the scheduler import it, and most of their processes never draw one
        import pygal
        from pygal.style import Style

        kind = pygal.Line if self.lines else pygal.StackedBar if self.stacked else pygal.Bar
        chart = kind(
            title=self.title,
            style=Style(**STYLE),
            js=[],  # pygal's tooltips would load a script from elsewhere: none
            width=720,
            explicit_size=True,  # an image of its own size, in a page or a mail
            height=320,
            x_label_rotation=30 if len(self.rows) > 10 else 0,
            show_minor_x_labels=len(self.rows) <= 16,
            x_labels_major_every=max(1, len(self.rows) // 8),
            legend_at_bottom=True,
            print_values=False,
            no_data_text=self.empty,
        )
        chart.x_labels = [label for label, _ in self.rows]
        for index, series in enumerate(self.header[1:]):
            chart.add(series, [values[index] for _, values in self.rows])
        rendered = chart.render()
        text = rendered.decode("utf-8") if isinstance(rendered, bytes) else str(rendered)
        return SCRIPT.sub("", text).encode("utf-8")


def report_charts(report: Report, texts: Texts) -> tuple[Chart, ...]:
    """The three charts of ``report`` in the language of ``texts``."""
    _ = texts.gettext
    buckets = report.volume.buckets
    when = _("Week of") if report.volume.weekly else _("Day")
    trend = Chart(
        name="volume",
        title=_("Tickets created and resolved"),
        header=(when, _("Created"), _("Resolved")),
        rows=tuple((b.start.isoformat(), (b.created, b.resolved)) for b in buckets),
        empty=_("No data"),
        lines=True,
    )
    channels = sorted({c for b in buckets for c in b.created_by_channel})
    by_channel = Chart(
        name="channels",
        title=_("Tickets created by channel"),
        header=(when, *(channel_word(texts, c) for c in channels)),
        rows=tuple(
            (b.start.isoformat(), tuple(b.created_by_channel.get(c, 0) for c in channels))
            for b in buckets
        ),
        empty=_("No data"),
        stacked=True,
    )
    backlog = Chart(
        name="backlog",
        title=_("Open tickets by age"),
        header=(_("Age"), _("Open tickets")),
        rows=tuple(
            (_(AGE_WORDS.get(age, age)), (count,)) for age, count in report.backlog.by_age.items()
        ),
        empty=_("No data"),
    )
    return (trend, by_channel, backlog)


def channel_word(texts: Texts, channel: str) -> str:
    words = {
        "email": texts.pgettext("channel", "Email"),
        "telegram": texts.pgettext("channel", "Telegram"),
        "web": texts.pgettext("channel", "Web"),
    }
    return words.get(channel, channel)
