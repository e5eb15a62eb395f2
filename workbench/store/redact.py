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

MASK = "***"
# keys whose values are secrets whatever they hold
_SECRET_KEY = re.compile(r"passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential", re.I)


def redact(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with secret-looking keys and URL passwords masked."""
    from workbench.connectors.urls import mask_text

    if isinstance(value, Secret):
        return MASK
    if isinstance(value, Mapping):
        return {
            str(k): MASK if _SECRET_KEY.search(str(k)) and _may_hide(v) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
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
