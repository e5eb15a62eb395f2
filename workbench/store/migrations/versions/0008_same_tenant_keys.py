"""Tenancy: a child row and its parent are always in the same organization.

Foreign keys skip row-level security, so without this a row of organization A could point
at a project of organization B. Each parent gets a unique (id, organization_id) and each
child a foreign key on (parent id, organization_id) to it.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PARENTS = ("projects", "schema_mappings", "migration_jobs")
# child table, its column pointing at the parent, parent table
LINKS = (
    ("connections", "project_id", "projects"),
    ("schema_mappings", "project_id", "projects"),
    ("migration_jobs", "project_id", "projects"),
    ("masking_policies", "project_id", "projects"),
    ("column_mappings", "schema_mapping_id", "schema_mappings"),
    ("migration_logs", "job_id", "migration_jobs"),
    ("partition_checkpoints", "job_id", "migration_jobs"),
    ("column_lineage", "job_id", "migration_jobs"),
)


def upgrade() -> None:
    for parent in PARENTS:
        op.create_unique_constraint(
            f"uq_{parent}_id_organization_id", parent, ["id", "organization_id"]
        )
    for child, column, parent in LINKS:
        op.create_foreign_key(
            f"fk_{child}_same_tenant_{parent}",
            child,
            parent,
            [column, "organization_id"],
            ["id", "organization_id"],
        )


def downgrade() -> None:
    for child, _column, parent in LINKS:
        op.drop_constraint(f"fk_{child}_same_tenant_{parent}", child, type_="foreignkey")
    for parent in PARENTS:
        op.drop_constraint(f"uq_{parent}_id_organization_id", parent, type_="unique")
