"""End to end: suggest from Chinook (SQLite) to PostgreSQL tables with other column names,
accept, check, and `run_migration` loads the rows into those tables.

The target tables are empty, so the column suggestions come from names and types
(``matching.names_only``). They carry no foreign keys: the engine loads existing
(append) tables in name order, so albums before artists would be quarantined.
"""

from __future__ import annotations

import psycopg

from tests.matching.stored import make_project, pg_tables, pg_target
from workbench.engine.migrate import run_migration
from workbench.engine.run import CopyOptions
from workbench.matching import checks, decisions, mappings

__all__ = ["pg_target"]

TARGET_DDL = """
CREATE TABLE artists (artist_id integer PRIMARY KEY, artist_name varchar(120));
CREATE TABLE albums (album_id integer PRIMARY KEY, album_title text NOT NULL,
                     artist_id integer NOT NULL);
CREATE TABLE genres (genre_id integer PRIMARY KEY, genre_name text);
"""

EXPECTED = {
    ("Artist", "artists"): {"ArtistId": "artist_id", "Name": "artist_name"},
    ("Album", "albums"): {"AlbumId": "album_id", "Title": "album_title", "ArtistId": "artist_id"},
    ("Genre", "genres"): {"GenreId": "genre_id", "Name": "genre_name"},
}


def test_chinook_into_renamed_postgres_tables(store, chinook_sqlite, pg_target):
    pg_tables(pg_target, TARGET_DDL)
    make_project(store, "chinook", chinook_sqlite, pg_target)
    saved = mappings.suggest_mappings(store, "chinook", "src", "tgt")
    found = {
        (m.source_table, m.target_table): {c.source_column: c.target_column for c in m.columns}
        for m in saved
    }
    assert found == EXPECTED
    assert all(c.state == "suggested" and c.confidence > 0.5 for m in saved for c in m.columns)
    for m in saved:
        decisions.accept_all(store, "chinook", m.id)
    assert checks.check_mappings(store, "chinook") == []

    result = run_migration(
        "chinook", store=store, options=CopyOptions(if_exists="append", workers=1)
    )
    assert result.status == "succeeded"
    assert result.rows_quarantined == 0
    with psycopg.connect(pg_target) as conn:
        count = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("artists", "albums", "genres")
        }
        assert count == {"artists": 275, "albums": 347, "genres": 25}
        assert conn.execute("SELECT artist_name FROM artists WHERE artist_id = 1").fetchone() == (
            "AC/DC",
        )
        assert conn.execute(
            "SELECT album_title, artist_id FROM albums WHERE album_id = 1"
        ).fetchone() == ("For Those About To Rock We Salute You", 1)
        assert conn.execute("SELECT genre_name FROM genres WHERE genre_id = 1").fetchone() == (
            "Rock",
        )
