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
from workbench.schema.model import DatabaseSchema

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
        if encoding != "utf-8":  # DuckDB converts in blocks of 30 MB a thread
            bound_at_least(self.url, csv_types.RECODING_MB)
        conn = bounded(duckdb.connect(":memory:"), self.url)
        for name, (kind, paths) in self._tables().items():
            # file paths are the user's own folder; quoted as SQL strings, never executed
            if kind == "parquet":
                reader = "read_parquet([" + ", ".join(sql_string(str(p)) for p in paths) + "])"
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
            if kind == "parquet":
                rows = sum(_parquet_rows(p) for p in paths)
            out.append(
                replace(
                    t,
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
