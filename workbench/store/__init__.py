"""The metadata store: projects, connections, mappings, jobs and their audit trail in PostgreSQL.

Parts:
- ``handle``: :class:`Store` and :func:`open_store` (embedded PostgreSQL when no URL is set);
- ``models``, ``governance_models``: every stored record as SQLAlchemy ORM classes;
  ``migrations/``: their Alembic revisions, run by ``revisions`` (``workbench init``);
- ``embedded``: starting the embedded server; ``database``: the engine and connect errors;
- ``tenancy``: roles and row-level security bound to the login; ``access``: who may do what;
- ``secrets``: Fernet encryption, one key per organization; ``redact``: masking for JSON;
  ``credentials``: dashboard password hashes;
- ``projects``, ``connections``, ``jobs``, ``audit``, ``organizations``, ``profiles``,
  ``feedback``, ``flags``: the API, plain functions taking the store; ``names``: checks of
  names people enter.

The store holds records and runs nothing: it never opens a source or a target (an
import-linter contract in pyproject.toml).

    from workbench.store import open_store, projects, connections
    store = open_store()
    projects.create_project(store, "shop")
    connections.add_connection(store, "shop", "src", "mysql://app:pw@db1/shop", role="source")
"""

from workbench.store import audit, connections, jobs, projects
from workbench.store.handle import Identity, Store, open_store

__all__ = ["Identity", "Store", "audit", "connections", "jobs", "open_store", "projects"]
