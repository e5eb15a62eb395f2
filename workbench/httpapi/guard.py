"""What the HTTP API refuses that the command line allows, because the server, not the
caller, would carry it out:

- **files on the server's disk**: a SQLite, DuckDB, CSV or Parquet source would be read from
  the server's own file system for whoever holds a token; refused unless the server was
  started with ``--files-under DIR`` and the path lies under one of those folders;
- **job options that run code or choose where it runs**: ``before_sql``/``after_sql`` (SQL
  with the target's stored login, which API callers never see), ``dask_address``,
  ``shared_files``, ``transforms``, ``mapping``, ``source_options``, ``workers``,
  ``read_ahead``; a job's transforms and masks come from the project's reviewed mappings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workbench.connectors import local_path
from workbench.errors import PermissionDeniedError
from workbench.urls import mask_url

SAFE_OPTIONS = frozenset(
    {
        "tables", "exclude", "target_schema", "validate", "if_exists", "partition_rows",
        "batch_rows", "max_bad_rows", "max_bad_ratio", "max_rows_per_second",
        "max_connections", "finish", "type_options", "follow",
    }
)  # fmt: skip


def check_options(raw: dict[str, Any]) -> None:
    refused = sorted(set(raw) - SAFE_OPTIONS)
    if refused:
        raise PermissionDeniedError(
            f"Job options {refused} are not accepted over HTTP (they run code or choose where "
            "it runs, on the server); the ones accepted: "
            f"{', '.join(sorted(SAFE_OPTIONS))}. Use `workbench copy` from your own machine for "
            "the others",
            refused=refused,
        )


def check_url(url: str, roots: Iterable[Path], what: str) -> None:
    """Refuse a URL that reads the server's disk outside the allowed folders."""
    path = local_path(url)
    if path is None:
        return
    resolved = path.resolve()
    if any(resolved.is_relative_to(root.resolve()) for root in roots):
        return
    raise PermissionDeniedError(
        f"{what} {mask_url(url)} is a path on the server ({path}): over HTTP the server would "
        "read its own disk for you. Refused; the server's operator can allow a folder with "
        "`workbench serve --files-under DIR`",
        path=str(path),
    )
