"""Stored profiles reused while unchanged, Dask fan-out, the drift report catching a broken
copy, the CLI, the widget handlers and the full report."""

from __future__ import annotations

import json
import sqlite3

import psycopg
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from workbench.cli import main
from workbench.connectors import connect
from workbench.engine.cluster import dask_client
from workbench.engine.run import CopyOptions, copy_database
from workbench.profiling import ProfileOptions, full_report, profile_stored, profiles_for
from workbench.store import connections, projects
from workbench.store.profiles import count_profiles
from workbench.widgets.profile import ProfileWidget


def test_fingerprint_reuse_and_recompute(store, chinook_copy, connector_for):
    conn = connector_for(chinook_copy)
    first = profile_stored(store, conn, "Genre")
    assert not first.reused
    again = profile_stored(store, conn, "Genre")
    assert again.reused and again.fingerprint == first.fingerprint
    assert again.column("Name").distinct == first.column("Name").distinct
    # same row count, changed content: the exact content signal notices
    db = sqlite3.connect(make_url(chinook_copy).database)
    db.execute('UPDATE "Genre" SET "Name" = \'Acid Polka\' WHERE "GenreId" = 1')
    db.commit()
    db.close()
    changed = profile_stored(store, conn, "Genre")
    assert not changed.reused and changed.fingerprint != first.fingerprint
    assert changed.column("Name").distinct == first.column("Name").distinct  # a new name
    # every name occurs once: the top ten are the first ten by value, the new one among them
    assert "Acid Polka" in [v for v, _ in changed.column("Name").top]
    # other options: not the same profile
    assert not profile_stored(store, conn, "Genre", ProfileOptions(sample_size=10)).reused
    assert profile_stored(store, conn, "Genre", refresh=True).reused is False
    assert count_profiles(store, conn.url, "Genre") == 4


def test_many_tables_on_dask(store, chinook_sqlite):
    with dask_client(workers=2) as client:
        profiles = profiles_for(store, chinook_sqlite, None, client=client)
    assert len(profiles) == 11 and not any(p.reused for p in profiles)
    by_name = {p.table: p for p in profiles}
    assert by_name["Customer"].column("Email").semantic == "email"
    assert by_name["Track"].rows == 3503
    # second call: all reused from the store, nothing profiled
    assert all(p.reused for p in profiles_for(store, chinook_sqlite, ["Track", "Customer"]))


def test_drift_catches_a_broken_copy(
    store, store_settings, store_url, chinook_sqlite, target_url, monkeypatch
):
    result = copy_database(
        chinook_sqlite,
        target_url,
        CopyOptions(tables=("Customer", "Genre"), workers=1),
        store=store,
    )
    assert result.status == "succeeded"
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute('UPDATE public."Customer" SET "Phone" = NULL')
        conn.execute('UPDATE public."Customer" SET "Address" = left("Address", 8)')
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store_url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store_settings.data_dir))
    monkeypatch.setenv("WORKBENCH_USER", "tester")
    out = CliRunner().invoke(main, ["profile", "drift", str(result.job_id), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    rows = {(r["table"], r["column"]): r for r in report["columns"]}
    phone, address = rows[("Customer", "Phone")], rows[("Customer", "Address")]
    assert phone["status"] == "red" and "nulled" in phone["flags"]
    assert phone["target_null_ratio"] == 1.0 and phone["target_distinct"] == 0
    assert address["status"] == "red" and "truncated" in address["flags"]
    assert address["target_max_length"] == 8 < address["source_max_length"]
    untouched = [r for k, r in rows.items() if k[1] not in ("Phone", "Address")]
    assert untouched and all(r["status"] == "green" for r in untouched), [
        (r["column"], r["flags"]) for r in untouched if r["status"] != "green"
    ]
    assert report["red"] == 2


def test_cli_profile_project_connection(
    store, store_settings, store_url, chinook_sqlite, monkeypatch
):
    projects.create_project(store, "shop")
    connections.add_connection(store, "shop", "music", chinook_sqlite, role="source")
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", store_url)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(store_settings.data_dir))
    monkeypatch.setenv("WORKBENCH_USER", "tester")
    runner = CliRunner()
    out = runner.invoke(main, ["profile", "shop", "music", "Customer", "Genre", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert [t["table"] for t in data] == ["Customer", "Genre"]
    phone = next(c for c in data[0]["columns"] if c["name"] == "Phone")
    assert phone["semantic"] == "phone" and phone["pii"] == ["contact"]
    assert data[0]["quality"]["score"] is not None and data[0]["quality"]["rules"]
    again = runner.invoke(main, ["profile", "tables", "shop", "music", "Genre", "--json"])
    assert json.loads(again.stdout)[0]["reused"] is True
    text = runner.invoke(main, ["profile", "shop", "music", "Genre"])
    assert text.exit_code == 0 and "Genre: 25 rows" in text.stdout
    missing = runner.invoke(main, ["profile", "shop", "music", "Nope"])
    assert missing.exit_code == 1 and "Nope" in missing.stderr


def test_widget_handlers_and_full_report(chinook_sqlite, tmp_path):
    conn = connect(chinook_sqlite)
    try:
        widget = ProfileWidget.from_connector(conn, report_dir=tmp_path)
        assert "Customer" in widget.picker.options
        widget.picker.value = "Customer"  # the observer runs the handler
        assert widget.current is not None and widget.current.table == "Customer"
        assert "59 rows" in widget.summary.value
        assert "PII" in widget.warnings.value and "Email" in widget.warnings.value
        assert widget.cards.value.count("<div") == 13 and "good" in widget.cards.value
        assert widget.on_pick("Nope") is None and "Nope" in widget.summary.value
        widget.picker.value = "Genre"
        path = widget.on_report()
        assert path is not None and path.exists() and "Report saved" in widget.report_status.value
        html = path.read_text()
        assert "Genre" in html and "ydata" in html.lower()
        assert full_report(conn, "Genre", tmp_path / "g.html") is not None
    finally:
        conn.close()
