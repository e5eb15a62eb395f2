"""The metadata store: projects, connections, mappings, jobs and their audit trail in PostgreSQL.

Parts:
- ``handle``: :class:`Store` and :func:`open_store` (embedded PostgreSQL when no URL is set);
- ``models``: the stored model as SQLAlchemy ORM classes; ``migrations/``: its Alembic
  revisions, run by ``revisions`` (``workbench init``);
- ``embedded``: starting the embedded server; ``database``: the engine and connect errors;
- ``secrets``: Fernet encryption of connection passwords; ``redact``: masking for JSON;
- ``projects``, ``connections``, ``jobs``, ``audit``: the API, plain functions taking the store.

    from workbench.store import open_store, projects, connections
    store = open_store()
    projects.create_project(store, "shop")
    connections.add_connection(store, "shop", "src", "mysql://app:pw@db1/shop", role="source")
"""

from workbench.store import audit, connections, jobs, projects
from workbench.store.handle import Identity, Store, open_store

__all__ = ["Identity", "Store", "audit", "connections", "jobs", "open_store", "projects"]
