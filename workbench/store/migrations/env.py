"""Alembic environment: always online, on the connection the workbench passes in."""

from alembic import context

import workbench.store.feedback  # noqa: F401  (registers matching_feedback on Base)
from workbench.store import governance_models as _governance  # noqa: F401  (flags, lineage)
from workbench.store import profiles as _profiles  # noqa: F401  (registers table_profiles)
from workbench.store.models import Base
from workbench.store.revisions import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only when someone runs the alembic CLI by hand
    raise RuntimeError("Run store migrations with `workbench init`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
