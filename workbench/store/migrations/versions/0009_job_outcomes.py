"""Two more ends of a job: incomplete (rows copied and validated, but keys, indexes or
constraints could not be built) and interrupted (its driver is gone while it was running).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD = ("pending", "running", "succeeded", "failed", "cancelled")
NEW = (*OLD, "incomplete", "interrupted")


def _check(values: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_migration_jobs_status"), "migration_jobs", type_="check")
    op.create_check_constraint(
        op.f("ck_migration_jobs_status"),
        "migration_jobs",
        "status IN (" + ", ".join(f"'{v}'" for v in values) + ")",
    )


def upgrade() -> None:
    _check(NEW)


def downgrade() -> None:
    op.execute(
        "UPDATE migration_jobs SET status = 'failed' WHERE status IN ('incomplete', 'interrupted')"
    )
    _check(OLD)
