"""The connector seam: the one small interface the engine, profiling and matching call.

A connector is built from a URL and knows nothing of the store. Differences between
kinds are data (its :class:`Capabilities`, its ``dialect``: the SQL profiling and checksums
push down, its type map), not ``if kind == ...`` in callers. Checksums run through ``run``
(:func:`workbench.connectors.checksums.checksum_partition`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import pyarrow as pa

from workbench.connectors.changes import Change, Position
from workbench.connectors.dialect import SqlDialect
from workbench.errors import UnsupportedError
from workbench.schema.model import DatabaseSchema, Table
from workbench.urls import mask_url

# A reader that meets a value it cannot deliver exactly (invalid UTF-8, a SQLite value of the
# wrong storage class) keeps the row, NULLs the value and explains why in this extra column;
# the engine quarantines such rows with the explanation. No row is ever dropped silently.
REJECT_COLUMN = "__wb_reject__"


@dataclass(frozen=True)
class Capabilities:
    """What callers branch on; the SQL differences are the connector's :class:`SqlDialect`."""

    dialect: str  # the type map's and the SQL dialect's key: "postgresql", "mysql", ...
    can_write: bool = False  # a migration target: COPY into tables (PostgreSQL only)


@dataclass(frozen=True)
class TextField:
    """A target column whose values the source may render as PostgreSQL COPY text itself."""

    source: str  # the source column
    target: str  # the target column
    pg_type: str  # the target column's type
    expression: str | None = None  # the type map's read expression (source dialect), if any
    nulled_when: str | None = None  # when the expression turns a stored value into NULL


class TextChunk(NamedTuple):
    """Whole rows of COPY text, how many, and the values the read made NULL per target column."""

    data: bytes | bytearray | memoryview
    rows: int
    nulled: Mapping[str, int] = {}


@dataclass(frozen=True)
class ConnectionTest:
    """Result of testing a connection."""

    ok: bool
    server_version: str
    latency_ms: float
    url: str  # masked


@dataclass(frozen=True)
class ServerAdvice:
    """A server setting that slows a load, and the value to use (``workbench doctor``)."""

    setting: str
    current: str
    suggested: str
    why: str

    def __str__(self) -> str:
        return f"{self.setting} is {self.current}: {self.why}; set it to {self.suggested}"


@dataclass(frozen=True)
class Partition:
    """A slice of one table: ``lower <= key < upper`` on the key columns (row-value order).

    ``lower=None`` is unbounded below, ``upper=None`` unbounded above; a partition with no
    key columns is the whole table. Bounds are tuples of Python values, JSON-serialisable for
    the checkpoint store.
    """

    table: str  # name as in the source (without schema)
    schema: str | None
    index: int
    key_columns: tuple[str, ...] = ()
    lower: tuple[Any, ...] | None = None
    upper: tuple[Any, ...] | None = None
    row_estimate: int | None = None

    @property
    def is_whole_table(self) -> bool:
        return not self.key_columns or (self.lower is None and self.upper is None)

    @property
    def label(self) -> str:
        if self.is_whole_table:
            return f"{self.table}#{self.index} (whole table)"
        lo = "-inf" if self.lower is None else ",".join(map(str, self.lower))
        hi = "+inf" if self.upper is None else ",".join(map(str, self.upper))
        return f"{self.table}#{self.index} [{lo} .. {hi})"


@dataclass(frozen=True)
class PartitionChecksum:
    rows: int
    checksum: int  # sum of per-row 60-bit hashes, exact (no overflow): compare as Python ints
    column_checksums: dict[str, int] = field(default_factory=dict)
    # float / JSON columns: name -> (non-NULL count, sum or None, largest magnitude or None),
    # compared with a tolerance
    approximate: dict[str, tuple[int, float | None, float | None]] = field(default_factory=dict)


class Connector:
    """Base of every connector. Subclasses set ``kind``, ``capabilities`` and override."""

    kind: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    dialect: ClassVar[SqlDialect]  # the SQL pushed down to this kind (profiling, checksums)

    def __init__(
        self, url: str, *, connect_timeout: float = 10.0, options: dict[str, Any] | None = None
    ):
        self.url = url
        self.connect_timeout = connect_timeout
        self.options = dict(options or {})

    @classmethod
    def local_path(cls, url: str) -> Path | None:
        """The file or folder on this machine a URL of this kind reads (absolute); None for a
        database reached over the network. A server for other people refuses them (it would
        read its own disk for them)."""
        return None

    def __repr__(self) -> str:

        return f"{type(self).__name__}({mask_url(self.url)!r})"

    # --- connect and test --------------------------------------------------------------
    def test(self) -> ConnectionTest:
        """Connect once, return server version and round-trip latency, or a typed error."""
        raise NotImplementedError

    # --- introspection -----------------------------------------------------------------
    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:
        """Read the catalog into the normalized model (bulk queries, not one per table)."""
        raise NotImplementedError

    # --- reading -------------------------------------------------------------------------
    def run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Run one statement in the source's dialect (with its driver's placeholders) and
        return its rows (profiling and checksums push their queries down through it)."""
        raise NotImplementedError

    def count(self, table: Table, partition: Partition | None = None) -> int:
        raise NotImplementedError

    def unreadable(self, tables: Sequence[Table]) -> list[str]:
        """Qualified names of ``tables`` this login may not read ([] where the source cannot
        tell before a read): a job names them all before it starts."""
        return []

    def split_points(
        self, table: Table, key_columns: Sequence[str], parts: int
    ) -> list[tuple[Any, ...]]:
        """Up to ``parts - 1`` key tuples that cut the table into slices of similar row counts."""
        raise NotImplementedError

    def read_partition(
        self,
        table: Table,
        partition: Partition,
        columns: Sequence[str] | None = None,
        batch_rows: int = 50_000,
        expressions: Mapping[str, str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the partition's rows as Arrow record batches of at most ``batch_rows``.

        ``columns`` are the output column names (default: all, in table order);
        ``expressions`` may replace a column's plain reference by a SQL expression in the
        source dialect (e.g. the type map's zero-date handling), output under the same name.
        Values must be exact: typed Arrow values, or text in PostgreSQL input syntax.
        """
        raise NotImplementedError

    def reads_natively(self, table: Table) -> bool:
        """Whether ``read_partition`` builds its Arrow batches in native code that releases
        the GIL (no Python call per row): then a job copying ``table`` as read runs as well
        on threads as on worker processes (default: no)."""
        return False

    def can_copy_text(self, table: Table, fields: Sequence[TextField]) -> bool:
        """Whether ``read_copy_text`` renders every field as text the target column reads
        back as the value the general path would load (default: no source can)."""
        return False

    def read_copy_text(
        self, table: Table, partition: Partition, fields: Sequence[TextField], chunk_bytes: int
    ) -> Iterator[TextChunk]:
        """The partition's rows in PostgreSQL's COPY text format, in chunks of about
        ``chunk_bytes`` whole rows: only where ``can_copy_text`` says the source can."""
        raise UnsupportedError(
            f"{self.capabilities.dialect} sources cannot be read as PostgreSQL COPY text"
        )

    def free_connections(self) -> int | None:
        """Connections the server would still accept (None: no such limit, e.g. a file)."""
        return None

    def load_advice(self) -> list[ServerAdvice]:
        """Server settings that slow a bulk load through this connection (none by default)."""
        return []

    def make_read_only(self) -> None:
        """Stop the server taking writes from ordinary logins (a cut-over's first step)."""
        raise UnsupportedError(
            f"{self.capabilities.dialect} sources cannot be made read-only by the workbench: "
            "stop the applications' writes yourself, then cut over without --read-only"
        )

    def change_stream_problems(
        self, copy_seconds: float | None = None
    ) -> list[ServerAdvice] | None:
        """What keeps this source from having its changes followed after a copy (binlog or
        logical replication settings, the login's privileges), each with the value to use;
        [] when nothing does; None when the kind has no change stream (files, SQLite)."""
        return None

    def start_change_stream(self, tables: Sequence[Table], job_key: str) -> Position:
        """Where the change stream ends now, made ready for a follower of ``tables`` to read
        from there (PostgreSQL: the job's publication and replication slot). Called before the
        copy reads a row."""
        raise UnsupportedError(
            f"{self.capabilities.dialect} sources have no change stream to follow: copy them "
            "again to refresh the target"
        )

    # whether the change stream holds the rows a foreign key's ON DELETE / ON UPDATE action
    # changed (PostgreSQL's does; MySQL/MariaDB's binlog holds only the parent's change, and
    # the follower applies the actions itself: engine.cascades)
    logs_cascaded_rows = True

    def read_changes(self, start: Position, tables: Sequence[Table]) -> Iterator[Change]:
        """The changes of ``tables`` committed after ``start``, in commit order, up to the end
        of the stream as it is now (call again to read on)."""
        raise UnsupportedError(f"{self.capabilities.dialect} sources have no change stream")

    def end_change_stream(self, position: Position) -> None:
        """Release what :meth:`start_change_stream` holds on the server (nothing by default)."""

    def close(self) -> None:
        """Release pooled connections, if any."""
