"""A PostgreSQL source's row changes, decoded from logical replication (``pgoutput``).

A followed copy gets a publication of its keyed tables and a logical replication slot, both
named after the job, made before the copy reads a row: the slot keeps every change committed
after that point until the follower says it has them. The follower peeks at the slot
(``pg_logical_slot_peek_binary_changes``: an ordinary connection, no replication protocol) and
decodes pgoutput's messages (protocol 1): Begin, Relation, Insert, Update, Delete, Truncate,
Commit. Values come as PostgreSQL's own text. Those of plain built-in types (numbers, text,
dates and times, bytea, uuid) become the Python values the copy's reader gives (psycopg's
own loaders: the copy's transforms and masks then treat them alike); every other value
(intervals, arrays, JSON, enums, an infinite date) stays that text, a parameter of unknown
type that the target parses into the column's type, exactly as the copy's COPY text is.
Only the slot's position moves once the target has committed a batch (the next read advances
it to the position the follower resumes from), so a follower killed at any moment loses
nothing.

Only tables with a primary key are published: an UPDATE of a published table without a
replica identity fails *at the source*, and the follower refuses keyless tables anyway.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.connectors.changes import Change, Commit, Position, RowChange, SchemaChange
from workbench.connectors.sqltext import quote_ident
from workbench.errors import ConfigurationError
from workbench.schema.model import Table

PG_EPOCH = 946_684_800  # 2000-01-01 in Unix seconds: pgoutput's timestamps count from it
FETCH = 5_000  # messages per round trip of the server-side cursor
# a cut-over makes the source's sessions read-only by default; the slot still has to move
# and go, so the follower's own sessions opt out (a session's setting beats the database's)
WRITABLE = "SET default_transaction_read_only = off"


def stream_name(job_key: str) -> str:
    """The job's publication and slot name (slot names: lower case, digits, _; 63 at most)."""
    return ("wb_follow_" + re.sub(r"[^a-z0-9_]", "_", job_key.lower()))[:63]


def lsn_text(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def lsn_int(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def start(conn: Any, tables: Sequence[Table], job_key: str) -> Position:
    """Publish the keyed ``tables`` and create the job's slot; the slot's start position.
    ``conn``: an autocommit psycopg connection to the source."""
    name = stream_name(job_key)
    conn.execute(WRITABLE)
    keyed = [t for t in tables if t.primary_key]  # the follower refuses the others, named
    listed = ", ".join(
        f"{quote_ident(t.schema, 'postgresql')}.{quote_ident(t.name, 'postgresql')}"
        if t.schema
        else quote_ident(t.name, "postgresql")
        for t in keyed
    )
    end(conn, name)  # a start that failed half-way leaves nothing behind
    conn.execute(
        f"CREATE PUBLICATION {quote_ident(name, 'postgresql')}"
        + (f" FOR TABLE {listed}" if keyed else "")
    )
    row = conn.execute(
        "SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (name,)
    ).fetchone()
    return Position(name, lsn_int(row[0]))


def end(conn: Any, name: str) -> None:
    """Drop the job's slot (which would keep WAL on the source forever) and publication."""
    conn.execute(WRITABLE)
    conn.execute(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
        (name,),
    )
    conn.execute(f"DROP PUBLICATION IF EXISTS {quote_ident(name, 'postgresql')}")


def read(conn: Any, begin: Position, tables: Sequence[Table]) -> Iterator[Change]:
    """The changes committed after ``begin``, to the end of the WAL as it is now.
    ``conn``: a psycopg connection to the source, not in autocommit (a server-side cursor)."""
    name = begin.file
    conn.execute(WRITABLE)
    slot = conn.execute(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s",
        (name,),
    ).fetchone()
    if slot is None:
        raise ConfigurationError(
            f"The source has no replication slot {name!r} any more (dropped by hand, or the "
            "job was cut over): its changes since then are lost to the follower. Copy the "
            "tables again with --follow."
        )
    if slot[0] is not None and lsn_int(slot[0]) < begin.offset:
        # the target committed up to here: the source may recycle the WAL before it
        conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)",
                     (name, lsn_text(begin.offset)))  # fmt: skip
    conn.commit()
    followed = {(t.schema or "public", t.name): t for t in tables}
    decoder = _Decoder(name, followed)
    with conn.cursor(name="wb_changes") as cur:
        cur.itersize = FETCH
        cur.execute(
            "SELECT data FROM pg_logical_slot_peek_binary_changes(%s, NULL, NULL,"
            " 'proto_version', '1', 'publication_names', %s)",
            (name, name),
        )
        for (data,) in cur:
            for change in decoder.decode(bytes(data)):
                if isinstance(change, Commit) and change.position.offset <= begin.offset:
                    continue  # applied before (the slot was not advanced past it yet)
                yield change
    conn.commit()


# built-in types whose text psycopg loads exactly (OIDs): int2, int4, int8, numeric, bool,
# text, varchar, bpchar, name, date, time, timestamp, timestamptz, bytea, uuid, float4, float8
TYPED = frozenset({21, 23, 20, 1700, 16, 25, 1043, 1042, 19, 1082, 1083, 1114, 1184, 17, 2950,
                   700, 701})  # fmt: skip


def _loader(oid: int) -> Callable[[str], Any] | None:
    """A function from PostgreSQL's text of a value of type ``oid`` to the Python value (None:
    keep the text). A value it cannot hold (``infinity`` as a date) stays text."""
    if oid not in TYPED:
        return None
    import psycopg
    from psycopg import adapters, pq

    found = adapters.get_loader(oid, pq.Format.TEXT)
    if found is None:
        return None
    load = found(oid).load

    def typed(text: str) -> Any:
        try:
            return load(text.encode())
        except (ValueError, ArithmeticError, psycopg.DataError):
            return text

    return typed


@dataclass
class _Relation:
    table: Table | None  # None: not followed
    columns: list[str]
    keys: list[str]
    loaders: list[Callable[[str], Any] | None]


class _Decoder:
    """pgoutput protocol 1, message by message; row changes of a transaction are held until its
    Commit (whose end LSN is the position) so that a skipped transaction yields nothing."""

    def __init__(self, slot: str, followed: dict[tuple[str, str], Table]) -> None:
        self.slot, self.followed = slot, followed
        self.relations: dict[int, _Relation] = {}
        self.pending: list[RowChange] = []
        self.truncated: set[str] = set()

    def decode(self, data: bytes) -> list[Change]:
        kind = data[:1]
        if kind == b"B":
            self.pending, self.truncated = [], set()
        elif kind == b"R":
            self._relation(data)
        elif kind in (b"I", b"U", b"D"):
            change = self._row(kind, data)
            if change is not None:
                self.pending.append(change)
        elif kind == b"T":
            self._truncate(data)
        elif kind == b"C":
            _, _commit_lsn, end_lsn, stamp = struct.unpack_from("!bqqq", data, 1)
            commit = Commit(Position(self.slot, end_lsn), int(stamp / 1_000_000 + PG_EPOCH))
            out: list[Change] = [*self.pending, commit]
            if self.truncated:  # stops the follower after the changes before it and this commit
                names = sorted(self.truncated)
                out.append(SchemaChange("TRUNCATE " + ", ".join(names), frozenset(names),
                                        commit.position))  # fmt: skip
            self.pending, self.truncated = [], set()
            return out
        return []  # Y (type), O (origin), M (message): nothing to apply

    def _relation(self, data: bytes) -> None:
        (oid,) = struct.unpack_from("!I", data, 1)
        at = 5
        namespace, at = _cstring(data, at)
        relname, at = _cstring(data, at)
        at += 1  # replica identity setting
        (ncols,) = struct.unpack_from("!h", data, at)
        at += 2
        columns, keys, loaders = [], [], []
        for _ in range(ncols):
            flags = data[at]
            column, at = _cstring(data, at + 1)
            (type_oid,) = struct.unpack_from("!I", data, at)
            at += 8  # type oid, type modifier
            columns.append(column)
            loaders.append(_loader(type_oid))
            if flags & 1:
                keys.append(column)
        table = self.followed.get((namespace, relname))
        self.relations[oid] = _Relation(table, columns, keys, loaders)

    def _row(self, kind: bytes, data: bytes) -> RowChange | None:
        (oid,) = struct.unpack_from("!I", data, 1)
        relation = self.relations[oid]
        if relation.table is None:
            return None
        at = 5
        old: dict[str, Any] | None = None
        if data[at : at + 1] in (b"K", b"O"):  # the old key (or whole old row)
            old, at = _tuple(data, at + 1, relation)
        if kind == b"D":
            return RowChange(relation.table.name, "delete", old, None)
        assert data[at : at + 1] == b"N"
        new, _ = _tuple(data, at + 1, relation)
        if kind == b"I":
            return RowChange(relation.table.name, "insert", None, new)
        # no old tuple: the key did not change, and the new row holds it
        before = {**new, **{k: v for k, v in (old or {}).items() if v is not None}}
        return RowChange(relation.table.name, "update", before, new)

    def _truncate(self, data: bytes) -> None:
        (count,) = struct.unpack_from("!i", data, 1)
        oids = struct.unpack_from(f"!{count}I", data, 6)
        for oid in oids:
            relation = self.relations.get(oid)
            if relation is not None and relation.table is not None:
                self.truncated.add(relation.table.name)


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode(), end + 1


def _tuple(data: bytes, at: int, relation: _Relation) -> tuple[dict[str, Any], int]:
    """TupleData: each column NULL, unchanged (a TOASTed value the change did not touch: left
    out, so the target keeps its own), or text (typed where its loader can)."""
    (ncols,) = struct.unpack_from("!h", data, at)
    at += 2
    row: dict[str, Any] = {}
    for i in range(ncols):
        kind = data[at : at + 1]
        at += 1
        if kind == b"n":
            row[relation.columns[i]] = None
        elif kind == b"t":
            (length,) = struct.unpack_from("!i", data, at)
            at += 4
            text = data[at : at + length].decode()
            load = relation.loaders[i]
            row[relation.columns[i]] = text if load is None else load(text)
            at += length
        # b"u": unchanged TOAST, not sent
    return row, at
