"""Which SQLite-rendered COPY lines need escapes (``sqlite_text.needs_escapes``)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from workbench.connectors.sqlite_text import needs_escapes

PLAIN = "1\tanna\t2024-01-02\n"


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string()])
def test_lines_with_only_their_own_separators_need_none(kind):
    lines = pa.array([PLAIN, "2\tbob\t2024-01-03\n"] * 1000, kind)
    assert not needs_escapes(lines, 3).any()


@pytest.mark.parametrize(
    "odd",
    ["7\tan\tna\t2024-01-02\n", "7\tan\nna\t2024-01-02\n", "7\tan\\na\t2024-01-02\n",
     "7\tan\rna\t2024-01-02\n"],
)  # fmt: skip
def test_the_line_with_a_special_in_a_value_and_only_it_is_flagged(odd):
    lines = pa.array([PLAIN] * 500 + [odd] + [PLAIN] * 500, pa.large_string())
    flagged = needs_escapes(lines, 3)
    assert flagged.nonzero()[0].tolist() == [500]


def test_a_slice_is_checked_on_its_own_lines():
    lines = pa.array(["1\ta\tb\tc\n", PLAIN, PLAIN], pa.string()).slice(1)
    assert needs_escapes(lines, 3).tolist() == [False, False]
    assert needs_escapes(pa.array([], pa.string()), 3).tolist() == []
