"""Column transforms, applied to whole Arrow batches (vectorized, no Python loop per row).

A column_mapping's transform rule is a JSON-able dict; :class:`ColumnTransform` is its typed
form. Steps run in a fixed order: value_map, trim, case, date_format, cast, default, mask.
A value a step cannot convert rejects its row (``on_error="quarantine"``, the default) or
becomes NULL (``on_error="null"``); rejected rows are returned with the reason so the engine
can quarantine them. Arbitrary expressions are SQL in the source dialect, pushed down into
the read (the database evaluates them vectorized); see :attr:`ColumnTransform.expression`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import InvalidInputError
from workbench.transforms.masking import apply_mask

STEPS = ("value_map", "trim", "case", "date_format", "cast", "default", "mask")


@dataclass(frozen=True)
class ColumnTransform:
    """How one target column is produced from the source row."""

    target: str
    source: str | None = None  # source column; None with `expression` or `default` only
    expression: str | None = None  # SQL in the source dialect, evaluated by the source
    value_map: dict[str, Any] | None = None  # unmapped values pass through
    trim: str | None = None  # "both" | "left" | "right"
    case: str | None = None  # "upper" | "lower" | "title"
    date_format: str | None = None  # strptime format: text -> timestamp
    cast: str | None = None  # Arrow type: "int64", "string", "timestamp[us]", "decimal128(12,2)"...
    default: Any = None  # used where the value is NULL
    mask: dict[str, Any] | None = None  # {"kind": "hash"|"redact"|"partial"|"null", ...}
    on_error: str = "quarantine"  # or "null"
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_rule(
        cls, target: str, source: str | None, rule: dict[str, Any] | None
    ) -> ColumnTransform:
        """Build from a stored transform rule, rejecting unknown keys with a clear message."""
        rule = dict(rule or {})
        known = {f for f in cls.__dataclass_fields__ if f not in ("target", "source")}
        unknown = sorted(set(rule) - known)
        if unknown:
            raise InvalidInputError(
                f"Transform for column {target!r} has unknown keys {unknown}; "
                f"known keys are {sorted(known)}",
                column=target,
            )
        t = cls(target=target, source=source, **rule)
        t.validate()
        return t

    def validate(self) -> None:
        if self.trim not in (None, "both", "left", "right"):
            raise InvalidInputError(f"trim must be both, left or right (column {self.target!r})")
        if self.case not in (None, "upper", "lower", "title"):
            raise InvalidInputError(f"case must be upper, lower or title (column {self.target!r})")
        if self.on_error not in ("quarantine", "null"):
            raise InvalidInputError(f"on_error must be quarantine or null (column {self.target!r})")
        if self.cast:
            arrow_type(self.cast)

    @property
    def is_identity(self) -> bool:
        """True when the column is copied as read (only rename or a pushed-down expression)."""
        return not any(getattr(self, s) not in (None, {}) for s in STEPS)

    def to_rule(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("target")
        data.pop("source")
        return {k: v for k, v in data.items() if v not in (None, {}, "quarantine")}


def arrow_type(name: str) -> pa.DataType:
    """Parse a type name such as ``int64``, ``timestamp[us]`` or ``decimal128(12,2)``."""
    name = name.strip().lower()
    simple = {
        "string": pa.string(),
        "text": pa.string(),
        "large_string": pa.large_string(),
        "bool": pa.bool_(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "date32": pa.date32(),
        "float": pa.float64(),
        "double": pa.float64(),
        "float64": pa.float64(),
        "float32": pa.float32(),
        "binary": pa.binary(),
        **{f"int{b}": getattr(pa, f"int{b}")() for b in (8, 16, 32, 64)},
    }
    if name in simple:
        return simple[name]
    if name.startswith("timestamp"):
        unit = name[name.find("[") + 1 : name.find("]")] if "[" in name else "us"
        tz = "UTC" if name.endswith("tz") or ",utc" in name else None
        return pa.timestamp(unit.split(",")[0].strip(), tz=tz)
    if name.startswith("decimal"):
        inner = name[name.find("(") + 1 : name.find(")")]
        try:
            precision, scale = (int(x) for x in inner.split(","))
        except ValueError:
            raise InvalidInputError(
                f"Cannot read decimal type {name!r}; write decimal128(p,s)"
            ) from None
        return (
            pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
        )
    raise InvalidInputError(
        f"Unknown cast type {name!r}; use one of {sorted(simple)} or timestamp[us], decimal128(p,s)"
    )


class _Rejects:
    """Row index -> first error message, for one batch."""

    def __init__(self, n: int) -> None:
        self.mask = np.zeros(n, dtype=bool)
        self.reasons: dict[int, str] = {}

    def add(self, bad: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(bad & ~self.mask):
            self.reasons[int(i)] = reason
        self.mask |= bad


def _failed(before: pa.Array, after: pa.Array) -> np.ndarray:
    """Rows whose input had a value but whose output is NULL."""
    return np.asarray(
        pc.and_(pc.is_valid(before), pc.is_null(after)).to_numpy(zero_copy_only=False)
    )


def _cast_each(arr: pa.Array, to: pa.DataType) -> pa.Array:
    """Element-wise cast where the vectorized one failed: bad values become NULL."""
    out = []
    for value in arr:
        try:
            out.append(pa.array([value.as_py()], arr.type).cast(to)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError, ValueError):
            out.append(None)
    return pa.array(out, to)


def transform_column(
    arr: pa.Array, t: ColumnTransform, rejects: _Rejects, salt: str = ""
) -> pa.Array:
    if t.value_map:
        keys = pa.array(list(t.value_map.keys()))
        text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        values = pa.array(
            [None if v is None else str(v) for v in t.value_map.values()], pa.string()
        )
        idx = pc.index_in(text.cast(keys.type) if keys.type != text.type else text, value_set=keys)
        arr = pc.if_else(pc.is_null(idx), text, pc.take(values, idx))
    if t.trim:
        fn = {
            "both": pc.utf8_trim_whitespace,
            "left": pc.utf8_ltrim_whitespace,
            "right": pc.utf8_rtrim_whitespace,
        }[t.trim]
        arr = fn(arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string()))
    if t.case:
        fn = {"upper": pc.utf8_upper, "lower": pc.utf8_lower, "title": pc.utf8_title}[t.case]
        arr = fn(arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string()))
    if t.date_format:
        text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
        parsed = pc.strptime(text, format=t.date_format, unit="us", error_is_null=True)
        bad = _failed(text, parsed)
        if bad.any() and t.on_error == "quarantine":
            rejects.add(bad, f"{t.target}: value does not match date format {t.date_format!r}")
        arr = parsed
    if t.cast:
        to = arrow_type(t.cast)
        try:
            arr = pc.cast(arr, to)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast = _cast_each(arr, to)
            bad = _failed(arr, cast)
            if t.on_error == "quarantine":
                rejects.add(bad, f"{t.target}: value cannot be cast to {t.cast}")
            arr = cast
    if t.default is not None:
        arr = pc.fill_null(
            arr, pa.scalar(t.default).cast(arr.type) if arr.type != pa.null() else t.default
        )
    if t.mask:
        arr = apply_mask(arr, t.mask, salt=salt)
    return arr


def apply_transforms(
    batch: pa.RecordBatch,
    transforms: list[ColumnTransform],
    salt: str = "",
) -> tuple[pa.RecordBatch, dict[int, str]]:
    """Produce the target columns (in ``transforms`` order) and the rows rejected, by index.

    The read already renamed pushed-down expressions to the target name, so a transform reads
    ``t.target`` when it has an expression, else ``t.source``.
    """
    rejects = _Rejects(batch.num_rows)
    arrays, names = [], []
    for t in transforms:
        column = t.target if t.expression else t.source
        if column is None:  # a computed column: its default, else NULL, then the steps
            arr = (
                pa.array([t.default] * batch.num_rows)
                if t.default is not None
                else pa.nulls(batch.num_rows, pa.string())
            )
        else:
            idx = batch.schema.get_field_index(column)
            if idx < 0:
                raise InvalidInputError(
                    f"Source column {column!r} for target column {t.target!r} is not in the read"
                    f" batch (columns: {batch.schema.names})",
                    column=column,
                )
            arr = batch.column(idx)
        if not t.is_identity:
            arr = transform_column(arr, t, rejects, salt)
        arrays.append(arr)
        names.append(t.target)
    return pa.RecordBatch.from_arrays(arrays, names=names), rejects.reasons
