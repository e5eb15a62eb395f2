"""MariaDB keys whose order is not their text's: each row arrives exactly once.

A key cut into ranges must be compared as the source sorts it. MariaDB sorts an ENUM by its
members' declared positions and a SET by its bit value, while ``k >= 'label'`` compares
text: ranges cut from sorted labels overlapped (an ENUM-led key copied 5,171 rows of 2,000).
A TIME bound of more than 24 hours or below zero was rendered by Python's ``str`` ("-1 day,
12:00:00", "1 day, 6:01:00"), which MariaDB reads as -1 and 1 second: such bounds fell out of
order and their ranges overlapped. Each table below is cut into many partitions,
copied, validated and compared with the target row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from workbench.connectors.mysql import literal
from workbench.engine.run import CopyOptions, copy_database

N = 1200
LABELS = ("zeta", "alpha", "Mid", "beta", "ähm")  # declared order is not text order
FLAGS = ("b", "a", "c")


def _time(i: int) -> dt.timedelta:
    """Durations up to 60 hours either side of zero, with microseconds: bounds below and
    above 24 hours (read as seconds, those above sorted before those below: ranges overlap)."""
    value = dt.timedelta(hours=i % 60, minutes=i % 59, seconds=(7 * i) % 60, microseconds=i)
    return -value if i % 3 == 0 else value


@pytest.fixture(scope="module")
def odd_keys(mysql_server) -> Iterator[tuple[str, str]]:
    name = mysql_server.create_database("wbodd")
    with mysql_server.connect(name) as conn, conn.cursor() as cur:
        members = ", ".join(f"'{m}'" for m in LABELS)
        cur.execute(
            f"CREATE TABLE enum_led (k ENUM({members}) NOT NULL, n INT NOT NULL, v VARCHAR(9),"
            " PRIMARY KEY (k, n))"
        )
        cur.executemany(
            "INSERT INTO enum_led VALUES (%s, %s, %s)",
            [(LABELS[i % len(LABELS)], i, f"v{i}") for i in range(N)],
        )
        flags = ", ".join(f"'{m}'" for m in FLAGS)
        cur.execute(
            f"CREATE TABLE set_led (s SET({flags}) NOT NULL, n INT NOT NULL, PRIMARY KEY (s, n))"
        )
        subsets = ["b", "a", "c", "b,a", "b,c", "a,c", "b,a,c"]
        cur.executemany(
            "INSERT INTO set_led VALUES (%s, %s)", [(subsets[i % 7], i) for i in range(N)]
        )
        cur.execute("CREATE TABLE time_key (t TIME(6) NOT NULL PRIMARY KEY, v INT)")
        cur.executemany("INSERT INTO time_key VALUES (%s, %s)", [(_time(i), i) for i in range(N)])
    yield mysql_server.url(name), name
    mysql_server.drop_database(name)


def _source_rows(mysql_server, db: str, table: str) -> list[tuple]:
    with mysql_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM `{table}`")
        return sorted(_plain(r) for r in cur.fetchall())


def _target_rows(target_url: str, db: str, table: str) -> list[tuple]:
    with psycopg.connect(target_url) as conn:
        return sorted(_plain(r) for r in conn.execute(f'SELECT * FROM "{db}"."{table}"'))


def _plain(row: tuple) -> tuple:
    """A SET as its members in declared order, whichever way each side spells it."""
    out = []
    for value in row:
        if isinstance(value, list | set):
            value = ",".join(m for m in FLAGS if m in value)
        elif isinstance(value, str) and set(value.split(",")) <= set(FLAGS):
            value = ",".join(m for m in FLAGS if m in value.split(","))
        out.append(value)
    return tuple(out)


def test_keys_ordered_by_number_or_by_duration_arrive_once(
    odd_keys, mysql_server, target_url, store
):
    url, db = odd_keys
    result = copy_database(url, target_url, CopyOptions(workers=2, partition_rows=100), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    for table in ("enum_led", "set_led", "time_key"):
        assert result.tables[f"{db}.{table}"]["partitions"] >= 4, table
        source = _source_rows(mysql_server, db, table)
        target = _target_rows(target_url, db, table)
        assert len(source) == N, table
        assert target == source, f"{table}: rows differ"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.timedelta(hours=-12, microseconds=5), "'-11:59:59.999995'"),
        (dt.timedelta(hours=30, minutes=1), "'30:01:00.000000'"),
        (dt.timedelta(seconds=-1), "'-00:00:01.000000'"),
        (dt.timedelta(hours=838, minutes=59, seconds=59), "'838:59:59.000000'"),
    ],
)
def test_time_bounds_are_mariadb_time_literals(value: dt.timedelta, text: str) -> None:
    assert literal(value) == text
