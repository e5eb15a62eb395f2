"""Recurring jobs: a project's schedules (cron) and each run a scheduler started or missed.

- ``schedules``: a validation of a job's copy, or a copy between two stored connections, on a
  cron expression; it runs as the user who made it.
- ``schedule_runs``: one row per fire time, made by the scheduler that claims it (the unique
  (schedule, fire time) pair is what keeps two schedulers from starting the same run), or
  recorded as missed when no scheduler ran it in time.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CURRENT_ORGANIZATION = "nullif(current_setting('workbench.organization_id', true), '')::bigint"


def _tenant() -> sa.Column:
    return sa.Column(
        "organization_id",
        sa.BigInteger(),
        sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        server_default=sa.text(CURRENT_ORGANIZATION),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        _tenant(),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("cron", sa.Text(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("source_connection", sa.Text(), nullable=True),
        sa.Column("target_connection", sa.Text(), nullable=True),
        sa.Column(
            "options",
            sa.dialects.postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("id", "organization_id", name=op.f("uq_schedules_id_organization_id")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_schedules_project_id_name")),
        sa.ForeignKeyConstraint(
            ["project_id", "organization_id"],
            ["projects.id", "projects.organization_id"],
            name="fk_schedules_same_tenant_projects",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("kind IN ('validate', 'copy')", name=op.f("ck_schedules_kind")),
        sa.CheckConstraint(
            "char_length(name) BETWEEN 1 AND 200", name=op.f("ck_schedules_name_length")
        ),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        _tenant(),
        sa.Column("schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("fire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "job_id",
            sa.BigInteger(),
            sa.ForeignKey("migration_jobs.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("scheduler", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "schedule_id", "fire_time", name=op.f("uq_schedule_runs_schedule_id_fire_time")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id", "organization_id"],
            ["schedules.id", "schedules.organization_id"],
            name="fk_schedule_runs_same_tenant_schedules",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "status IN ('started', 'succeeded', 'failed', 'missed')",
            name=op.f("ck_schedule_runs_status"),
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_runs")
    op.drop_table("schedules")
