"""A still picture of a widget, as HTML: what a saved notebook shows where the live widget was.

Every workbench widget offers this beside its live view (``text/html`` in its mime bundle).
JupyterLab shows the live widget; an exported or headless-run notebook (``make demo``'s HTML,
papermill output), which holds no widget state, falls back to this picture: no widget
renderer to fetch from a CDN, nothing blank offline. It walks the widget tree: HTML and
labels as they are, inputs as their current values, boxes as rows and columns, tabs with
their titles, progress bars as bars.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

_BOX = "display:flex;gap:8px;align-items:flex-start;flex-wrap:wrap"


def static_html(widget: Any) -> str:
    """HTML that looks like ``widget`` as it is now (its children included)."""
    return f"<div class='wb-static' style='font-family:system-ui,sans-serif'>{_html(widget)}</div>"


def _html(widget: Any) -> str:
    if isinstance(widget, w.Tab):
        titles = [widget.get_title(i) or f"tab {i + 1}" for i in range(len(widget.children))]
        parts = []
        for title, child in zip(titles, widget.children, strict=False):
            parts.append(
                f"<div><div style='font-weight:600;border-bottom:1px solid #d0d7de;"
                f"margin:6px 0 4px 0'>{html.escape(title)}</div>{_html(child)}</div>"
            )
        return "".join(parts)
    if isinstance(widget, w.Accordion):
        return "".join(_html(c) for c in widget.children)
    if isinstance(widget, w.HBox):
        return f"<div style='{_BOX}'>{''.join(_html(c) for c in widget.children)}</div>"
    if isinstance(widget, w.Box):  # VBox and the rest: a column
        return f"<div>{''.join(f'<div>{_html(c)}</div>' for c in widget.children)}</div>"
    if isinstance(widget, w.HTML | w.HTMLMath):
        return str(widget.value)
    if isinstance(widget, w.Label):
        return f"<span>{html.escape(str(widget.value))}</span>"
    if isinstance(widget, w.Button):
        return (
            "<span style='display:inline-block;padding:2px 10px;border:1px solid #8c959f;"
            f"border-radius:4px;color:#57606a'>{html.escape(widget.description)}</span>"
        )
    if isinstance(widget, w.IntProgress | w.FloatProgress):
        span = (widget.max - widget.min) or 1
        share = max(0.0, min(1.0, (widget.value - widget.min) / span))
        label = html.escape(widget.description or "")
        return (
            f"<span>{label} <span style='display:inline-block;width:160px;height:10px;"
            f"background:#eaeef2;vertical-align:middle'><span style='display:block;height:10px;"
            f"width:{share:.0%};background:#1a7f37'></span></span> {share:.0%}</span>"
        )
    if isinstance(widget, w.Output):
        return "".join(
            html.escape(o.get("text", ""))
            for o in widget.outputs
            if o.get("output_type") == "stream"
        )
    if hasattr(widget, "value") and hasattr(widget, "description"):  # inputs: their value
        value = widget.value
        if isinstance(value, tuple | list):
            value = ", ".join(str(v) for v in value)
        label = f"{html.escape(widget.description)}: " if widget.description else ""
        return (
            f"<span>{label}<span style='border:1px solid #d0d7de;border-radius:3px;"
            f"padding:1px 6px'>{html.escape(str(value))}</span></span>"
        )
    return ""


def mimebundle(view: w.Widget, **kwargs: Any) -> Any:
    """``view``'s live bundle plus its still picture (``text/html``)."""
    bundle = view._repr_mimebundle_(**kwargs)
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    if isinstance(data, dict):
        data["text/html"] = static_html(view)
    return bundle
