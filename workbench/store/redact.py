"""Removing secrets from values before they are stored as JSON (audit, job parameters, logs)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from workbench.config import Secret
from workbench.urls import MASK, mask_text

# keys whose values are secrets whatever they hold
_SECRET_KEY = re.compile(r"passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential", re.I)


def redact(value: Any, key_depth: int | None = None) -> Any:
    """A JSON-ready copy of ``value`` with URL passwords masked everywhere, and the values of
    secret-looking keys masked in the first ``key_depth`` levels of mappings (all levels when
    None).

    Where a structure's keys are names a user chose (tables and columns inside job options,
    mappings, statistics), a column called ``password`` is a name, not a secret: callers
    storing such structures pass ``key_depth=0`` (or 1 for keyword details whose own names
    are ours but whose values may hold user names).
    """

    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        deeper = None if key_depth is None else max(0, key_depth - 1)
        by_key = key_depth is None or key_depth > 0
        return {
            str(k): MASK
            if by_key and _SECRET_KEY.search(str(k)) and _may_hide(v)
            else redact(v, deeper)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, key_depth) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # JSON has no NaN/Infinity
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    return mask_text(str(value))


def _may_hide(value: Any) -> bool:
    """A value under a secret-looking key is masked unless it cannot hold a secret."""
    return not (value is None or value == "" or isinstance(value, bool))


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value`` (tuples to lists, dates to ISO text), masking nothing."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
