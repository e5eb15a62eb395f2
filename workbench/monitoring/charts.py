"""Small charts for the stakeholder report, drawn by matplotlib as inline SVG.

Inline SVG needs no JavaScript and no network: the report renders the same offline, in a
saved HTML file and behind a proxy. Axis numbers carry thousands separators; every chart has
a title saying what it shows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from workbench import render

GREEN, BLUE, AMBER, RED, GREY = "#1a7f37", "#0969da", "#9a6700", "#cf222e", "#8c959f"


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("svg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    fig.patch.set_alpha(0)
    return fig


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML


def _separators(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))


def _style(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def rate_over_time(seconds: Sequence[float], rows_per_second: Sequence[float], title: str) -> str:
    """A line of rows/s over the job's seconds."""
    fig = _figure(5.2, 2.2)
    ax = fig.add_subplot()
    ax.plot(list(seconds), list(rows_per_second), color=BLUE, linewidth=1.8)
    ax.fill_between(list(seconds), list(rows_per_second), color=BLUE, alpha=0.12)
    ax.set_xlabel("seconds", fontsize=8)
    _separators(ax.yaxis)
    _style(ax, title)
    return _svg(fig)


def horizontal_bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str,
    colours: Sequence[str] = (BLUE, GREEN, AMBER, RED),
    percent: bool = False,
) -> str:
    """One horizontal bar per label and series (grouped), values written at the bars' ends."""
    n = max(len(labels), 1)
    fig = _figure(5.2, 0.6 + 0.28 * n * max(len(series), 1) ** 0.5)
    ax = fig.add_subplot()
    height = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        positions = [i + k * height for i in range(len(labels))]
        bars = ax.barh(positions, list(values), height=height, label=name,
                       color=colours[k % len(colours)])  # fmt: skip
        texts = [render.percent(v) if percent else render.number(v) for v in values]
        ax.bar_label(bars, labels=texts, fontsize=7, padding=2)
    ax.set_yticks([i + height * (len(series) - 1) / 2 for i in range(len(labels))], list(labels))
    ax.invert_yaxis()
    if percent:
        ax.set_xlim(0, 1.15)
        ax.set_xticks([])
    else:
        _separators(ax.xaxis)
        ax.margins(x=0.15)
    if len(series) > 1:
        ax.legend(fontsize=7, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                  ncol=len(series))  # above the bars, beside the title  # fmt: skip
    _style(ax, title)
    return _svg(fig)
