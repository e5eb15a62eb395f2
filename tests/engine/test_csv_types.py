"""A CSV lands digit for digit: decimals as numeric, and values past the sniffer's sample.

DuckDB types a CSV's columns from its first rows. Decimals were read as DOUBLE (15-17
significant digits: ``12345678901234567.891`` landed as ``1.2345678901234568e+16`` in a
``double precision`` column, and validation, comparing the DuckDB view with the target, said
validated), and a value past the sample that its column's type cannot take (``n/a`` among
numbers) failed the copy mid-table. Every row is now checked before the read.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError

N = 30_000  # past DuckDB's sample of 20,480 rows


def _write(path: Path) -> list[tuple[int, str, str, str]]:
    rows = []
    for i in range(N):
        amount = f"{i * 7919 % 1_000_000}.{i % 100:02d}"
        if i == N - 10:
            amount = "12345678901234567.891"  # more digits than a double keeps, past the sample
        qty = "n/a" if i == N - 5 else str(i)
        rows.append((i, amount, f"{i / 7:.6e}", qty))
    path.write_text("id,amount,ratio,qty\n" + "".join(f"{i},{a},{r},{q}\n" for i, a, r, q in rows))
    return rows


def test_decimals_stay_exact_and_late_values_that_do_not_fit_land_as_text(
    tmp_path: Path, target_url, store, caplog
):
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = _write(folder / "pay.csv")
    result = copy_database(f"csv://{folder}", target_url, CopyOptions(workers=2), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    assert "column 'qty' is read as text" in caplog.text
    with psycopg.connect(target_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, format_type(atttypid, atttypmod) FROM pg_attribute a "
                "JOIN information_schema.columns c ON c.column_name = a.attname "
                "AND c.table_name = 'pay' AND c.table_schema = 'public' "
                "WHERE a.attrelid = 'public.pay'::regclass"
            ).fetchall()
        )
        landed = conn.execute(
            "SELECT id, amount, ratio, qty FROM public.pay ORDER BY id"
        ).fetchall()
    assert types == {
        "id": "bigint",
        "amount": "numeric(20,3)",  # 17 integer digits and 3 decimals
        "ratio": "double precision",  # written with exponents: a float by intent
        "qty": "text",
    }
    assert [(i, a, q) for i, a, _, q in landed] == [(i, Decimal(a), q) for i, a, _, q in rows]
    assert [r for *_, r, _ in landed] == [float(r) for *_, r, _ in rows]


def test_a_line_with_more_fields_stops_the_job_before_anything_is_copied(
    tmp_path: Path, target_url, store
):
    folder = tmp_path / "exports"
    folder.mkdir()
    # DuckDB read a file whose lines within its sample differ as one column of whole lines,
    # and failed mid-copy on such a line past the sample
    (folder / "early.csv").write_text("a,b\n1,2\n3,4,5\n6,7\n")
    lines = [f"{i},{i}" if i != 25_000 else f"{i},{i},oops" for i in range(N)]
    (folder / "late.csv").write_text("a,b\n" + "\n".join(lines) + "\n")
    for name, line, text in (("early", 3, "3,4,5"), ("late", 25_002, "25000,25000,oops")):
        only = tmp_path / name
        only.mkdir()
        (folder / f"{name}.csv").rename(only / f"{name}.csv")
        with pytest.raises(InvalidInputError) as info:
            copy_database(f"csv://{only}", target_url, CopyOptions(workers=2), store=store)
        message = str(info.value)
        assert f"{name}.csv line {line}: Expected Number of Columns: 2 Found: 3" in message
        assert repr(text) in message and "Nothing was copied" in message
    with psycopg.connect(target_url) as conn:
        assert conn.execute(
            "SELECT to_regclass('public.late'), to_regclass('public.early')"
        ).fetchone() == (None, None)


def test_a_latin1_file_needs_its_encoding_named_and_then_lands_as_utf8(
    tmp_path: Path, target_url, store
):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "cities.csv").write_bytes("name,n\nZürich,1\nMálaga,2\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"cities.csv line 2: .*\?encoding=latin-1"):
        copy_database(f"csv://{folder}", target_url, CopyOptions(workers=2), store=store)
    result = copy_database(
        f"csv://{folder}?encoding=latin-1", target_url, CopyOptions(workers=2), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target_url) as conn:
        landed = conn.execute("SELECT name, n FROM public.cities ORDER BY n").fetchall()
    assert landed == [("Zürich", 1), ("Málaga", 2)]
    with pytest.raises(InvalidInputError, match="cp1252"):
        copy_database(f"csv://{folder}?encoding=cp1252", target_url, CopyOptions(), store=store)


def test_the_check_is_made_once_per_file_for_every_process_on_the_host(
    tmp_path: Path, monkeypatch, caplog
):
    """Each worker process creates the folder's views: without the cache file each would scan
    every file of the folder again (about 1 s per 175 MB each)."""
    from workbench.connectors import csv_types
    from workbench.connectors.duckdb import duckdb_module

    path = tmp_path / "pay.csv"
    _write(path)
    first = csv_types.type_overrides(duckdb_module(), path)
    assert first == {"amount": "DECIMAL(20, 3)", "qty": "VARCHAR"}
    caplog.clear()
    monkeypatch.setattr(csv_types, "_CHECKED", {})  # as a new process would start

    def scan(*args: object) -> None:
        raise AssertionError("scanned again")

    monkeypatch.setattr(csv_types, "_check", scan)
    assert csv_types.type_overrides(duckdb_module(), path) == first
    assert "column 'qty' is read as text" in caplog.text  # said in every process
    path.write_text(path.read_text() + "30000,1.5,1e-3,7\n")  # another file now: checked anew
    with pytest.raises(AssertionError, match="scanned again"):
        csv_types.type_overrides(duckdb_module(), path)


def test_a_csv_larger_than_the_readers_buffer_is_copied(tmp_path: Path, target_url, store):
    """DuckDB's CSV reader takes a file in 32 MB buffers: under the folder's 32 MB memory
    bound, a CSV over ~30 MB failed every job ("could not allocate block of size 30.5 MiB")."""
    from workbench.connectors.duckdb import duckdb_module

    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "wide.csv"
    conn = duckdb_module().connect()
    conn.execute(
        "COPY (SELECT i AS id, (i % 100000) / 100.0 AS amount, repeat('x', 20) || i AS label"
        f" FROM range(1000000) t(i)) TO '{path}' (HEADER)"
    )
    conn.close()
    assert path.stat().st_size > 36 * 2**20
    result = copy_database(f"csv://{folder}", target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target_url) as conn:
        assert conn.execute(
            "SELECT count(*), sum(amount), max(label) FROM public.wide"
        ).fetchone() == (1_000_000, Decimal("499995000.00"), "x" * 20 + "999999")
