"""Masked hashes are salted per project: the same in every job of a project (joins line up
across jobs and tables), different in another project, and never the raw value."""

from __future__ import annotations

import psycopg

from workbench.engine.run import CopyOptions, copy_database


def hashed(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT email FROM people ORDER BY id").fetchall()]


def test_mask_salt_is_per_project(pg_server, store):
    source = pg_server.url(pg_server.create_database("wbsalt"))
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("CREATE TABLE people (id int PRIMARY KEY, email text)")
        conn.execute("INSERT INTO people VALUES (1, 'a@x.org'), (2, 'b@x.org'), (3, 'a@x.org')")
    options = CopyOptions(workers=1, transforms={"people": {"email": {"mask": {"kind": "hash"}}}})
    targets = [pg_server.url(pg_server.create_database("wbsalt_t")) for _ in range(3)]
    for target, project in zip(targets, ["p1", "p1", "p2"], strict=True):
        result = copy_database(source, target, options, store=store, project=project)
        assert result.status == "succeeded"
    first, second, other = (hashed(t) for t in targets)
    assert first == second  # same project: deterministic across jobs
    assert first[0] == first[2] != first[1]  # equal inputs, equal outputs
    assert other != first  # another project, another salt
    assert not {"a@x.org", "b@x.org"} & set(first + other)
