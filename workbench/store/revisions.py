"""The store's schema version: Alembic revisions kept in ``migrations/``, run from code.

No ``alembic.ini`` is needed at run time. Upgrades run in one transaction under a
PostgreSQL advisory lock, so two processes opening a fresh store at once create it once.
A store stamped with a revision this code does not know (made by a newer workbench) is
refused with :class:`StoreSchemaError` before anything is touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from workbench.errors import StoreSchemaError

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "workbench_alembic_version"
# The newest revision in migrations/versions (tests/store/test_revisions.py holds it to
# Alembic's head): a store stamped with it is current without importing Alembic, which every
# command opening the store paid (0.15-0.2 s of a small copy's 1.3 s).
HEAD = "0012"
_LOCK_KEY = 0x776F726B62656E63  # "workbenc": advisory lock id for schema upgrades


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # revision stamped in the store; None = empty store
    head: str  # newest revision this code knows

    @property
    def is_current(self) -> bool:
        return self.current == self.head


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "workbench/store/migrations/versions holds no revision"
    return head


def _stamped(connection: Connection) -> str | None:
    """The revision stamped in the store, read without Alembic (None: not stamped)."""
    if connection.scalar(text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}) is None:
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return str(rows[0][0]) if len(rows) == 1 else None


def schema_state(connection: Connection) -> SchemaState:
    """Read the store's revision; refuse a revision this code does not know."""
    if _stamped(connection) == HEAD:
        return SchemaState(current=HEAD, head=HEAD)
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    current = context.get_current_revision()
    head = head_revision()
    if current is not None:
        script = ScriptDirectory.from_config(alembic_config())
        try:
            known = script.get_revision(current) is not None
        except CommandError:
            known = False
        if not known:
            raise StoreSchemaError(
                f"The store's schema is at revision {current!r}, which this workbench does not "
                f"know (it knows up to {head!r}): the store was made by a newer workbench. "
                "Upgrade the workbench package, or point WORKBENCH_DATABASE_URL at another store",
                current=current,
                head=head,
            )
    return SchemaState(current=current, head=head)


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Create or upgrade the store to this code's head revision; (before, after)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        before = schema_state(conn)
        if not before.is_current:
            log.info("upgrading store schema from %s to %s", before.current, before.head)
            from alembic import command

            command.upgrade(alembic_config(conn), "head")
        after = schema_state(conn)
        conn.commit()
    return before, after


def require_current(engine: Engine, *, admin_hint: bool = False) -> SchemaState:
    """Check without changing anything that the store is at this code's head revision.

    ``admin_hint``: the login cannot upgrade (the application role); say how to.
    """
    with engine.connect() as conn:
        state = schema_state(conn)
    how = (
        "run `workbench init` with WORKBENCH_DATABASE_ADMIN_URL set to the store's owner"
        if admin_hint
        else "run `workbench init`"
    )
    if state.current is None:
        raise StoreSchemaError(f"The store is empty; {how} to create it")
    if not state.is_current:
        raise StoreSchemaError(
            f"The store's schema is at revision {state.current!r}, older than this workbench's "
            f"{state.head!r}; {how} to upgrade it",
            current=state.current,
            head=state.head,
        )
    return state
