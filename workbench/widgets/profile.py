"""The Profile widget: a table picker, per-column cards (small histogram or top values,
quality badge, PII warning) and a button for the full ydata-profiling report.

The widget only lays out what :mod:`workbench.profiling` returns: ``profile`` (a callable
table name -> TableProfile) and ``report`` (table name, path -> path) are passed in, so the
same handlers run against a store-backed cache, a plain connector, or a test stub.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from workbench.profiling import full_report, profile_stored, profile_table
from workbench.profiling.model import ColumnProfile, TableProfile
from workbench.urls import mask_text
from workbench.widgets import static

BADGE_COLOURS = {"good": "#2e7d32", "fair": "#f9a825", "poor": "#c62828", "n/a": "#757575"}


def bars(counts: Sequence[int], width: int = 10) -> str:
    """A one-line histogram of block characters."""
    blocks = " ▁▂▃▄▅▆▇█"
    top = max(counts, default=0)
    if not top:
        return ""
    return "".join(blocks[min(8, round(8 * c / top))] for c in counts[:width])


def card_html(col: ColumnProfile) -> str:
    """One column's card: type, nulls, distinct, histogram or top values, badge, PII."""
    q = col.quality
    colour = BADGE_COLOURS[q.badge]
    score = "-" if q.score is None else f"{q.score:.2f}"
    badge = (
        f'<span style="background:{colour};color:white;padding:0 4px;border-radius:3px" '
        f'title="{html.escape(chr(10).join(q.rules))}">{q.badge} {score}</span>'
    )
    lines = [
        f"<b>{html.escape(col.name)}</b> <code>{html.escape(col.native_type)}</code> {badge}",
        f"nulls {col.null_ratio:.1%} · distinct {col.distinct if col.distinct is not None else '?'}"
        + (" (approx.)" if col.distinct_method.startswith("approx") else ""),
    ]
    if col.semantic:
        lines.append(f"{html.escape(col.semantic)} ({col.semantic_share:.0%})")
    if col.histogram:
        lines.append(
            f"<span style='font-family:monospace'>{bars([h[2] for h in col.histogram])}</span>"
            f" {html.escape(col.histogram_of)}"
        )
    elif col.top:
        tops = ", ".join(f"{html.escape(str(v))[:20]} ({n})" for v, n in col.top[:3])
        lines.append(f"top: {tops}")
    if col.pii:
        lines.append(f"<b style='color:#c62828'>⚠ PII: {html.escape(', '.join(col.pii))}</b>")
    return (
        "<div style='border:1px solid #ccc;border-radius:4px;padding:4px;margin:2px;"
        "width:230px;display:inline-block;vertical-align:top'>" + "<br>".join(lines) + "</div>"
    )


class ProfileWidget:
    def __init__(
        self,
        tables: Sequence[str],
        profile: Callable[[str], TableProfile],
        report: Callable[[str, Path], Any] | None = None,
        report_dir: str | Path = "reports",
    ) -> None:
        self._profile = profile
        self._report = report
        self.report_dir = Path(report_dir)
        self.picker = w.Dropdown(options=list(tables), description="Table")
        self.summary = w.HTML()
        self.cards = w.HTML()
        self.warnings = w.HTML()
        self.report_button = w.Button(description="Full report", disabled=report is None)
        self.report_status = w.HTML()
        self.current: TableProfile | None = None
        self.error: str | None = None
        self.picker.observe(lambda change: self.on_pick(change["new"]), names="value")
        self.report_button.on_click(lambda _b: self.on_report())

    def on_pick(self, name: str | None) -> TableProfile | None:
        if not name:
            return None

        try:
            prof = self._profile(name)
        except Exception as exc:  # boundary: shown in the widget, not raised into the UI loop
            self.error = mask_text(str(exc))
            self.summary.value = f"<b style='color:#c62828'>{html.escape(self.error)}</b>"
            self.cards.value = self.warnings.value = ""
            return None
        self.error = None
        self.current = prof
        score = "-" if prof.quality.score is None else f"{prof.quality.score:.2f}"
        reused = " · reused (unchanged)" if prof.reused else ""
        self.summary.value = (
            f"<b>{html.escape(prof.qualified_name)}</b>: {prof.rows:,} rows · sample "
            f"{prof.sample_rows:,} ({html.escape(prof.sample_method)}) · quality {score}{reused}"
        )
        self.cards.value = "".join(card_html(c) for c in prof.columns)
        pii = prof.pii_columns
        self.warnings.value = (
            "<b style='color:#c62828'>PII: "
            + html.escape("; ".join(f"{k} ({', '.join(v)})" for k, v in pii.items()))
            + "</b> — consider masking these columns"
            if pii
            else ""
        )
        return prof

    def on_report(self) -> Path | None:
        name = self.picker.value
        if self._report is None or not name:
            return None
        path = self.report_dir / f"{name}.html"
        self.report_status.value = "Building the report…"
        self._report(name, path)
        self.report_status.value = (
            f"Report saved: <a href='{html.escape(str(path))}' target='_blank'>"
            f"{html.escape(str(path))}</a>"
        )
        return path

    def view(self) -> w.Widget:
        controls = w.HBox([self.picker, self.report_button, self.report_status])
        return w.VBox([controls, self.summary, self.warnings, self.cards])

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return static.mimebundle(self.view(), **kwargs)

    @classmethod
    def from_connector(cls, connector: Any, store: Any = None, **kwargs: Any) -> ProfileWidget:
        """A widget over a connector's tables; profiles go through the store when given."""

        names = [t.qualified_name for t in connector.introspect().tables if t.kind == "table"]

        def get(name: str) -> TableProfile:
            if store is not None:
                return profile_stored(store, connector, name)
            return profile_table(connector, name)

        return cls(names, get, lambda name, path: full_report(connector, name, path), **kwargs)
