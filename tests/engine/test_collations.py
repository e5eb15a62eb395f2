"""Text keys under every kind of collation arrive exactly once, and validation would say if not.

Partition bounds of a text key are cut and compared in the source's own ordering. Each source
table below is keyed by text under one collation (case- and accent-insensitive, pad-space,
ICU, binary, latin1, composite text + number keys), cut into many partitions, copied, and
compared with the target cell by cell. A plan whose partitions overlap is caught.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from workbench.engine import partitions as partitions_module
from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import ValidationFailedError, WorkbenchError

pytestmark = pytest.mark.slow  # private servers, every collation

N = 400  # base keys per table: with the variants below, ~2,000-3,600 rows per table


def key_variants(i: int) -> list[str]:
    """Keys that sort differently by code point, by case, by accent and with trailing spaces.

    Under a case- or accent-insensitive collation some of them are equal; the source keeps the
    first of each (INSERT IGNORE / ON CONFLICT DO NOTHING), as a real table would hold them.
    """
    return [
        f"apple{i:07d}",
        f"Banana{i:07d}",
        f"APPLE{i:07d}x",
        f"école{i:05d}",
        f"ecole{i:05d}",
        f"Zoë{i}",
        f"zoe{i} ",  # a trailing space: equal to 'zoe{i}' under PAD SPACE collations
        f"zoe{i}",
        f"straße{i}",
        f"strasse{i}",
        f"Ärger{i}",
        f"_under{i}",
        f"~tilde{i}",
    ]


MARIADB_KEYS = {
    "ci_default": "VARCHAR(40)",  # the database default, utf8mb4_general_ci
    "ci_unicode": "VARCHAR(40) COLLATE utf8mb4_unicode_ci",  # accent-insensitive too
    "ci_uca520": "VARCHAR(40) COLLATE utf8mb4_unicode_520_ci",
    "ci_nopad": "VARCHAR(40) COLLATE utf8mb4_general_nopad_ci",
    "bin": "VARCHAR(40) COLLATE utf8mb4_bin",
    "latin1": "VARCHAR(40) CHARACTER SET latin1 COLLATE latin1_swedish_ci",
    "fixed_char": "CHAR(24)",  # CHAR: trailing spaces are not stored
}


def _mysql_connect(url: str):
    import pymysql

    u = make_url(url)
    return pymysql.connect(
        host=u.host, port=u.port, user=u.username, password=u.password or "",
        database=u.database, charset="utf8mb4", autocommit=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def mariadb_collations(mysql_server) -> Iterator[str]:
    name = mysql_server.create_database("wbcoll")
    url = mysql_server.url(name)
    conn = _mysql_connect(url)
    with conn.cursor() as cur:
        cur.execute(f"ALTER DATABASE `{name}` COLLATE utf8mb4_general_ci")
        for table, key_type in MARIADB_KEYS.items():
            cur.execute(
                f"CREATE TABLE `{table}` (k {key_type} NOT NULL PRIMARY KEY, n INT NOT NULL,"
                " note VARCHAR(60))"
            )
            keys = [k for i in range(N) for k in key_variants(i)]
            if table == "latin1":
                keys = [k.encode("latin1", "replace").decode("latin1") for k in keys]
            cur.executemany(
                f"INSERT IGNORE INTO `{table}` VALUES (%s, %s, %s)",
                [(k, j, f"row {j} {k!r}") for j, k in enumerate(keys)],
            )
        # a composite key mixing text (case-insensitive) and numbers
        cur.execute(
            "CREATE TABLE composite (name VARCHAR(30) NOT NULL, n INT NOT NULL, note TEXT,"
            " PRIMARY KEY (name, n))"
        )
        names = ["alpha", "Alpha2", "BETA", "beta3", "Gamma", "éclair", "eclair2", "zulu "]
        cur.executemany(
            "INSERT IGNORE INTO composite VALUES (%s, %s, %s)",
            [(nm, n, f"{nm}/{n}") for nm in names for n in range(-150, 250)],
        )
    conn.close()
    yield url
    mysql_server.drop_database(name)


def mariadb_rows(url: str, table: str) -> list[tuple]:
    conn = _mysql_connect(url)
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM `{table}`")
        out = [tuple(r) for r in cur.fetchall()]
    conn.close()
    return out


def pg_rows(url: str, qualified: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(f"SELECT * FROM {qualified}").fetchall()]


def assert_same_rows(source: list[tuple], target: list[tuple], what: str) -> None:
    assert len(target) == len(source), f"{what}: {len(source)} source rows, {len(target)} target"
    assert sorted(target) == sorted(source), f"{what}: rows differ"
    keys = [r[:2] if what == "composite" else r[0] for r in target]
    assert len(set(map(str, keys))) == len(keys), f"{what}: duplicate keys in the target"


def test_mariadb_text_keys_under_every_collation(mariadb_collations, target_url, store):
    result = copy_database(
        mariadb_collations, target_url, CopyOptions(workers=2, partition_rows=300), store=store
    )
    assert result.status == "succeeded" and result.validated, result.validation
    db = make_url(mariadb_collations).database
    for table in [*MARIADB_KEYS, "composite"]:
        source = mariadb_rows(mariadb_collations, table)
        assert len(source) > 1000, table
        assert result.tables[f"{db}.{table}"]["partitions"] >= 4, table
        target = pg_rows(target_url, f'"{db}"."{table}"')
        if table == "fixed_char":  # PostgreSQL returns char(n) padded; MariaDB strips pads
            target = [(r[0].rstrip(" "), *r[1:]) for r in target]
        assert_same_rows(source, target, table)
    # the primary keys were built: no duplicates could hide behind a warning
    with psycopg.connect(target_url) as conn:
        keyed = conn.execute(
            "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE n.nspname = %s AND c.contype = 'p'",
            (db,),
        ).fetchone()[0]
    assert keyed == len(MARIADB_KEYS) + 1


# --- PostgreSQL with ICU collations ----------------------------------------------------------


@pytest.fixture(scope="module")
def icu_pg(debian_pg) -> Iterator[str]:
    name = debian_pg.create_database("wbicu")
    url = debian_pg.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2',"
            " deterministic = false)"
        )
        conn.execute(
            "CREATE COLLATION ai (provider = icu, locale = 'und-u-ks-level1',"
            " deterministic = false)"
        )
        for table, collation in {
            "icu_default": "",
            "icu_case_insensitive": 'COLLATE "ci"',
            "icu_accent_insensitive": 'COLLATE "ai"',
            "icu_german": 'COLLATE "de-x-icu"',
            "c_binary": 'COLLATE "C"',
        }.items():
            conn.execute(
                f"CREATE TABLE {table} (k text {collation} PRIMARY KEY, n int NOT NULL, note text)"
            )
            keys = [k for i in range(N // 2) for k in key_variants(i)]
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO {table} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    [(k, j, f"row {j}") for j, k in enumerate(keys)],
                )
        conn.execute(
            'CREATE TABLE composite (name text COLLATE "ci", n int, note text,'
            " PRIMARY KEY (name, n))"
        )
        names = ["alpha", "Alpha2", "BETA", "beta3", "Gamma", "éclair", "eclair2"]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO composite VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                [(nm, n, f"{nm}/{n}") for nm in names for n in range(-100, 200)],
            )
        conn.execute("ANALYZE")
    yield url


ICU_TABLES = (
    "icu_default",
    "icu_case_insensitive",
    "icu_accent_insensitive",
    "icu_german",
    "c_binary",
    "composite",
)


def _same_tables(result: Any, source: str, target: str) -> None:
    assert result.status == "succeeded" and result.validated, result.validation
    for table in ICU_TABLES:
        rows = pg_rows(source, f"public.{table}")
        assert len(rows) > 1000, table
        assert result.tables[f"public.{table}"]["partitions"] >= 4, table
        assert_same_rows(rows, pg_rows(target, f"public.{table}"), table)


def test_postgres_text_keys_under_icu_collations(icu_pg, debian_pg, store):
    """Into a target with ICU: each column keeps its collation (the source's own "ci" and
    "ai" made there), and its keys are cut and compared under it on both sides."""
    target = debian_pg.url(debian_pg.create_database("wbicutarget"))
    options = CopyOptions(workers=2, partition_rows=250)
    _same_tables(copy_database(icu_pg, target, options, store=store), icu_pg, target)
    with psycopg.connect(target) as conn:
        kept = conn.execute(
            "SELECT c.relname, co.collname FROM pg_attribute a JOIN pg_class c"
            " ON c.oid = a.attrelid JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE a.attname IN ('k', 'name') AND c.relkind = 'r'"
            " AND c.relnamespace = 'public'::regnamespace ORDER BY 1"
        ).fetchall()
    assert kept == [
        ("c_binary", "C"),
        ("composite", "ci"),
        ("icu_accent_insensitive", "ai"),
        ("icu_case_insensitive", "ci"),
        ("icu_default", "default"),
        ("icu_german", "de-x-icu"),
    ]


def test_postgres_text_keys_under_icu_collations_into_the_targets_default(
    icu_pg, target_url, store
):
    """Into a target without ICU (pgserver's): the collations cannot be made there, and the
    job says so before anything is copied; with ``collations: default`` the columns take the
    target's own, and the keys are still cut and compared in the source's order."""
    with pytest.raises(WorkbenchError) as caught:
        copy_database(icu_pg, target_url, CopyOptions(workers=2), store=store)
    message = str(caught.value)
    assert "cannot make or find a column collation" in message, message
    assert "Nothing was copied" in message and "collations=default" in message
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.icu_default')").fetchone() == (None,)
    options = CopyOptions(workers=2, partition_rows=250, type_options={"collations": "default"})
    _same_tables(copy_database(icu_pg, target_url, options, store=store), icu_pg, target_url)


# --- a plan that overlaps is caught -------------------------------------------------------------


def test_overlapping_partitions_are_caught_by_validation(
    mariadb_collations, target_url, store, monkeypatch
):
    """Partition bounds sorted by code point (the old bug) overlap under a case-insensitive
    collation: the job must fail validation, naming the table and the overlap."""
    cut = partitions_module.bounds_to_partitions

    def code_point_order(table, columns, points, row_estimate):
        return cut(table, columns, sorted(points), row_estimate)

    monkeypatch.setattr(partitions_module, "bounds_to_partitions", code_point_order)
    options = CopyOptions(workers=1, partition_rows=300, tables=("ci_default",), finish=False)
    with pytest.raises(ValidationFailedError) as caught:
        copy_database(mariadb_collations, target_url, options, store=store)
    message = str(caught.value)
    assert "ci_default" in message and "overlap" in message, message
    assert "copy and follow it with `workbench copy --follow`" in message  # may be writes
    assert caught.value.fields["job_id"]
