"""The Match widget: source and target columns side by side, suggestions with confidence
bars and reasons, accept / reject / override from dropdowns, a mapping diagram (SVG lines
coloured by confidence), and Save, which applies the choices to the project's mapping.
Below, the masking panel: masks suggested from profiling's PII flags, a mask kind per
column with a before -> after preview on real source values (the project's salt, so it
shows what a run writes), and Apply mask.

It holds no logic: suggestions, decisions and the store are
:mod:`workbench.matching.mappings` and :mod:`workbench.matching.decisions`; masks are
:mod:`workbench.governance.masking_suggestions` and :mod:`workbench.governance.mask_preview`.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from workbench import render
from workbench.errors import WorkbenchError
from workbench.governance import mask_preview, masking_suggestions
from workbench.governance.masking_suggestions import MASK_KINDS, MaskSuggestion
from workbench.matching import decisions
from workbench.matching.explain import reasons_in_words
from workbench.matching.mappings import (
    ColumnMappingRecord,
    SchemaMappingRecord,
    TablePair,
    get_mapping,
    load_pair,
)
from workbench.widgets import static

if TYPE_CHECKING:
    import pyarrow as pa

    from workbench.store import Store

UNMAPPED = "(unmapped)"
ROW_HEIGHT = 26


def confidence_colour(confidence: float | None) -> str:
    """Green when sure, amber when unsure, red when doubtful; grey for manual rows."""
    if confidence is None:
        return "#607d8b"
    if confidence >= 0.8:
        return "#2e7d32"
    if confidence >= 0.5:
        return "#f9a825"
    return "#c62828"


def confidence_bar(confidence: float | None) -> str:
    if confidence is None:
        return "<span>manual</span>"
    pct = round(100 * confidence)
    return (
        f"<div style='width:80px;background:#eee;display:inline-block'>"
        f"<div style='width:{pct}%;background:{confidence_colour(confidence)};height:10px'>"
        f"</div></div> {render.confidence(confidence)}"
    )


def reasons_text(reasons: dict[str, float], top: int = 3) -> str:
    return reasons_in_words(reasons, top)


def diagram_svg(
    sources: list[str], targets: list[str], links: list[tuple[str, str, float | None, str]]
) -> str:
    """Source names left, target names right, a line per (source, target, confidence, state)."""
    height = ROW_HEIGHT * max(len(sources), len(targets), 1) + 10
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='520' height='{height}'>"]
    y = {("s", n): 20 + i * ROW_HEIGHT for i, n in enumerate(sources)}
    y |= {("t", n): 20 + i * ROW_HEIGHT for i, n in enumerate(targets)}
    for name in sources:
        parts.append(
            f"<text x='150' y='{y['s', name] + 4}' text-anchor='end'>{html.escape(name)}</text>"
        )
    for name in targets:
        parts.append(f"<text x='370' y='{y['t', name] + 4}'>{html.escape(name)}</text>")
    for source, target, confidence, state in links:
        if ("s", source) not in y or ("t", target) not in y:
            continue
        dash = " stroke-dasharray='4 3'" if state == "suggested" else ""
        parts.append(
            f"<line class='link' data-source='{html.escape(source)}' "
            f"data-target='{html.escape(target)}' x1='160' y1='{y['s', source]}' x2='360' "
            f"y2='{y['t', target]}' stroke='{confidence_colour(confidence)}' stroke-width='2'"
            f"{dash}/>"
        )
    parts.append("</svg>")
    return "".join(parts)


class ColumnRow:
    """One source column: its current target and suggestion, and the user's choice."""

    def __init__(self, source: str, current: ColumnMappingRecord | None, targets: list[str]):
        self.source = source
        self.current = current
        self.target = w.Dropdown(
            options=[UNMAPPED, *targets],
            value=current.target_column if current else UNMAPPED,
            layout=w.Layout(width="180px"),
        )
        self.decision = w.Dropdown(
            options=["undecided", "accept", "reject"],
            value="undecided",
            layout=w.Layout(width="110px"),
        )
        state = current.state if current else ""
        self.info = w.HTML(
            f"{confidence_bar(current.confidence)} {state} "
            f"<small>{html.escape(reasons_text(current.reasons))}</small>"
            if current
            else "<small>no suggestion</small>"
        )
        self.box = w.HBox(
            [w.Label(source, layout=w.Layout(width="160px")), self.target, self.decision, self.info]
        )

    @property
    def is_override(self) -> bool:
        chosen = self.target.value
        return chosen != UNMAPPED and (self.current is None or chosen != self.current.target_column)


class MatchWidget:
    """Review one schema_mapping of a project and save the decisions."""

    def __init__(
        self, store: Store, project: str | int, mapping: str | int, pair: TablePair | None = None
    ) -> None:
        self.store, self.project, self.mapping_ref = store, project, mapping
        self.pair = pair or load_pair(store, project, mapping)  # read once, reused for feedback
        self.status = w.HTML()
        self.diagram = w.HTML()
        self.save = w.Button(description="Save", button_style="primary")
        self.save.on_click(lambda _b: self.on_save())
        self.threshold = w.FloatSlider(
            value=0.8, min=0.0, max=1.0, step=0.05, readout_format=".0%",
            description="from", layout=w.Layout(width="260px"),
        )  # fmt: skip
        self.accept_all = w.Button(description="Accept all", button_style="success")
        self.accept_all.on_click(lambda _b: self.on_accept_all())
        self.rows: list[ColumnRow] = []
        self.body = w.VBox()
        self.mapping: SchemaMappingRecord = get_mapping(store, project, mapping)
        self.masks = MaskPanel(store, project, self.mapping, self.pair)
        buttons = w.HBox([self.save, self.accept_all, self.threshold])
        self.view = w.VBox([self.body, self.diagram, buttons, self.status, self.masks.view])
        self.render()

    def render(self) -> None:
        """Rebuild rows and diagram from ``self.mapping``."""
        targets = list(self.pair.target.table.column_names)
        live = {
            c.source_column: c
            for c in sorted(self.mapping.columns, key=lambda c: c.state == "accepted")
            if c.source_column and c.state != "rejected"
        }
        self.rows = [
            ColumnRow(s, live.get(s), targets) for s in self.pair.source.table.column_names
        ]
        for row in self.rows:
            row.target.observe(lambda _change: self.on_change(), names="value")
            row.decision.observe(lambda _change: self.on_change(), names="value")
        header = w.HTML(
            f"<b>{html.escape(self.mapping.label)}</b> (version {self.mapping.version})"
        )
        self.body.children = [header, *(r.box for r in self.rows)]
        self.on_change()

    def links(self) -> list[tuple[str, str, float | None, str]]:
        """The lines the diagram draws, from the current choices."""
        out: list[tuple[str, str, float | None, str]] = []
        for r in self.rows:
            if r.target.value == UNMAPPED or r.decision.value == "reject":
                continue
            if r.is_override:
                out.append((r.source, r.target.value, None, "accepted"))
            elif r.current is not None:
                state = "accepted" if r.decision.value == "accept" else r.current.state
                out.append((r.source, r.target.value, r.current.confidence, state))
        return out

    def on_change(self) -> None:
        self.diagram.value = diagram_svg(
            list(self.pair.source.table.column_names),
            list(self.pair.target.table.column_names),
            self.links(),
        )

    def choices(self) -> list[decisions.Decision]:
        """The rows' choices as decisions (undecided rows and no-ops left out)."""
        out: list[decisions.Decision] = []
        for r in self.rows:
            if r.is_override and r.decision.value != "reject":
                out.append(decisions.Decision("override", r.source, r.target.value))
            elif r.current is not None and r.decision.value == "accept":
                if r.current.state != "accepted":
                    out.append(decisions.Decision("accept", r.source, r.current.target_column))
            elif r.current is not None and r.decision.value == "reject":
                out.append(decisions.Decision("reject", r.source, r.current.target_column))
        return out

    def on_save(self) -> SchemaMappingRecord | None:
        """Apply every row's choice at once (one new version); show the result or the error."""
        chosen = self.choices()
        try:
            self.mapping = decisions.decide(
                self.store, self.project, self.mapping.id, chosen, pair=self.pair
            )
        except WorkbenchError as exc:
            self.status.value = _error(exc)
            self.mapping = get_mapping(self.store, self.project, self.mapping.id)
            self.render()
            return None
        self.status.value = f"Saved {len(chosen)} decision(s); version {self.mapping.version}"
        self.render()
        self.masks.refresh(self.mapping)
        return self.mapping

    def on_accept_all(self) -> SchemaMappingRecord | None:
        """Accept every open suggestion from the slider's confidence (one new version)."""
        try:
            self.mapping = decisions.accept_all(
                self.store, self.project, self.mapping.id,
                min_confidence=self.threshold.value, pair=self.pair,
            )  # fmt: skip
        except WorkbenchError as exc:
            self.status.value = _error(exc)
            return None
        accepted = sum(c.state == "accepted" for c in self.mapping.columns)
        self.status.value = (
            f"Accepted every suggestion from {self.threshold.value:.0%}: {accepted} column(s) "
            f"accepted; version {self.mapping.version}"
        )
        self.render()
        self.masks.refresh(self.mapping)
        return self.mapping

    def _repr_mimebundle_(self, **kwargs):  # display(widget) shows the view
        return static.mimebundle(self.view, **kwargs)


def _error(exc: WorkbenchError) -> str:
    return f"<span style='color:#c62828'>{html.escape(exc.message)}</span>"


def suggestions_html(suggestions: list[MaskSuggestion]) -> str:
    """One line per PII column: its status, the mask, and why."""
    if not suggestions:
        return (
            "<small>No PII flags for this table: profile the source first "
            "(<code>workbench profile tables</code>).</small>"
        )
    lines = [
        f"<li><b>{html.escape(s.column)}</b> {s.status}: "
        f"<code>{html.escape(_mask_text(s.mask))}</code> "
        f"<small>{html.escape(s.reason)}</small></li>"
        for s in suggestions
    ]
    return f"<ul style='margin:0'>{''.join(lines)}</ul>"


def preview_html(rows: list[mask_preview.PreviewRow]) -> str:
    if not rows:
        return "<small>no values to preview</small>"
    cells = "".join(
        f"<tr><td>{_cell(r.before)}</td><td>&rarr;</td><td>{_cell(r.after)}</td></tr>" for r in rows
    )
    head = "<tr><th>before</th><th></th><th>after</th></tr>"
    return f"<table class='mask-preview'>{head}{cells}</table>"


def _cell(value: str | None) -> str:
    return "<i>NULL</i>" if value is None else html.escape(value)


def _mask_text(mask: dict[str, Any] | None) -> str:
    if not mask:
        return "none"
    options = ", ".join(f"{k}={v}" for k, v in mask.items() if k != "kind")
    return f"{mask['kind']}({options})" if options else str(mask["kind"])


class MaskPanel:
    """Masks of one mapping's source columns: suggestions, a kind per column, a preview of
    before -> after on real values, and Apply. Source values are read once per column."""

    def __init__(
        self, store: Store, project: str | int, mapping: SchemaMappingRecord, pair: TablePair
    ) -> None:
        self.store, self.project, self.pair = store, project, pair
        self.mapping = mapping
        self.table = (
            f"{mapping.source_schema}.{mapping.source_table}"
            if mapping.source_schema
            else mapping.source_table
        )
        self.values: dict[str, pa.Array] = {}  # column -> sampled values, read once
        self.suggestions: dict[str, MaskSuggestion] = {}
        self.listing = w.HTML()
        self.column = w.Dropdown(description="Column", options=list(pair.source.table.column_names))
        self.kind = w.Dropdown(description="Mask", options=list(MASK_KINDS), value="none")
        self.preview = w.HTML()
        self.apply = w.Button(description="Apply mask", button_style="warning")
        self.status = w.HTML()
        self.apply.on_click(lambda _b: self.on_apply())
        self.load_suggestions()
        self.column.value = self.first_column()
        self.kind.value = self.kind_of(self.column.value)
        self.column.observe(lambda _c: self.on_column(), names="value")
        self.kind.observe(lambda _c: self.on_preview(), names="value")
        self.view = w.VBox(
            [
                w.HTML("<b>Masking</b>"),
                self.listing,
                w.HBox([self.column, self.kind, self.apply]),
                self.preview,
                self.status,
            ]
        )
        self.on_preview()

    def load_suggestions(self) -> None:
        try:
            found = masking_suggestions.suggest_masks(self.store, self.project, tables=[self.table])
        except WorkbenchError as exc:
            found = []
            self.status.value = _error(exc)
        self.suggestions = {s.column: s for s in found}
        self.listing.value = suggestions_html(found)

    def first_column(self) -> str | None:
        """The first column with a mask to consider (suggested first), else the first column."""
        options = list(self.column.options)
        for status in ("suggested", "masked", "exempt"):
            for name in options:
                if name in self.suggestions and self.suggestions[name].status == status:
                    return name
        return options[0] if options else None

    def current_mask(self, column: str) -> dict[str, Any] | None:
        for c in self.mapping.columns:
            if c.source_column == column and c.state == "accepted":
                return (c.transform or {}).get("mask")
        return None

    def kind_of(self, column: str | None) -> str:
        """The kind shown for a column: its current mask, else the suggested one, else none."""
        if column is None:
            return "none"
        mask = self.current_mask(column) or getattr(self.suggestions.get(column), "mask", None)
        return mask["kind"] if mask else "none"

    def mask(self) -> dict[str, Any] | None:
        """The chosen kind as a mask rule, with the suggested or current options of that kind."""
        column = self.column.value
        like = self.current_mask(column) or getattr(self.suggestions.get(column), "mask", None)
        return masking_suggestions.mask_spec(self.kind.value, like=like)

    def on_column(self) -> None:
        kind = self.kind_of(self.column.value)
        if kind != self.kind.value:
            self.kind.value = kind  # its observer previews
        else:
            self.on_preview()

    def on_preview(self) -> list[mask_preview.PreviewRow]:
        column = self.column.value
        if column is None:
            return []
        try:
            if column not in self.values:
                self.values[column] = mask_preview.sample_values(
                    self.store, self.project, self.table, column
                )
            rows = mask_preview.preview_mask(
                self.store,
                self.project,
                self.table,
                column,
                self.mask(),
                values=self.values[column],
            )
        except WorkbenchError as exc:
            self.preview.value = _error(exc)
            return []
        self.preview.value = preview_html(rows)
        return rows

    def on_apply(self) -> SchemaMappingRecord | None:
        column, mask = self.column.value, None
        try:
            mask = self.mask()
            record = masking_suggestions.set_column_mask(
                self.store, self.project, self.table, column, mask
            )
        except WorkbenchError as exc:
            self.status.value = _error(exc)
            return None
        done = f"masked with {_mask_text(mask)}" if mask else "no longer masked"
        self.status.value = f"{html.escape(column)} is {done}; version {record.version}"
        self.refresh(record)
        return record

    def refresh(self, mapping: SchemaMappingRecord) -> None:
        """After a change of the mapping: suggestions and preview again (values are kept)."""
        self.mapping = mapping
        self.load_suggestions()
        self.on_preview()
