"""Row tuples from a DB-API cursor to Arrow record batches of a fixed schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import pyarrow as pa

from workbench.connectors.base import REJECT_COLUMN


class _Cursor(Protocol):
    """The part of a DB-API cursor read here."""

    def fetchmany(self, size: int = ..., /) -> Sequence[tuple[Any, ...]]: ...


def batches_from_cursor(
    cursor: _Cursor, schema: pa.Schema, batch_rows: int, where: str
) -> Iterator[pa.RecordBatch]:
    """Fetch ``batch_rows`` at a time (bounded memory); see :func:`to_batch` for values that
    do not fit their column's Arrow type."""
    while rows := cursor.fetchmany(batch_rows):
        yield to_batch(rows, schema, where)


def to_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema, where: str) -> pa.RecordBatch:
    """Rows to a batch; values that do not fit their column become NULL and their rows carry
    the reason in :data:`~workbench.connectors.base.REJECT_COLUMN` (the engine quarantines
    them)."""
    cols = list(zip(*rows, strict=True))
    arrays = []
    reasons: list[str | None] = [None] * len(rows)
    for field, values in zip(schema, cols, strict=True):
        try:
            arrays.append(pa.array(values, field.type))
            continue
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            pass
        kept = []
        for i, value in enumerate(values):
            if _fits(value, field.type):
                kept.append(value)
                continue
            kept.append(None)
            what = (
                "is not valid UTF-8 text"
                if isinstance(value, bytes) and pa.types.is_string(field.type)
                else f"is not a {field.type} value"
            )
            reason = f"{where}: column {field.name!r} holds {_show(value)}, which {what}"
            reasons[i] = reasons[i] or reason
        arrays.append(pa.array(kept, field.type))
    if any(r is not None for r in reasons):
        arrays.append(pa.array(reasons, pa.string()))
        schema = schema.append(pa.field(REJECT_COLUMN, pa.string()))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _fits(value: object, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], arrow_type)
        return True
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return False
