"""Masks: each kind as a table of input and output, determinism across calls and salts, and
join preservation across two tables copied by the engine."""

from __future__ import annotations

import psycopg
import pyarrow as pa
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import InvalidInputError
from workbench.transforms.masking import FAKE_PROVIDERS, MASKS, apply_mask

VALUES = pa.array(["alice@example.com", "bob", None, "alice@example.com", "0123456789"])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"kind": "redact"}, ["***", "***", None, "***", "***"]),
        ({"kind": "redact", "replacement": "x"}, ["x", "x", None, "x", "x"]),
        (
            {"kind": "partial", "keep_last": 4},
            ["*************.com", "bob", None, "*************.com", "******6789"],
        ),
        ({"kind": "null"}, [None] * 5),
    ],
    ids=["redact", "redact-replacement", "partial", "null"],
)
def test_fixed_masks(spec: dict, expected: list) -> None:
    assert apply_mask(VALUES, spec).to_pylist() == expected


def test_hash_is_deterministic_per_salt() -> None:
    first = apply_mask(VALUES, {"kind": "hash"}, salt="project-a").to_pylist()
    again = apply_mask(VALUES, {"kind": "hash"}, salt="project-a").to_pylist()
    other = apply_mask(VALUES, {"kind": "hash"}, salt="project-b").to_pylist()
    assert first == again and first[0] == first[3] and first[2] is None
    assert len(first[0]) == 16 and first[0] != first[1]
    assert other[0] != first[0]  # another project's salt: other hashes
    assert len(apply_mask(VALUES, {"kind": "hash", "length": 8}).to_pylist()[0]) == 8


@pytest.mark.parametrize("provider", sorted(FAKE_PROVIDERS))
def test_fake_is_realistic_and_deterministic(provider: str) -> None:
    spec = {"kind": "fake", "provider": provider}
    first = apply_mask(VALUES, spec, salt="s").to_pylist()
    assert first == apply_mask(VALUES, spec, salt="s").to_pylist()
    assert first[0] == first[3] and first[2] is None
    assert all(isinstance(v, str) and v and "\n" not in v for i, v in enumerate(first) if i != 2)
    assert "alice" not in first[0]
    # the same value in another batch, alone or among others, gets the same fake
    assert apply_mask(pa.array(["alice@example.com"]), spec, salt="s").to_pylist() == [first[0]]


def test_fake_providers_look_right() -> None:
    spec = {"kind": "fake", "provider": "email", "max_length": None}
    emails = apply_mask(VALUES, spec).to_pylist()
    assert all("@" in e for e in emails if e is not None)
    names = apply_mask(pa.array([f"n{i}" for i in range(200)]), {**spec, "provider": "name"})
    names = names.to_pylist()
    assert len(set(names)) > 150  # a pool of 4096: few collisions among 200 values
    numbers = apply_mask(pa.array([1, 2, 1], pa.int64()), {"kind": "fake"}).to_pylist()
    assert numbers[0] == numbers[2] != numbers[1]  # non-text values are masked as text


@pytest.mark.parametrize(
    ("max_length", "limit"), [("source", None), (6, 6)], ids=["source", "number"]
)
def test_fake_fits_the_column(max_length, limit) -> None:
    values = pa.array(["Customer#000000001", "Al", "x" * 40, "Bo"])
    spec = {"kind": "fake", "provider": "address", "max_length": max_length}
    fakes = apply_mask(values, spec).to_pylist()
    for value, fake in zip(values.to_pylist(), fakes, strict=True):
        assert 0 < len(fake) <= (limit or len(value))
    assert fakes == apply_mask(values, spec).to_pylist()


def test_fake_salt_changes_the_choice() -> None:
    many = pa.array([f"person {i}" for i in range(50)])
    spec = {"kind": "fake", "provider": "name"}
    assert apply_mask(many, spec, salt="a") != apply_mask(many, spec, salt="b")


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "scramble"},
        {"kind": "fake", "provider": "horoscope"},
        {"kind": "fake", "locale": "xx_XX"},
        {"kind": "fake", "pool": 0},
        {"kind": "fake", "max_length": 0},
        {"kind": "partial", "keep_last": -1},
    ],
    ids=["kind", "provider", "locale", "pool", "max-length", "keep-last"],
)
def test_unknown_masks_are_refused(spec: dict) -> None:
    with pytest.raises(InvalidInputError):
        apply_mask(VALUES, spec)


def test_registry_lists_every_kind() -> None:
    assert set(MASKS) == {"hash", "redact", "partial", "null", "fake"}


@pytest.fixture
def people(pg_server):
    """Two tables that join on an email address (customers 1:n orders)."""
    name = pg_server.create_database("wbmask")
    url = pg_server.url(name)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, email text, name text)")
        conn.execute(
            "INSERT INTO customers SELECT i, 'person' || i || '@example.com', 'Person ' || i"
            " FROM generate_series(1, 300) i"
        )
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, email text, amount int)")
        conn.execute(
            "INSERT INTO orders SELECT i, 'person' || (i % 301) || '@example.com', i"
            " FROM generate_series(1, 2000) i"
        )
    yield url
    pg_server.drop_database(name)


JOIN = "SELECT c.id, o.id FROM {s}.customers c JOIN {s}.orders o ON o.{col} = c.{col} ORDER BY 1, 2"


@pytest.mark.parametrize("kind", ["hash", "fake"])
def test_masked_keys_still_join_across_tables(people, target_url, store, kind: str) -> None:
    mask = {"kind": kind, "provider": "email"} if kind == "fake" else {"kind": "hash"}
    options = CopyOptions(
        target_schema="masked",
        validate=False,
        partition_rows=500,
        transforms={"customers": {"email": {"mask": mask}}, "orders": {"email": {"mask": mask}}},
    )
    result = copy_database(people, target_url, options, store=store)
    assert result.status == "succeeded"
    with psycopg.connect(people) as src, psycopg.connect(target_url) as tgt:
        before = src.execute(JOIN.format(s="public", col="email")).fetchall()
        after = tgt.execute(JOIN.format(s="masked", col="email")).fetchall()
        leaked = tgt.execute(
            "SELECT count(*) FROM masked.customers WHERE email LIKE 'person%'"
        ).fetchone()[0]
    assert len(before) > 1500
    if kind == "hash":
        assert after == before  # a keyed hash never collides here: the same pairs join
    else:
        assert set(before) <= set(after)  # every pair still joins (a pool may add pairs)
    assert leaked == 0


def test_fake_pools_built_by_the_driver_are_used_by_workers() -> None:
    """The driver ships its pools with the tasks; a worker uses them instead of Faker."""
    import pyarrow as pa

    from workbench.transforms import masking

    spec = {"kind": "fake", "provider": "city", "pool": 16}
    shipped = masking.pools_for([spec, {"kind": "hash"}])
    assert list(shipped) == [("city", "en_US", 16)]
    assert shipped[("city", "en_US", 16)].equals(masking._build_pool("city", "en_US", 16))
    marker = {("city", "en_US", 16): pa.array(["Shipped"] * 16)}
    try:
        masking.seed_pools(marker)
        out = masking.apply_mask(pa.array(["Berlin", "Paris"]), {**spec, "max_length": None}, "s")
        assert out.to_pylist() == ["Shipped", "Shipped"]
    finally:
        masking._SEEDED.clear()
