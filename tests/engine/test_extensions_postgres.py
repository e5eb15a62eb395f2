"""PostgreSQL sources whose tables use extensions: made in the target, or named if it cannot.

A citext column, a default calling uuid-ossp's uuid_generate_v4() and a pg_trgm index failed
the target's CREATE TABLE ('type "citext" does not exist') or its index. The extensions the
chosen tables use (their types, their defaults' functions, their indexes' operator classes)
are created in the target first, as pg_dump does; a target whose server does not have one
stops the job before anything is copied, naming it and what to do.
"""

from __future__ import annotations

import psycopg
import pytest

from workbench.engine.run import CopyOptions, copy_database
from workbench.errors import UnsupportedError

pytestmark = pytest.mark.slow  # a private Debian PostgreSQL (pgserver has no contrib)


def test_extensions_the_tables_use_are_made_in_the_target_or_named(debian_pg, target_url, store):
    source = debian_pg.url(debian_pg.create_database("wbext"))
    with psycopg.connect(source, autocommit=True) as conn:
        for extension in ("citext", '"uuid-ossp"', "pg_trgm"):
            conn.execute(f"CREATE EXTENSION {extension}")
        conn.execute(
            "CREATE TABLE users (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(),"
            " email citext UNIQUE NOT NULL, name text)"
        )
        conn.execute("CREATE INDEX users_name_trgm ON users USING gin (name gin_trgm_ops)")
        conn.execute(
            "INSERT INTO users (email, name) SELECT 'User' || i || '@Example.org', 'name ' || i"
            " FROM generate_series(1, 500) i"
        )
    target = debian_pg.url(debian_pg.create_database("wbexttarget"))
    result = copy_database(source, target, CopyOptions(workers=2), store=store)
    assert result.status == "succeeded" and result.validated, result.validation
    with psycopg.connect(target) as conn:
        extensions = conn.execute(
            "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1"
        ).fetchall()
        assert extensions == [("citext",), ("pg_trgm",), ("uuid-ossp",)]
        assert conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'users_name_trgm'"
        ).fetchone() == (
            "CREATE INDEX users_name_trgm ON public.users USING gin (name gin_trgm_ops)",
        )
        with pytest.raises(psycopg.errors.UniqueViolation):  # citext: unique without case
            conn.execute("INSERT INTO public.users (email) VALUES ('user1@example.ORG')")
    # pgserver's PostgreSQL has none of them
    with pytest.raises(UnsupportedError) as caught:
        copy_database(source, target_url, CopyOptions(workers=2), store=store)
    message = str(caught.value)
    assert "cannot create an extension" in message and '"citext"' in message, message
    assert "Nothing was copied" in message and "postgresql-contrib" in message
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.users')").fetchone() == (None,)
