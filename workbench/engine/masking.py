"""Masking hooks applied inside the engine's vectorized transforms.

Each mask kind maps an Arrow array to an array of the same length. Hashing is deterministic
per project salt, so equal inputs give equal outputs across tables and joins still line up.
Values are hashed once per distinct value (dictionary encoding), not once per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from workbench.errors import InvalidInputError


def _per_distinct(arr: pa.Array, fn: Callable[[str], str]) -> pa.Array:
    text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    mapped = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return pc.take(mapped, encoded.indices)


def mask_hash(arr: pa.Array, salt: str = "", length: int = 16, **_: Any) -> pa.Array:
    key = salt.encode()

    def digest(value: str) -> str:
        return hashlib.blake2b(value.encode(), key=key[:64], digest_size=32).hexdigest()[:length]

    return _per_distinct(arr, digest)


def mask_redact(arr: pa.Array, replacement: str = "***", **_: Any) -> pa.Array:
    return pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), pa.scalar(replacement))


def mask_partial(arr: pa.Array, keep_last: int = 4, char: str = "*", **_: Any) -> pa.Array:
    def partial(value: str) -> str:
        keep = value[-keep_last:] if keep_last else ""
        return char * max(len(value) - len(keep), 0) + keep

    return _per_distinct(arr, partial)


def mask_null(arr: pa.Array, **_: Any) -> pa.Array:
    return pa.nulls(len(arr), arr.type)


MASKS: dict[str, Callable[..., pa.Array]] = {
    "hash": mask_hash,
    "redact": mask_redact,
    "partial": mask_partial,
    "null": mask_null,
}


def apply_mask(arr: pa.Array, spec: dict[str, Any], salt: str = "") -> pa.Array:
    kind = spec.get("kind")
    if kind not in MASKS:
        raise InvalidInputError(f"Unknown mask kind {kind!r}; known kinds: {sorted(MASKS)}")
    options = {k: v for k, v in spec.items() if k != "kind"}
    return MASKS[kind](arr, salt=salt, **options)
