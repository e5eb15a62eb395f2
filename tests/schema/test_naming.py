from __future__ import annotations

import pytest

from workbench.schema.naming import MAX_BYTES, NameAllocator, snake_case, truncate


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("InvoiceLine", "invoice_line"),
        ("Order Details", "order_details"),
        ("HTTPServer", "http_server"),
        ("customerID", "customer_id"),
        ("Größe", "größe"),
        ("2fa", "_2fa"),
        ("a--b", "a_b"),
        ("already_snake", "already_snake"),
        ("select", "select"),
    ],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


def test_long_names_are_truncated_without_collisions():
    a, b = "x" * 70 + "_first", "x" * 70 + "_second"
    ta, tb = truncate(a), truncate(b)
    assert len(ta.encode()) == len(tb.encode()) == MAX_BYTES and ta != tb
    ü = "ü" * 40  # 80 bytes: cut on a character boundary
    assert len(truncate(ü).encode()) <= MAX_BYTES and truncate(ü).startswith("ü")
    alloc = NameAllocator("snake")
    names = [alloc.take(n) for n in ("Order", "order", "ORDER", "y" * 80, "y" * 80)]
    assert names[:3] == ["order", "order_2", "order_3"]
    assert len(set(names)) == 5 and all(len(n.encode()) <= MAX_BYTES for n in names)
