"""Batches reach PostgreSQL through COPY's text format exactly: the characters text escapes,
NULL against the empty string and the literal ``\\N``, floats at their limits, bytes, lists."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest

from workbench.connectors.pgcopy import copy_batch, to_copy_text

TEXTS = ["", None, "\\N", "\\.", "a\tb", "line\nbreak", "cr\rhere", "back\\slash",
         'quote "q" \'s', "Grüße 😀", " spaced ", "NULL", "{a,b}"]  # fmt: skip
FLOATS = [0.1, -0.0, 1e300, -1e-300, math.inf, -math.inf, math.nan, None, 2.5, 1 / 3, 123456789.125,
          5e-324, 1.7976931348623157e308]  # fmt: skip


@pytest.mark.parametrize("quotes", [True, False], ids=["csv (a quote)", "text"])
def test_awkward_values_arrive_exactly(pg_database, quotes):
    texts = TEXTS if quotes else [t.replace('"', "") if t else t for t in TEXTS]
    n = len(texts)
    batch = pa.table(
        {
            "t": pa.array(texts, pa.string()),
            "f": pa.array(FLOATS, pa.float64()),
            "b": pa.array([bytes([i, 0, 92, 9, 10]) if i % 3 else None for i in range(n)]),
            "l": pa.array([["x", None, "q\\", ""] if i % 2 else None for i in range(n)]),
            "d": pa.array([Decimal("-0.05")] * (n - 1) + [None], pa.decimal128(12, 2)),
            "ts": pa.array(
                [dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)] * 6 + [None],
                pa.timestamp("us"),
            ),
            "ok": pa.array([True, False, None] * 4 + [True]),
        }
    )
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE t (i serial, t text, f float8, b bytea, l text[], d numeric(12,2),"
            " ts timestamp, ok boolean)"
        )
        if not quotes:  # array literals quote their elements: lists go as CSV too
            batch = batch.drop_columns(["l"]).append_column("l", pa.nulls(n, pa.list_(pa.string())))
        assert (to_copy_text(batch) is None) == quotes  # a quote: this batch goes as CSV
        with conn.transaction():
            copy_batch(conn.cursor(), None, "t", batch)
        got = conn.execute("SELECT t, f, b, l, d, ts, ok FROM t ORDER BY i").fetchall()
    want = batch.to_pylist()
    assert len(got) == n
    for row, expected in zip(got, want, strict=True):
        t, f, b, lst, d, ts, ok = row
        assert t == expected["t"]
        if expected["f"] is not None and math.isnan(expected["f"]):
            assert math.isnan(f)
        else:
            assert f == expected["f"] and repr(f) == repr(expected["f"])  # -0.0 stays -0.0
        assert (bytes(b) if b is not None else None) == expected["b"]
        assert lst == expected["l"]
        assert (d, ts, ok) == (expected["d"], expected["ts"], expected["ok"])


def test_one_line_per_row_whatever_the_values():
    batch = pa.table({"a": ["x\ny", None, "\\"], "b": [1, 2, None]})
    assert to_copy_text(batch) == b"x\\ny\t1\n\\N\t2\n\\\\\t\\N\n"
    assert to_copy_text(batch.slice(1, 1)) == b"\\N\t2\n"  # a slice renders only its rows
    assert to_copy_text(batch.slice(0, 0)) == b""
    assert to_copy_text(pa.table({"a": ['say "hi"']})) is None
