"""Results as people read them: HTML for a notebook cell, aligned text for a terminal.

Pure formatting of plain data (dicts, lists, numbers): the engine's, profiling's and
matching's result objects hand their ``as_dict``/``summary`` here from ``_repr_html_`` and
``__str__``, so every result reads the same way: numbers with separators, seconds and rates
rounded for people, "—" for a missing value, status in colour, no index columns.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

MISSING = "—"
STATUS_COLOURS = {
    "succeeded": "#1a7f37",
    "validated": "#1a7f37",
    "not validated": "#9a6700",
    "ok": "#1a7f37",
    "accepted": "#1a7f37",
    "running": "#0969da",
    "suggested": "#9a6700",
    "incomplete": "#9a6700",
    "interrupted": "#9a6700",
    "failed": "#cf222e",
    "mismatch": "#cf222e",
    "rejected": "#cf222e",
    "cancelled": "#57606a",
}
_STYLE = (
    "border-collapse:collapse;font-size:13px;margin:4px 0 10px 0;"
    "font-family:system-ui,-apple-system,Segoe UI,sans-serif"
)
_CELL = "padding:3px 10px;border-bottom:1px solid #d0d7de;text-align:left"
_NUMERIC_CELL = _CELL.replace("text-align:left", "text-align:right")


def number(value: Any, digits: int = 0) -> str:
    """``1234567`` -> ``"1,234,567"``; None -> "—"."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def seconds(value: float | None) -> str:
    """``0.4321`` -> ``"0.43 s"``, ``83.2`` -> ``"1 min 23 s"``."""
    if value is None:
        return MISSING
    if value < 10:
        return f"{value:.2f} s"
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def rate(rows_per_second: float | None) -> str:
    return MISSING if rows_per_second is None else f"{rows_per_second:,.0f} rows/s"


def percent(share: float | None, digits: int = 0) -> str:
    return MISSING if share is None else f"{share * 100:.{digits}f}%"


def confidence(share: float | None) -> str:
    """A suggestion's confidence: whole percents, one decimal from 99% up, and never rounded
    up to 100% (no suggestion is certain)."""
    if share is None:
        return MISSING
    if share >= 0.99:
        return f"{math.floor(min(share, 0.999) * 1000) / 10:.1f}%"
    return f"{math.floor(share * 100)}%"


def status(word: str) -> str:
    """A status as a coloured badge (HTML)."""
    colour = STATUS_COLOURS.get(word, "#57606a")
    return (
        f'<span style="background:{colour};color:white;border-radius:10px;padding:1px 8px;'
        f'font-size:12px">{html.escape(word)}</span>'
    )


def _cell(value: Any) -> str:
    if value is None or value == "":
        return MISSING
    return number(value) if isinstance(value, int | float) else str(value)


def table_html(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], raw: Sequence[str] = ()
) -> str:
    """An HTML table of ``rows`` (no index column); ``raw`` columns hold HTML already."""
    head = "".join(f'<th style="{_CELL}">{html.escape(c)}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            text = str(value) if c in raw and value is not None else html.escape(_cell(value))
            style = _NUMERIC_CELL if isinstance(value, int | float) else _CELL
            cells.append(f'<td style="{style}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table style="{_STYLE}"><tr>{head}</tr>{"".join(body)}</table>'


def table_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """The same table as aligned text."""
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def _headline(items: Sequence[tuple[str, str]]) -> str:
    boxes = "".join(
        '<div style="display:inline-block;margin:0 18px 8px 0">'
        f'<div style="font-size:11px;color:#57606a;text-transform:uppercase">{html.escape(k)}'
        f'</div><div style="font-size:18px">{v}</div></div>'
        for k, v in items
    )
    return f'<div style="font-family:system-ui,sans-serif">{boxes}</div>'


def _job_tables(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    checked = {t.get("table"): t for t in ((summary.get("validation") or {}).get("tables") or [])}
    rows = []
    for name, t in (summary.get("tables") or {}).items():
        check = checked.get(name)
        rows.append(
            {
                "table": name,
                "rows": t.get("rows_written", t.get("rows_copied")),
                "quarantined": t.get("rows_quarantined") or 0,
                "partitions": t.get("partitions"),
                "validated": MISSING
                if check is None
                else ("ok" if check.get("ok") else "mismatch"),
            }
        )
    return rows


def job_html(summary: Mapping[str, Any]) -> str:
    """A job's result (``JobResult.summary()``) for a notebook cell."""
    validated = summary.get("validated")
    head = _headline(
        [
            ("job", html.escape(str(summary.get("job_id")))),
            ("status", status(str(summary.get("status")))),
            ("rows copied", number(summary.get("rows_copied"))),
            ("quarantined", number(summary.get("rows_quarantined"))),
            ("time", seconds(summary.get("seconds"))),
            ("throughput", rate(summary.get("rows_per_second"))),
            ("validated", status("ok") if validated else status("not validated")),
        ]
    )
    rows = _job_tables(summary)
    for row in rows:
        if row["validated"] in ("ok", "mismatch"):
            row["validated"] = status(row["validated"])
    parts = [head, table_html(rows, ["table", "rows", "quarantined", "partitions", "validated"],
                              raw=["validated"])]  # fmt: skip
    phases = summary.get("phases") or {}
    if phases:
        parts.append(
            '<div style="font-size:12px;color:#57606a">'
            + " · ".join(f"{html.escape(k)} {seconds(v)}" for k, v in phases.items())
            + "</div>"
        )
    for warning in summary.get("warnings") or []:
        parts.append(f'<div style="color:#9a6700">⚠ {html.escape(str(warning))}</div>')
    return "".join(parts)


def job_text(summary: Mapping[str, Any]) -> str:
    line = (
        f"Job {summary.get('job_id')} {summary.get('status')}: "
        f"{number(summary.get('rows_copied'))} rows in {seconds(summary.get('seconds'))} "
        f"({rate(summary.get('rows_per_second'))}), "
        f"{number(summary.get('rows_quarantined'))} quarantined, "
        + ("validated" if summary.get("validated") else "not validated")
    )
    rows = _job_tables(summary)
    cols = ["table", "rows", "quarantined", "partitions", "validated"]
    return line + ("\n" + table_text(rows, cols) if rows else "")


def _profile_rows(profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for c in profile.get("columns") or []:
        total = c.get("rows") or 0
        quality = (c.get("quality") or {}).get("score")
        rows.append(
            {
                "column": c.get("name"),
                "type": c.get("pg_type") or c.get("native_type"),
                "nulls": percent(c.get("nulls", 0) / total if total else None, 1),
                "distinct": c.get("distinct"),
                "semantic": (
                    f"{c['semantic']} ({percent(c.get('semantic_share'))})"
                    if c.get("semantic")
                    else None
                ),
                "PII": ", ".join(c.get("pii") or []) or None,
                "quality": percent(quality),
            }
        )
    return rows


PROFILE_COLUMNS = ["column", "type", "nulls", "distinct", "semantic", "PII", "quality"]


def profiles_html(profiles: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for p in profiles:
        name = ".".join(x for x in (p.get("schema"), p.get("table")) if x)
        score = (p.get("quality") or {}).get("score")
        parts.append(
            f'<div style="font-family:system-ui,sans-serif;margin-top:6px"><b>'
            f"{html.escape(name)}</b> · {number(p.get('rows'))} rows · quality "
            f"{percent(score)} · sampled {number(p.get('sample_rows'))} "
            f"({html.escape(str(p.get('sample_method') or MISSING))})</div>"
        )
        parts.append(table_html(_profile_rows(p), PROFILE_COLUMNS))
    return "".join(parts) or "<i>No tables profiled.</i>"


def profiles_text(profiles: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for p in profiles:
        name = ".".join(x for x in (p.get("schema"), p.get("table")) if x)
        out.append(f"{name}: {number(p.get('rows'))} rows")
        out.append(table_text(_profile_rows(p), PROFILE_COLUMNS))
    return "\n".join(out) or "No tables profiled."


def _mapping_rows(mapping: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "source column": c.get("source_column"),
            "target column": c.get("target_column"),
            "confidence": confidence(c.get("confidence")),
            "decision": c.get("state"),
        }
        for c in mapping.get("columns") or []
    ]


MAPPING_COLUMNS = ["source column", "target column", "confidence", "decision"]


def mappings_html(mappings: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for m in mappings:
        parts.append(
            f'<div style="font-family:system-ui,sans-serif;margin-top:6px"><b>'
            f"{html.escape(str(m.get('source_table')))} → "
            f"{html.escape(str(m.get('target_table')))}</b> · confidence "
            f"{confidence(m.get('confidence'))} · version {m.get('version')}</div>"
        )
        rows = _mapping_rows(m)
        for row in rows:
            row["decision"] = status(str(row["decision"]))
        parts.append(table_html(rows, MAPPING_COLUMNS, raw=["decision"]))
    return "".join(parts) or "<i>No table pairs found.</i>"


def mappings_text(mappings: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for m in mappings:
        out.append(f"{m.get('source_table')} -> {m.get('target_table')}")
        out.append(table_text(_mapping_rows(m), MAPPING_COLUMNS))
    return "\n".join(out) or "No table pairs found."
