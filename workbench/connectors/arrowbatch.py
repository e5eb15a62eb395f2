"""Row tuples from a DB-API cursor to Arrow record batches of a fixed schema."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa

from workbench.errors import InvalidSourceValueError


def batches_from_cursor(
    cursor, schema: pa.Schema, batch_rows: int, where: str
) -> Iterator[pa.RecordBatch]:
    """Fetch ``batch_rows`` at a time (bounded memory); a value that does not fit its column's
    Arrow type raises :class:`InvalidSourceValueError` naming the column."""
    while rows := cursor.fetchmany(batch_rows):
        yield to_batch(rows, schema, where)


def to_batch(rows: Sequence[tuple], schema: pa.Schema, where: str) -> pa.RecordBatch:
    cols = list(zip(*rows, strict=True))
    arrays = []
    for field, values in zip(schema, cols, strict=True):
        try:
            arrays.append(pa.array(values, field.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            bad = next((v for v in values if not _fits(v, field.type)), None)
            raise InvalidSourceValueError(
                f"{where}: column {field.name!r} holds {bad!r}, which is not a "
                f"{field.type} value; count such values with the type map's mismatch helper "
                "and read the column through an expression or a text override",
                column=field.name,
            ) from exc
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _fits(value: object, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value], arrow_type)
        return True
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return False
