"""Before -> after of a mask on a few real values of a source column.

The values are read from the source through its connector (the engine's own read), the
column's whole transform rule is applied by the engine's :func:`apply_transforms`, with the
project's real masking salt: the preview shows what a run will write for those rows.

    rows = preview_mask(store, "crm", "persons", "email", {"kind": "hash"})
    [(r.before, r.after) for r in rows]
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from workbench.connectors import connect
from workbench.errors import NotFoundError
from workbench.governance.masking_suggestions import check_mask, find_mapped_column
from workbench.matching.reading import read_batch
from workbench.store import connections
from workbench.store.access import require
from workbench.store.projects import ProjectRef, get_project
from workbench.transforms.rules import ColumnTransform, apply_transforms

if TYPE_CHECKING:
    from workbench.store import Store

PREVIEW_ROWS = 5
READ_ROWS = 500  # rows read to find PREVIEW_ROWS distinct values
HIDDEN = "***"
# columns whose values are secrets: their "before" is never shown
_SECRET_COLUMN = re.compile(r"passw(or)?d|passwd|secret|token|api_?key|private_?key", re.I)


@dataclass(frozen=True)
class PreviewRow:
    before: str | None
    after: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def project_salt(store: Store, project_id: int) -> str:
    """The project's masking salt, the one every job of the project uses
    (:meth:`SecretCipher.project_salt`); never stored, never shown."""
    return store.cipher.project_salt(project_id)


def preview_values(
    values: pa.Array, transform: dict[str, Any] | None, salt: str, *, hide_before: bool = False
) -> list[PreviewRow]:
    """``values`` before and after ``transform`` (a column_mapping's rule), as a run does."""
    rule = {k: v for k, v in (transform or {}).items() if k != "expression"}
    t = ColumnTransform.from_rule("after", "before", rule)
    batch = pa.RecordBatch.from_arrays([values], names=["before"])
    out, rejected = apply_transforms(batch, [t], salt)
    after = out.column(0)
    rows = []
    for i, (b, a) in enumerate(zip(values.to_pylist(), after.to_pylist(), strict=True)):
        shown = None if b is None else (HIDDEN if hide_before else _text(b))
        rows.append(PreviewRow(shown, f"(rejected: {rejected[i]})" if i in rejected else _text(a)))
    return rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return "\\x" + value[:32].hex()
    return str(value)


def sample_values(
    store: Store, project: ProjectRef, table: str, column: str, rows: int = PREVIEW_ROWS
) -> pa.Array:
    """Up to ``rows`` distinct non-null values of the source column, read by its connector
    (the result of the mapping's SQL expression, when it has one)."""

    mapping, mapped = find_mapped_column(store, project, table, column)
    # a pushed-down expression is read as the engine reads it: under the target's name
    expression = ((mapped.transform if mapped else None) or {}).get("expression")
    record = connections.get_connection(store, project, mapping.source_connection)
    connector = connect(
        connections.connection_url(store, record),
        connect_timeout=store.settings.connect_timeout,
        options=record.options,
    )
    try:
        model = connector.introspect(tables=[mapping.source_table])
        source = model.table(mapping.source_table, mapping.source_schema)
        if column not in source.column_names:
            raise NotFoundError(
                f"Source table {table!r} has no column {column!r}; columns are "
                f"{list(source.column_names)}",
                column=column,
            )
        if expression and mapped is not None:
            name = mapped.target_column
            batch = read_batch(
                connector, source, READ_ROWS, columns=[name], expressions={name: expression}
            )
        else:
            batch = read_batch(connector, source, READ_ROWS, columns=[column])
    finally:
        connector.close()
    values = pc.drop_null(batch.column(0))
    encoded = pc.unique(values)  # in order of first appearance
    return encoded.slice(0, rows)


def preview_mask(
    store: Store,
    project: ProjectRef,
    table: str,
    column: str,
    mask: dict[str, Any] | None,
    *,
    rows: int = PREVIEW_ROWS,
    values: pa.Array | None = None,
) -> list[PreviewRow]:
    """Before -> after of ``mask`` on ``rows`` real values of ``table.column``.

    The column's current transform is kept and only its mask replaced (None: no mask), so
    the preview equals what a run writes once
    :func:`workbench.governance.masking_suggestions.set_column_mask` has set it. Pass
    ``values`` (from :func:`sample_values`) to preview other masks without reading again.
    """
    require(store, "read")
    check_mask(mask)
    _, mapped = find_mapped_column(store, project, table, column)
    transform = {k: v for k, v in ((mapped.transform if mapped else None) or {}).items()}
    transform.pop("mask", None)
    if mask is not None:
        transform["mask"] = mask
    if values is None:
        values = sample_values(store, project, table, column, rows)
    salt = project_salt(store, get_project(store, project).id)
    return preview_values(values, transform, salt, hide_before=bool(_SECRET_COLUMN.search(column)))
