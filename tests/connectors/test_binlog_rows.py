"""The follower's own row-image decoder returns exactly what python-mysql-replication returns.

A private MariaDB with a row-based binary log; rows of every type the decoder takes (integers
of each width and sign, floats, DECIMALs of many precisions and signs, zero and real dates,
DATETIME/TIMESTAMP of each fraction, YEAR, 1- and 2-byte-length strings in utf8mb4 and latin1)
are inserted, updated and deleted; the changes read by ``read_changes`` (decoder) and by the
library alone are compared value for value. A table with other types (TEXT, JSON, ENUM, SET,
BIT, TIME) is read by the library and still comes out the same.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.servers import MySQLServer, start_binlog_mariadb
from workbench.connectors import connect
from workbench.connectors.binlog_rows import row_decoder
from workbench.connectors.changes import RowChange
from workbench.connectors.mysql_binlog import _settings, current_position, read_changes

pytestmark = pytest.mark.slow  # a private MariaDB

EVERY = """CREATE TABLE every (
  id int PRIMARY KEY, t tinyint, tu tinyint unsigned, s smallint, su smallint unsigned,
  m mediumint, mu mediumint unsigned, i int, iu int unsigned, b bigint, bu bigint unsigned,
  f float, d double, d65 decimal(65,30), d10 decimal(10,2), d5 decimal(5,0), d18 decimal(18,9),
  d44 decimal(4,4), dt date, t0 datetime, t3 datetime(3), t6 datetime(6), t1 datetime(1),
  ts0 timestamp NULL, ts2 timestamp(2) NULL, ts5 timestamp(5) NULL, y year,
  v varchar(20), vl varchar(300), c char(10) CHARACTER SET latin1,
  vb varchar(20) COLLATE utf8mb4_bin
)"""
OTHER = """CREATE TABLE other (
  id int PRIMARY KEY, txt text, j json, e enum('a','b'), st set('y','x'), bt bit(10), tm time(3),
  g point NULL
)"""


def _every_row(key: int, rng: random.Random) -> tuple:
    def maybe(value):
        return None if rng.random() < 0.15 else value

    def dec(digits: int, scale: int) -> Decimal:
        whole = rng.randrange(0, 10 ** (digits - scale)) if digits > scale else 0
        frac = rng.randrange(0, 10**scale) if scale else 0
        text = f"{'-' if rng.random() < 0.4 else ''}{whole}" + (
            f".{frac:0{scale}d}" if scale else ""
        )
        return Decimal(text)

    def stamp(fraction: int) -> str:
        base = f"20{rng.randrange(10, 37)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 9)} "
        base += f"{rng.randrange(0, 24):02d}:{rng.randrange(0, 60):02d}:{rng.randrange(0, 60):02d}"
        return base + (f".{rng.randrange(0, 10**fraction):0{fraction}d}" if fraction else "")

    return (
        key,
        maybe(rng.randrange(-128, 128)),
        maybe(rng.randrange(0, 256)),
        maybe(rng.randrange(-32768, 32768)),
        maybe(rng.randrange(0, 65536)),
        maybe(rng.randrange(-(2**23), 2**23)),
        maybe(rng.randrange(0, 2**24)),
        maybe(rng.randrange(-(2**31), 2**31)),
        maybe(rng.randrange(0, 2**32)),
        maybe(rng.randrange(-(2**63), 2**63)),
        maybe(rng.choice([0, 2**64 - 1, rng.randrange(0, 2**64)])),
        maybe(rng.uniform(-1e30, 1e30)),
        maybe(rng.uniform(-1e300, 1e300)),
        maybe(dec(65, 30)),
        maybe(dec(10, 2)),
        maybe(dec(5, 0)),
        maybe(dec(18, 9)),
        maybe(dec(4, 4)),
        maybe(rng.choice(["0000-00-00", "2024-02-29", "1000-01-01", "9999-12-31", "2024-00-10"])),
        maybe(stamp(0)),
        maybe(stamp(3)),
        maybe(rng.choice(["9999-12-31 23:59:59.999999", "0000-00-00 00:00:00", stamp(6)])),
        maybe(stamp(1)),
        maybe(rng.choice(["1970-01-01 00:00:01", "2038-01-19 03:14:07", stamp(0)])),
        maybe(stamp(2)),
        maybe(stamp(5)),
        maybe(rng.choice([1901, 2155, 0, 2024])),
        maybe(rng.choice(["", "plain", "ünïcödé 😀", "tab\tnew\nline"])),
        maybe("x" * rng.randrange(250, 301)),
        maybe(rng.choice(["", "café", "naïve"])),
        maybe(rng.choice(["Case", "case", "a\\b"])),
    )


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MySQLServer]:
    server = start_binlog_mariadb(Path("/tmp") / f"wbbinlogrows-{os.getpid()}", server_id=12)
    yield server
    server.stop()


def _library_changes(url: str, start, tables: set[str]) -> list[tuple]:
    """The same changes read by python-mysql-replication alone."""
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

    stream = BinLogStreamReader(
        connection_settings=_settings(url),
        server_id=4242,
        resume_stream=True,
        log_file=start.file,
        log_pos=start.offset,
        blocking=False,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent],
    )
    out = []
    try:
        for event in stream:
            if event.table not in tables:
                continue
            for row in event.rows:
                if isinstance(event, WriteRowsEvent):
                    out.append((event.table, "insert", None, row["values"]))
                elif isinstance(event, UpdateRowsEvent):
                    out.append((event.table, "update", row["before_values"], row["after_values"]))
                else:
                    out.append((event.table, "delete", row["values"], None))
    finally:
        stream.close()
    return out


def _as_selected(change: tuple) -> tuple:
    """The library's SET (a Python set; None when empty), POINT (MySQL's SRID, then WKB) and
    YEAR 0000 values as the copy reads them: the reader's contract."""
    table, op, before, after = change
    if table == "every":  # YEAR 0000, which the library reads as 1900 (not a YEAR value)
        for row in (before, after):
            if row is not None and row["y"] == 1900:
                row["y"] = 0
        return change
    if table != "other":
        return change
    for row in (before, after):
        if row is not None:
            row["st"] = ",".join(m for m in ("y", "x") if m in (row["st"] or ()))
            row["g"] = None if row["g"] is None else row["g"][4:]
    return (table, op, before, after)


def test_the_decoder_reads_what_the_library_reads(mariadb, monkeypatch):
    from workbench.connectors import mysql_binlog

    decided: dict[str, bool] = {}

    def spy(columns, encoding_of):
        found = row_decoder(columns, encoding_of)
        decided["every" if "d65" in [c.name for c in columns] else "other"] = found is not None
        return found

    monkeypatch.setattr(mysql_binlog, "row_decoder", spy)
    db = mariadb.create_database("rows")
    url = mariadb.url(db)
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")  # zero dates
        cur.execute("SET time_zone = '+00:00'")
        cur.execute(EVERY)
        cur.execute(OTHER)
    source = connect(url)
    start = current_position(source)
    source.close()
    rng = random.Random(7)
    marks = ", ".join(["%s"] * 31)
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("SET time_zone = '+00:00'")
        cur.executemany(
            f"INSERT INTO every VALUES ({marks})", [_every_row(k, rng) for k in range(1, 401)]
        )
        for key in range(1, 401, 3):
            row = _every_row(key, rng)
            cur.execute(f"REPLACE INTO every VALUES ({marks})", row)  # delete + insert or update
            cur.execute(
                "UPDATE every SET d65 = -d65, vl = NULL, ts5 = NOW(5) WHERE id = %s", key + 1
            )
        cur.execute("UPDATE every SET id = id + 1000 WHERE id % 7 = 0")  # keys move
        cur.execute("DELETE FROM every WHERE id % 5 = 0")
        cur.executemany(
            "INSERT INTO other VALUES (%s, %s, %s, %s, %s, %s, %s, ST_PointFromText(%s))",
            [
                (
                    k,
                    "text " * k,
                    '{"k": [1, "é"]}',
                    "ab"[k % 2],
                    "x,y" if k % 2 else "",
                    k,
                    "-838:59:59.000",
                    f"POINT({k} {-k / 3})",
                )
                for k in range(1, 30)
            ],
        )
        cur.execute("UPDATE other SET txt = NULL, tm = '12:34:56.789' WHERE id < 10")
        cur.execute("DELETE FROM other WHERE id > 20")
        conn.commit()
    ours = [
        (c.table, c.op, c.before, c.after)
        for c in read_changes(url, start, ["every", "other"])
        if isinstance(c, RowChange)
    ]
    theirs = _library_changes(url, start, {"every", "other"})
    assert decided == {"every": True, "other": False}  # ours for one, the library's for one
    assert len(ours) == len(theirs) > 800
    kinds = {(t, k) for t, k, _, _ in ours}
    assert kinds == {(t, k) for t in ("every", "other") for k in ("insert", "update", "delete")}
    with mariadb.connect(db) as conn, conn.cursor() as cur:  # the copy reads these so
        cur.execute("SELECT id, st, ST_AsBinary(g) FROM other")
        selected = {row[0]: row[1:] for row in cur.fetchall()}
    final = {row["id"]: row for table, op, _, row in ours if table == "other" and row is not None}
    for key, (members, wkb) in selected.items():
        assert (final[key]["st"], final[key]["g"]) == (members, wkb)
    theirs = [_as_selected(change) for change in theirs]
    for mine, library in zip(ours, theirs, strict=True):
        assert mine == library
        assert repr(mine) == repr(library)  # the same types, and DECIMALs' scales (1.50)


def _from_here(server: MySQLServer, prefix: str, *statements: str) -> tuple[str, str, Any]:
    """A new database of ``server`` where ``statements`` ran: its name, URL, and the binary
    log's position after them (where the changes a test reads start)."""
    db = server.create_database(prefix)
    with server.connect(db) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    source = connect(server.url(db))
    try:
        return db, server.url(db), current_position(source)
    finally:
        source.close()


def test_a_non_transactional_tables_changes_end_with_their_commit(mariadb):
    """MariaDB ends a MyISAM/Aria statement's changes with a COMMIT statement, not an XID:
    the reader yields the changes, then their commit (the follower applies nothing it has
    not seen committed)."""
    from workbench.connectors.changes import Commit

    db, url, start = _from_here(
        mariadb, "aria", "CREATE TABLE plain (id int PRIMARY KEY, v varchar(10)) ENGINE=Aria"
    )
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO plain VALUES (1, 'a'), (2, 'b')")
        cur.execute("UPDATE plain SET v = 'c' WHERE id = 2")
    items = list(read_changes(url, start, ["plain"]))
    shape = [type(i).__name__ for i in items]
    assert shape == ["RowChange", "RowChange", "Commit", "RowChange", "Commit"]
    assert items[3].after == {"id": 2, "v": "c"}
    assert isinstance(items[-1], Commit) and items[-1].position.offset > start.offset


def test_compressed_events_stop_the_reader_with_the_setting_named(mariadb):
    """A compressed rows event cannot be read: skipping it would lose the change silently."""
    from workbench.errors import ConfigurationError

    db, url, start = _from_here(
        mariadb, "packed", "CREATE TABLE packed (id int PRIMARY KEY, v varchar(2000))"
    )
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL log_bin_compress = ON")
        try:
            cur.execute(f"INSERT INTO `{db}`.packed VALUES (1, %s)", ("x" * 1500,))
        finally:
            cur.execute("SET GLOBAL log_bin_compress = OFF")
    with pytest.raises(ConfigurationError, match="log_bin_compress"):
        list(read_changes(url, start, ["packed"]))


def test_a_purged_log_is_named_with_what_to_do(mariadb):
    from workbench.errors import ConfigurationError

    _, url, start = _from_here(mariadb, "purged")
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("FLUSH BINARY LOGS")
        for _ in range(50):  # a log is kept until the engine's checkpoint has passed it
            cur.execute("SHOW MASTER STATUS")
            cur.execute(f"PURGE BINARY LOGS TO '{cur.fetchone()[0]}'")
            cur.execute("SHOW BINARY LOGS")
            if start.file not in [row[0] for row in cur.fetchall()]:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"{start.file} could not be purged")
    with pytest.raises(ConfigurationError, match=f"no longer holds.*{start.file}.*--follow"):
        list(read_changes(url, start, ["t"]))


def test_changes_across_a_log_rotation_keep_their_positions(mariadb):
    """A rotation (FLUSH BINARY LOGS, a size limit, a restart) moves the stream to the next
    file: the changes after it carry positions in that file, and reading resumes from any
    of them with nothing read twice or skipped."""
    from workbench.connectors.changes import Commit

    db, url, start = _from_here(mariadb, "rotate", "CREATE TABLE r (id int PRIMARY KEY, v int)")
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        for i in range(1, 7):
            cur.execute("INSERT INTO r VALUES (%s, %s)", (i, i))
            conn.commit()
            if i % 2 == 0:
                cur.execute("FLUSH BINARY LOGS")
    items = list(read_changes(url, start, ["r"]))
    commits = [i for i in items if isinstance(i, Commit)]
    inserted = [i.after["id"] for i in items if isinstance(i, RowChange)]
    assert inserted == [1, 2, 3, 4, 5, 6] and len(commits) == 6
    files = [c.position.file for c in commits]
    assert len(set(files)) == 3 and files == sorted(files) and files[0] == start.file
    for n, commit in enumerate(commits):  # resuming after each commit reads exactly the rest
        rest = [i.after["id"] for i in read_changes(url, commit.position, ["r"])
                if isinstance(i, RowChange)]  # fmt: skip
        assert rest == inserted[n + 1 :], (n, commit.position)


def _commits_beyond_socket_buffers(commit_bytes: int) -> int:
    """Commits of ``commit_bytes`` making twice the largest TCP send and receive buffers."""
    largest = 0
    for name in ("tcp_rmem", "tcp_wmem"):
        try:
            largest += int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2])
        except (OSError, IndexError, ValueError):
            largest += 8 << 20
    return max(200, 2 * largest // commit_bytes + 1)


def test_a_source_that_goes_away_mid_stream_is_named():
    """The source killed while the follower reads its log: a connection error that says
    what was applied stays applied and to run the follower again, not a driver's trace."""
    from workbench.errors import CannotConnectError

    server = start_binlog_mariadb(Path("/tmp") / f"wbbinlogkill-{os.getpid()}", server_id=14)
    try:
        db, url, start = _from_here(
            server, "gone", "CREATE TABLE g (id int PRIMARY KEY, v varchar(1000))"
        )
        with server.connect(db) as conn, conn.cursor() as cur:
            # more log than the sender's and the receiver's socket buffers hold together (a
            # reader that had it all buffered would finish without seeing the server go)
            for n in range(_commits_beyond_socket_buffers(100 * 1000)):
                cur.executemany("INSERT INTO g VALUES (%s, %s)",
                                [(n * 100 + i, "x" * 1000) for i in range(100)])  # fmt: skip
                conn.commit()
        stream = read_changes(url, start, ["g"])
        next(stream)
        server.process.kill()  # SIGKILL: no goodbye on the connection
        server.process.wait(10)
        with pytest.raises(CannotConnectError, match=r"broke off.*run the follower again"):
            for _ in stream:
                pass
    finally:
        if server.process.poll() is None:
            server.stop()


@pytest.mark.parametrize("image", ["MINIMAL", "NOBLOB"])
def test_images_of_some_columns_stop_the_reader_named(mariadb, image):
    """binlog_row_image=MINIMAL logs an update's changed columns and a row's key only;
    NOBLOB leaves out unchanged BLOB/TEXT columns: applied, they would overwrite the rest with
    nothing. The reader stops, naming the setting."""
    from workbench.errors import ConfigurationError

    db, url, start = _from_here(
        mariadb, "partial", "CREATE TABLE p (id int PRIMARY KEY, v varchar(10), t text)",
        "INSERT INTO p VALUES (1, 'a', 'kept')",
    )  # fmt: skip
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        cur.execute(f"SET SESSION binlog_row_image = '{image}'")
        cur.execute("UPDATE p SET v = 'b' WHERE id = 1")
    with pytest.raises(ConfigurationError, match="binlog_row_image=FULL"):
        list(read_changes(url, start, ["p"]))


def test_an_xa_transaction_stops_the_reader_named(mariadb):
    """An XA transaction's rows are logged with its PREPARE and decided by a later XA COMMIT
    or XA ROLLBACK: applied with the next commit, a rolled-back one would land. Named."""
    from workbench.errors import ConfigurationError

    db, url, start = _from_here(mariadb, "xa", "CREATE TABLE x (id int PRIMARY KEY)")
    with mariadb.connect(db) as conn, conn.cursor() as cur:
        cur.execute("XA START 'wb'")
        cur.execute("INSERT INTO x VALUES (1)")
        cur.execute("XA END 'wb'")
        cur.execute("XA PREPARE 'wb'")
        cur.execute("XA ROLLBACK 'wb'")
        cur.execute("INSERT INTO x VALUES (2)")
    with pytest.raises(ConfigurationError, match="XA transaction"):
        list(read_changes(url, start, ["x"]))
