"""Masking hooks applied inside the engine's vectorized transforms.

Each mask kind maps an Arrow array to an array of the same length. Hashing is deterministic
per project salt, so equal inputs give equal outputs across tables and joins still line up.
Values are hashed once per distinct value (dictionary encoding), not once per row.

Kinds: ``hash`` (keyed BLAKE2b, ``length`` hex characters), ``redact`` (a fixed text),
``partial`` (keep the last ``keep_last`` characters), ``null``, and ``fake`` (realistic values
from Faker: ``provider`` name, email, phone, address, company, text, ...). A fake is chosen
per value by a keyed hash of the value (SipHash, keyed from the salt) from a pool of ``pool``
values that Faker generates once per process with a fixed seed (every worker builds the same);
equal inputs give equal fakes in every table and process, and the cost per distinct value is
one hash, not one Faker call (about 60 us each, which would dominate a copy). A fake is no
longer than the value it replaces (``max_length="source"``, so it fits the target column
wherever the original did; the next pool entries that fit, else truncated), or give a number
or None.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
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
    # the keyed state is set up once and copied per value (a third cheaper than keying anew)
    keyed = hashlib.blake2b(key=salt.encode()[:64], digest_size=32)

    def digest(value: str) -> str:
        h = keyed.copy()
        h.update(value.encode())
        return h.hexdigest()[:length]

    return _per_distinct(arr, digest)


# provider -> Faker method; values with line breaks are joined with ", "
FAKE_PROVIDERS: dict[str, str] = {
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone_number",
    "address": "address",
    "street": "street_address",
    "city": "city",
    "postcode": "postcode",
    "country": "country",
    "company": "company",
    "user_name": "user_name",
    "text": "sentence",
    "iban": "iban",
    "credit_card": "credit_card_number",
    "ssn": "ssn",
    "ipv4": "ipv4",
}
FAKE_POOL = 4096


PoolKey = tuple[str, str, int]
# pools built elsewhere (the driver, while it plans) and shipped with the tasks: a worker
# then skips importing Faker and generating them (about 0.4 s per process and pool)
_SEEDED: dict[PoolKey, pa.Array] = {}


def pools_for(masks: list[dict[str, Any]]) -> dict[PoolKey, pa.Array]:
    """The fake pools these mask specs use, built here (cached per process)."""
    pools: dict[PoolKey, pa.Array] = {}
    for spec in masks:
        if spec.get("kind") == "fake":
            key = (
                spec.get("provider", "name"),
                spec.get("locale", "en_US"),
                int(spec.get("pool", FAKE_POOL)),
            )
            pools[key] = fake_pool(*key)
    return pools


def seed_pools(pools: dict[PoolKey, pa.Array]) -> None:
    """Use pools built by another process (identical to what this one would build)."""
    _SEEDED.update(pools)


def fake_pool(provider: str, locale: str = "en_US", size: int = FAKE_POOL) -> pa.Array:
    """``size`` values of a Faker provider, the same in every process (fixed seed)."""
    seeded = _SEEDED.get((provider, locale, size))
    return seeded if seeded is not None else _build_pool(provider, locale, size)


@functools.lru_cache(maxsize=64)
def _build_pool(provider: str, locale: str, size: int) -> pa.Array:
    if provider not in FAKE_PROVIDERS:
        raise InvalidInputError(
            f"Unknown fake provider {provider!r}; known providers: {sorted(FAKE_PROVIDERS)}"
        )
    if not 1 <= size <= 1_000_000:
        raise InvalidInputError(f"Fake pool size must be 1..1,000,000, got {size}")
    try:
        from faker import Faker
    except ImportError as exc:  # pragma: no cover - faker is a dependency
        raise InvalidInputError("The fake mask needs Faker: pip install faker") from exc
    try:
        fake = Faker(locale)
    except AttributeError as exc:
        raise InvalidInputError(f"Unknown Faker locale {locale!r}, e.g. en_US, de_DE") from exc
    seed = int.from_bytes(hashlib.sha256(f"{provider}:{locale}".encode()).digest()[:8], "big")
    fake.seed_instance(seed)
    method = getattr(fake, FAKE_PROVIDERS[provider])
    return pa.array([str(method()).replace("\n", ", ") for _ in range(size)], pa.string())


def mask_fake(
    arr: pa.Array,
    salt: str = "",
    provider: str = "name",
    locale: str = "en_US",
    pool: int = FAKE_POOL,
    max_length: int | str | None = "source",
    **_: Any,
) -> pa.Array:
    """A fake per distinct value; by default no longer than the value it replaces (so it fits
    wherever the original fitted: ``max_length="source"``), or an explicit limit, or None."""
    values = fake_pool(provider, locale, pool)
    lengths = _pool_lengths(provider, locale, pool)
    text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    encoded = pc.dictionary_encode(text)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    # keyed SipHash (vectorized in pandas: imported here, 0.17 s a copy without masks saves),
    # the key derived from the salt
    from pandas.util import hash_array

    key = hashlib.blake2b(salt.encode(), digest_size=8).hexdigest()
    hashed = hash_array(distinct, hash_key=key, categorize=False)
    picks = (hashed % np.uint64(pool)).astype(np.int64)
    chosen = pc.take(values, pa.array(picks))
    if max_length is not None:
        if max_length == "source":
            caps = pc.utf8_length(encoded.dictionary).to_numpy().astype(np.int64)
        elif isinstance(max_length, int) and max_length > 0:
            caps = np.full(len(distinct), max_length, dtype=np.int64)
        else:
            raise InvalidInputError(
                f"max_length of a fake mask must be a positive number, 'source' or null,"
                f" got {max_length!r}"
            )
        chosen = _fit(chosen, picks, caps, values, lengths)
    return pc.take(chosen, encoded.indices)


@functools.lru_cache(maxsize=64)
def _pool_lengths(provider: str, locale: str, size: int) -> np.ndarray:
    lengths: np.ndarray = pc.utf8_length(fake_pool(provider, locale, size)).to_numpy()
    return lengths


def _fit(
    chosen: pa.Array, picks: np.ndarray, caps: np.ndarray, values: pa.Array, lengths: np.ndarray
) -> pa.Array:
    """Replace picks longer than their cap: the next pool entries that fit, else truncate."""
    too_long = np.flatnonzero(lengths[picks] > caps)
    if not len(too_long):
        return chosen
    out = chosen.to_pylist()
    for i in too_long:
        for step in range(1, 33):  # deterministic probing: the same value, the same answer
            j = (picks[i] + step) % len(lengths)
            if lengths[j] <= caps[i]:
                out[i] = values[j].as_py()
                break
        else:
            out[i] = out[i][: caps[i]]
    return pa.array(out, pa.string())


def mask_redact(arr: pa.Array, replacement: str = "***", **_: Any) -> pa.Array:
    return pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), pa.scalar(replacement))


def mask_partial(arr: pa.Array, keep_last: int = 4, char: str = "*", **_: Any) -> pa.Array:
    """Keep the last ``keep_last`` characters, replace the others by ``char`` (vectorized)."""
    if isinstance(keep_last, bool) or not isinstance(keep_last, int) or keep_last < 0:
        raise InvalidInputError(f"keep_last must be a number of characters >= 0, got {keep_last!r}")
    text = arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    length = pc.utf8_length(text)
    kept = (
        pc.utf8_slice_codeunits(text, start=-keep_last)
        if keep_last
        else pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), pa.scalar(""))
    )
    hidden = pc.max_element_wise(pc.subtract(length, pc.utf8_length(kept)), 0)
    stars = pc.binary_repeat(pa.scalar(char), hidden)
    return pc.binary_join_element_wise(stars, kept, "")


def mask_null(arr: pa.Array, **_: Any) -> pa.Array:
    return pa.nulls(len(arr), arr.type)


MASKS: dict[str, Callable[..., pa.Array]] = {
    "hash": mask_hash,
    "redact": mask_redact,
    "partial": mask_partial,
    "null": mask_null,
    "fake": mask_fake,
}


def apply_mask(arr: pa.Array, spec: dict[str, Any], salt: str = "") -> pa.Array:
    kind = spec.get("kind")
    if kind not in MASKS:
        raise InvalidInputError(f"Unknown mask kind {kind!r}; known kinds: {sorted(MASKS)}")
    options = {k: v for k, v in spec.items() if k != "kind"}
    return MASKS[kind](arr, salt=salt, **options)
