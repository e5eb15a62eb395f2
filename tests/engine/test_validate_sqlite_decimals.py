"""SQLite decimals are doubles; the copy loads their text, which PostgreSQL rounds to the
column's scale. The validation's canonical text must print what PostgreSQL holds: printf
keeps the sign of a negative value rounding to zero ('-0.00'), a false mismatch before.
"""

from __future__ import annotations

import sqlite3

import psycopg

from workbench.engine.repair import validate_job
from workbench.engine.run import CopyOptions, copy_database

VALUES = [2.67, -2.68, 0.13, 0.375, 12.5, 99.99, 0.0, -0.001, -0.0049, -0.004, 1e-7, -1e-7,
          123456789.34, 5, -12.5, 1234.5649999999, None]  # fmt: skip


def test_decimals_rounded_by_the_target_validate_and_a_change_is_found(tmp_path, target_url, store):
    db = tmp_path / "prices.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE prices (id INTEGER PRIMARY KEY, p DECIMAL(12, 2), q NUMERIC(8, 0))")
    conn.executemany(
        "INSERT INTO prices VALUES (?, ?, ?)", [(i, v, v) for i, v in enumerate(VALUES, 1)]
    )
    conn.commit()
    conn.close()
    result = copy_database(f"sqlite:///{db}", target_url, CopyOptions(), store=store)
    assert result.status == "succeeded" and result.validated and result.validation.ok
    with psycopg.connect(target_url, autocommit=True) as c:
        landed = dict(c.execute("SELECT id, p::text FROM prices").fetchall())
        assert (landed[1], landed[8], landed[12]) == ("2.67", "0.00", "0.00")
        c.execute("UPDATE prices SET p = 2.68 WHERE id = 1")
    report = validate_job(result.job_id, store=store)
    assert not report.ok
    (table,) = report.mismatched
    assert "in column(s) p" in " ".join(table.reasons), table.reasons
