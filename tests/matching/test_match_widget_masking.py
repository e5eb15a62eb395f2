"""The Match widget's masking panel without a browser: suggestions from the stored profile,
the kind dropdown drives a before -> after preview with the project's salt, Apply sets the
mask on the mapping, and what a migration then writes equals the preview."""

from __future__ import annotations

import psycopg

from tests.governance.masking_data import pii_project
from tests.matching.stored import pg_target
from workbench.engine.migrate import run_migration
from workbench.engine.run import CopyOptions
from workbench.governance.mask_preview import PreviewRow
from workbench.matching import mappings
from workbench.widgets.match import MatchWidget, preview_html

__all__ = ["pg_target"]


def test_mask_panel_suggests_previews_and_applies(store, tmp_path, pg_target):
    source = pii_project(store, tmp_path, pg_target)
    (m,) = mappings.list_mappings(store, "crm")
    widget = MatchWidget(store, "crm", m.id)
    panel = widget.masks
    assert panel.view in widget.view.children
    assert set(panel.suggestions) == {"first_name", "last_name", "email", "phone", "card", "ssn"}
    assert "fake(provider=email)" in panel.listing.value and "PII contact" in panel.listing.value
    # the first suggested column is selected with its suggested kind, and previewed
    assert (panel.column.value, panel.kind.value) == ("first_name", "fake")
    assert panel.preview.value.count("&rarr;") == 5

    panel.column.value = "card"
    assert panel.kind.value == "partial"
    rows = panel.on_preview()
    assert all(r.after == "*" * (len(r.before) - 4) + r.before[-4:] for r in rows)
    panel.kind.value = "redact"
    assert "***" in panel.preview.value and rows[0].before in panel.preview.value
    panel.kind.value = "none"
    assert all(r.before == r.after for r in panel.on_preview())

    panel.column.value = "email"
    panel.kind.value = "hash"
    hashed = panel.on_preview()
    assert all(len(r.after) == 16 and r.after != r.before for r in hashed)
    saved = panel.on_apply()
    assert saved is not None and "email is masked with hash" in panel.status.value
    assert panel.suggestions["email"].status == "masked"
    email = next(c for c in saved.columns if c.source_column == "email")
    assert email.transform == {"mask": {"kind": "hash"}}

    result = run_migration("crm", store=store, options=CopyOptions(if_exists="append", workers=1))
    assert result.status == "succeeded"
    ids = dict(zip(source["email"], source["id"], strict=True))
    with psycopg.connect(pg_target) as conn:
        written = dict(conn.execute("SELECT id, email FROM persons").fetchall())
    assert {r.before: written[int(ids[r.before])] for r in hashed} == {
        r.before: r.after for r in hashed
    }


def test_mask_panel_shows_errors_and_escapes_values(store, tmp_path, pg_target):
    pii_project(store, tmp_path, pg_target)
    (m,) = mappings.list_mappings(store, "crm")
    from workbench.matching import decisions

    decisions.reject(store, "crm", m.id, "ssn")
    panel = MatchWidget(store, "crm", m.id).masks
    panel.column.value = "ssn"
    assert panel.kind.value == "redact"
    assert panel.on_apply() is None and "no accepted mapping" in panel.status.value
    html = preview_html([PreviewRow("<b>x</b>", None)])
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "NULL" in html  # values are escaped
    assert "no values" in preview_html([])
