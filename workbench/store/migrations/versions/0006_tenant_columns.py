"""Tenancy: every tenant table carries its organization, for row-level security.

``organization_id`` is added to the tables that reached their organization only through a
parent (connections, mappings, jobs, logs, checkpoints), filled from that parent, and
defaults to the transaction's ``workbench.organization_id`` so inserts need not name it.
The grants and policies themselves are applied by ``workbench.store.tenancy.secure`` after
every upgrade (they depend on the application role, which is per database).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CURRENT_ORG = "nullif(current_setting('workbench.organization_id', true), '')::bigint"

# table -> (parent table, the column of table pointing at it)
PARENTS = {
    "connections": ("projects", "project_id"),
    "schema_mappings": ("projects", "project_id"),
    "migration_jobs": ("projects", "project_id"),
    "column_mappings": ("schema_mappings", "schema_mapping_id"),
    "migration_logs": ("migration_jobs", "job_id"),
    "partition_checkpoints": ("migration_jobs", "job_id"),
}


def upgrade() -> None:
    for table, (parent, column) in PARENTS.items():  # parents before children
        op.add_column(table, sa.Column("organization_id", sa.BigInteger(), nullable=True))
        op.execute(
            f"UPDATE {table} AS t SET organization_id = p.organization_id "
            f"FROM {parent} AS p WHERE p.id = t.{column}"
        )
        op.alter_column(
            table, "organization_id", nullable=False, server_default=sa.text(CURRENT_ORG)
        )
        op.create_foreign_key(
            f"fk_{table}_organization_id_organizations",
            table,
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    for table in reversed(PARENTS):
        op.drop_column(table, "organization_id")
