"""A folder of CSV or Parquet files as one schema, read through an in-memory DuckDB.

``csv:///data/exports`` and ``parquet:///data/lake`` (absolute paths; ``files:///dir`` takes
both kinds): each file becomes a table named after its stem (``orders.csv`` -> ``orders``);
Parquet folders of several files per table (``orders/part-0.parquet``) become one table per
sub-folder. Types are what the Parquet schema or DuckDB's CSV sniffer say, the sniffer's checked
against every row (``csv_types``: decimals stay exact, a value past the sample that does not fit
makes its column text); the type map is
DuckDB's, and so are the content checksums (the views are checksummed inside DuckDB).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from workbench.connectors import csv_types
from workbench.connectors.base import Capabilities, ConnectionTest
from workbench.connectors.csv_types import sql_string
from workbench.connectors.duckdb import (
    DuckDBConnector,
    bound_at_least,
    bounded,
    duckdb_module,
)
from workbench.connectors.sqltext import quote_ident
from workbench.errors import DatabaseMissingError, InvalidInputError
from workbench.schema.model import Column, DatabaseSchema, NativeType

SUFFIXES = {"csv": (".csv", ".tsv", ".csv.gz"), "parquet": (".parquet", ".pq")}


def folder_of(url: str) -> tuple[str, Path]:
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise InvalidInputError(f"Expected csv:///folder or parquet:///folder, got {url!r}")
    path = rest.split("?", 1)[0]
    return scheme.split("+")[0].lower(), Path("/" + path.lstrip("/"))


class FilesConnector(DuckDBConnector):
    @classmethod
    def local_path(cls, url: str) -> Path | None:
        return folder_of(url)[1]

    kind = "files"
    capabilities = Capabilities(dialect="files")
    dialect = replace(DuckDBConnector.dialect, name="files")  # the folder's views are DuckDB

    def _tables(self) -> dict[str, tuple[str, list[Path]]]:
        scheme, folder = folder_of(self.url)
        if not folder.is_dir():
            raise DatabaseMissingError(
                f"Cannot open {self.url}: {folder} is not a folder; point the URL at the folder "
                "holding the files",
                url=self.url,
            )
        kinds = ["csv", "parquet"] if scheme == "files" else [scheme]
        tables: dict[str, tuple[str, list[Path]]] = {}
        for kind in kinds:
            for path in sorted(folder.iterdir()):
                if path.is_file() and path.name.lower().endswith(SUFFIXES[kind]):
                    name = path.name[
                        : -len(next(s for s in SUFFIXES[kind] if path.name.lower().endswith(s)))
                    ]
                    tables[name] = (kind, [path])
                elif path.is_dir() and kind == "parquet":
                    parts = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES["parquet"])
                    if parts:
                        tables[path.name] = (kind, parts)
        return tables

    def _connect(self) -> Any:
        duckdb = duckdb_module()
        encoding = csv_types.encoding_of(self.url)
        tables = self._tables()
        if any(kind == "csv" for kind, _ in tables.values()):
            # DuckDB's CSV reader takes its file in buffers of 32 MB (and converts another
            # encoding in blocks of 30 MB): under the 32 MB bound, a CSV over ~30 MB failed
            bound_at_least(self.url, csv_types.READER_MB)
        conn = bounded(duckdb.connect(":memory:"), self.url)
        for name, (kind, paths) in tables.items():
            # file paths are the user's own folder; quoted as SQL strings, never executed
            if kind == "parquet":
                reader = "read_parquet([" + ", ".join(sql_string(str(p)) for p in paths) + "])"
                durations = parquet_durations(paths[0])
                if durations:  # DuckDB reads them as bare counts of their unit
                    replaced = ", ".join(f"{e} AS {quote_ident(c, 'duckdb')}" for c, e in durations)
                    reader = f"(SELECT * REPLACE ({replaced}) FROM {reader})"
            else:  # a CSV table is one file
                types = csv_types.type_overrides(duckdb, paths[0], encoding)
                reader = csv_types.reader_sql(paths[0], types, encoding)
            conn.execute(f"CREATE VIEW {quote_ident(name, 'duckdb')} AS SELECT * FROM {reader}")
        return conn

    def test(self) -> ConnectionTest:
        start = time.perf_counter()
        tables = self._tables()
        latency = (time.perf_counter() - start) * 1000
        version = duckdb_module().__version__
        return ConnectionTest(
            True, f"{len(tables)} files via DuckDB {version}", round(latency, 2), self.url
        )

    def introspect(
        self, schemas: Sequence[str] | None = None, tables: Sequence[str] | None = None
    ) -> DatabaseSchema:

        schema = super().introspect(None, tables)
        files = self._tables()
        out = []
        for t in schema.tables:
            kind, paths = files.get(t.name, ("", []))
            size = sum(p.stat().st_size for p in paths) or None
            rows = None
            columns = t.columns
            if kind == "parquet":
                rows = sum(_parquet_rows(p) for p in paths)
                columns = _refuse_wide_decimals(columns, paths[0])
            out.append(
                replace(
                    t,
                    columns=columns,
                    schema=None,
                    kind="table",
                    view_definition=None,
                    size_bytes=size,
                    row_estimate=rows,
                )
            )
        return replace(schema, tables=tuple(out))


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    rows: int = pq.ParquetFile(path).metadata.num_rows
    return rows


# DuckDB reads a Parquet duration (pandas' timedelta64) as a BIGINT count of its unit: an
# interval column would land as bigint microseconds or nanoseconds, its unit lost
_DURATION = {
    "s": "to_seconds({c})",
    "ms": "to_milliseconds({c})",
    "us": "to_microseconds({c})",
    "ns": "to_microseconds(CAST(round({c} / 1000) AS BIGINT))",  # PostgreSQL keeps microseconds
}


def parquet_durations(path: Path) -> list[tuple[str, str]]:
    """(column, DuckDB interval expression) for the file's duration columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = []
    for field in pq.read_schema(path):
        if pa.types.is_duration(field.type):
            column = quote_ident(field.name, "duckdb")
            out.append((field.name, _DURATION[field.type.unit].format(c=column)))
    return out


def _refuse_wide_decimals(columns: tuple[Column, ...], path: Path) -> tuple[Column, ...]:
    """Decimals of more than 38 digits, which DuckDB reads as DOUBLE (losing digits: they
    landed as double precision, and validated), typed as nothing the type map covers, so
    that planning names them and what to do."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    wide = {
        f.name: f.type
        for f in pq.read_schema(path)
        if pa.types.is_decimal(f.type) and f.type.precision > 38
    }
    return tuple(
        replace(
            c,
            native=NativeType(
                "wide decimal",
                precision=wide[c.name].precision,
                scale=wide[c.name].scale,
                raw=f"DECIMAL({wide[c.name].precision},{wide[c.name].scale}) (DuckDB, which "
                "reads Parquet here, reads decimals of more than 38 digits as DOUBLE, losing "
                "digits; write the column as text or as a decimal of at most 38 digits)",
            ),
        )
        if c.name in wide
        else c
        for c in columns
    )
