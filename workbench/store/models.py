"""The stored model of DESIGN.md as SQLAlchemy 2 ORM classes.

These classes describe the schema; the schema itself is created and changed only by the
numbered Alembic revisions in ``migrations/versions`` (a test checks both agree).

ON DELETE is deliberate:
- deleting a project deletes its connections, schema/column mappings and jobs (CASCADE);
- a connection still used by a schema_mapping cannot be deleted on its own (NO ACTION, which
  is RESTRICT checked at the end of the statement, so a project delete that cascades to both
  the mapping and the connection succeeds); the API names the mappings in its error;
- a job keeps its row when its source/target connection goes (SET NULL);
- logs and checkpoints go with their job (CASCADE);
- audit events keep the project id without a foreign key, so the trail outlives the project.

All timestamps are ``timestamptz``; the store's sessions run with ``timezone=UTC``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_MAX = 200
DESCRIPTION_MAX = 1000

MEMBERSHIP_ROLES = ("owner", "editor", "viewer")
PROJECT_STATUSES = ("active", "archived")
CONNECTION_ROLES = ("source", "target")
COLUMN_MAPPING_ORIGINS = ("manual", "fuzzy", "learned")
COLUMN_MAPPING_STATES = ("suggested", "accepted", "rejected")
JOB_KINDS = ("copy", "migrate", "validate")
SCHEDULE_KINDS = ("validate", "copy")
SCHEDULE_RUN_STATUSES = ("started", "succeeded", "failed", "missed")
JOB_STATUSES = (
    "pending", "running", "succeeded", "failed", "cancelled", "incomplete", "interrupted",
)  # fmt: skip
# incomplete: rows copied and validated, some keys/indexes/constraints not built (resumable);
# interrupted: its driver stopped without a word while it ran (resumable)
JOB_TERMINAL_STATUSES = ("succeeded", "failed", "cancelled", "incomplete", "interrupted")
CHECKPOINT_STATUSES = ("pending", "running", "done", "failed")

# Stable constraint names, so later revisions can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def check_in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _name_check(column: str = "name") -> CheckConstraint:
    return CheckConstraint(
        f"char_length({column}) BETWEEN 1 AND {NAME_MAX}", name=f"{column}_length"
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        str: Text,
        int: BigInteger,
    }


def created_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now(), onupdate=func.now())


def id_column() -> Mapped[int]:
    return mapped_column(BigInteger, Identity(always=False), primary_key=True)


# Filled from the transaction's organization (see store/tenancy.py): inserts need not name it,
# and row-level security checks it.
CURRENT_ORGANIZATION = "nullif(current_setting('workbench.organization_id', true), '')::bigint"


def _tenant_key() -> UniqueConstraint:
    """(id, organization_id) on a parent, for its children's same-tenant foreign keys."""
    return UniqueConstraint("id", "organization_id")


def same_tenant(table: str, column: str, parent: str) -> ForeignKeyConstraint:
    """A child row's parent is in the child's organization (revision 0008): a row can never
    point across tenants, even written by raw SQL."""
    return ForeignKeyConstraint(
        [column, "organization_id"],
        [f"{parent}.id", f"{parent}.organization_id"],
        name=f"fk_{table}_same_tenant_{parent}",
    )


def _tenant() -> Mapped[int]:
    return mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"),
        server_default=text(CURRENT_ORGANIZATION),
    )


# --- tenants and people -------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (UniqueConstraint("name"), _name_check())

    id: Mapped[int] = id_column()
    name: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("name"), UniqueConstraint("db_role"), _name_check())

    id: Mapped[int] = id_column()
    name: Mapped[str]
    display_name: Mapped[str | None]
    # scrypt hash of the dashboard password (store/credentials.py); None: no password login
    password_hash: Mapped[str | None]
    password_set_at: Mapped[datetime | None]
    # the PostgreSQL role this user works as (store/tenancy.py): row-level security reads
    # the user's organizations from it
    db_role: Mapped[str | None]
    created_at: Mapped[datetime] = created_at_column()


class ApiToken(Base):
    """A user's token for the HTTP API, acting in one organization; only its hash is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        UniqueConstraint("organization_id", "user_id", "name"),
        _name_check(),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str]
    token_hash: Mapped[str]  # SHA-256 hex of the whole token
    prefix: Mapped[str]  # its first characters, shown to tell tokens apart
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class OrganizationKey(Base):
    """An organization's data key, wrapped with the store's key (store/secrets.py)."""

    __tablename__ = "organization_keys"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped_key: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint(check_in("role", MEMBERSHIP_ROLES), name="role"),)

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


# --- projects and connections ---------------------------------------------------------------


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        _tenant_key(),
        UniqueConstraint("organization_id", "name"),
        _name_check(),
        CheckConstraint(
            f"description IS NULL OR char_length(description) <= {DESCRIPTION_MAX}",
            name="description_length",
        ),
        CheckConstraint(check_in("status", PROJECT_STATUSES), name="status"),
    )

    id: Mapped[int] = id_column()
    # RESTRICT: an organization is never deleted from under its projects by accident
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    name: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default="active")
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class Connection(Base):
    __tablename__ = "connections"
    __table_args__ = (
        same_tenant("connections", "project_id", "projects"),
        UniqueConstraint("project_id", "name"),
        _name_check(),
        CheckConstraint(check_in("role", CONNECTION_ROLES), name="role"),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str]
    kind: Mapped[str]
    role: Mapped[str]
    url: Mapped[str]  # never holds the password: see ``secret``
    secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of the password
    options: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


# --- mappings --------------------------------------------------------------------------------


class SchemaMapping(Base):
    __tablename__ = "schema_mappings"
    __table_args__ = (
        _tenant_key(),
        same_tenant("schema_mappings", "project_id", "projects"),
        CheckConstraint("version >= 1", name="version"),
        # one mapping per source table -> target table pair in a project (versions evolve in place)
        Index(
            "uq_schema_mappings_pair",
            "project_id",
            "source_connection_id",
            text("coalesce(source_schema, '')"),
            "source_table",
            "target_connection_id",
            text("coalesce(target_schema, '')"),
            "target_table",
            unique=True,
        ),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    # NO ACTION (= RESTRICT at statement end): see the module docstring
    source_connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    target_connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    source_schema: Mapped[str | None]
    source_table: Mapped[str]
    target_schema: Mapped[str | None]
    target_table: Mapped[str]
    rules: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class ColumnMapping(Base):
    __tablename__ = "column_mappings"
    __table_args__ = (
        same_tenant("column_mappings", "schema_mapping_id", "schema_mappings"),
        CheckConstraint(check_in("origin", COLUMN_MAPPING_ORIGINS), name="origin"),
        CheckConstraint(check_in("state", COLUMN_MAPPING_STATES), name="state"),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 0 AND confidence <= 1)", name="confidence"
        ),
        # at most one accepted source for each target column
        Index(
            "uq_column_mappings_accepted_target",
            "schema_mapping_id",
            "target_column",
            unique=True,
            postgresql_where=text("state = 'accepted'"),
        ),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    schema_mapping_id: Mapped[int] = mapped_column(
        ForeignKey("schema_mappings.id", ondelete="CASCADE"), index=True
    )
    source_column: Mapped[str | None]  # None: a target column computed by the transform
    target_column: Mapped[str]
    transform: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    confidence: Mapped[float | None] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(server_default="manual")
    state: Mapped[str] = mapped_column(server_default="suggested")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


# --- jobs ------------------------------------------------------------------------------------


class MigrationJob(Base):
    __tablename__ = "migration_jobs"
    __table_args__ = (
        _tenant_key(),
        same_tenant("migration_jobs", "project_id", "projects"),
        CheckConstraint(check_in("kind", JOB_KINDS), name="kind"),
        CheckConstraint(check_in("status", JOB_STATUSES), name="status"),
        Index("ix_migration_jobs_project_created", "project_id", text("created_at DESC")),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="pending")
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    created_by: Mapped[str]
    parameters: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    statistics: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    error: Mapped[str | None]
    fingerprint: Mapped[str | None]
    source_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    target_connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    # asked for by another process (the HTTP API, a second terminal); the driver's heartbeat
    # reads it and stops the job
    cancel_requested_at: Mapped[datetime | None]


class Schedule(Base):
    """A recurring validation or copy of a project, on a cron expression (workbench.scheduler);
    it runs as the user who made it."""

    __tablename__ = "schedules"
    __table_args__ = (
        _tenant_key(),
        UniqueConstraint("project_id", "name"),
        ForeignKeyConstraint(
            ["project_id", "organization_id"],
            ["projects.id", "projects.organization_id"],
            name="fk_schedules_same_tenant_projects",
            ondelete="CASCADE",
        ),
        CheckConstraint(check_in("kind", SCHEDULE_KINDS), name="kind"),
        _name_check(),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    project_id: Mapped[int]
    name: Mapped[str]
    kind: Mapped[str]
    cron: Mapped[str]
    job_id: Mapped[int | None]  # validate: the job whose copy is checked again
    source_connection: Mapped[str | None]  # copy: the project's connections, by name
    target_connection: Mapped[str | None]
    options: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


class ScheduleRun(Base):
    """One fire time of a schedule: claimed (started) by exactly one scheduler, or missed."""

    __tablename__ = "schedule_runs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "fire_time"),
        ForeignKeyConstraint(
            ["schedule_id", "organization_id"],
            ["schedules.id", "schedules.organization_id"],
            name="fk_schedule_runs_same_tenant_schedules",
            ondelete="CASCADE",
        ),
        CheckConstraint(check_in("status", SCHEDULE_RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    schedule_id: Mapped[int]
    fire_time: Mapped[datetime]
    status: Mapped[str]
    job_id: Mapped[int | None] = mapped_column(ForeignKey("migration_jobs.id", ondelete="SET NULL"))
    scheduler: Mapped[str | None]  # host:pid of the scheduler that started it
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None]


class MigrationLog(Base):
    __tablename__ = "migration_logs"
    __table_args__ = (
        same_tenant("migration_logs", "job_id", "migration_jobs"),
        Index("ix_migration_logs_job_at", "job_id", "at"),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = _tenant()
    job_id: Mapped[int] = mapped_column(ForeignKey("migration_jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    level: Mapped[str]
    message: Mapped[str]
    context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class PartitionCheckpoint(Base):
    __tablename__ = "partition_checkpoints"
    __table_args__ = (
        same_tenant("partition_checkpoints", "job_id", "migration_jobs"),
        CheckConstraint(check_in("status", CHECKPOINT_STATUSES), name="status"),
    )

    organization_id: Mapped[int] = _tenant()
    job_id: Mapped[int] = mapped_column(
        ForeignKey("migration_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    table_name: Mapped[str] = mapped_column(primary_key=True)
    partition_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    lower: Mapped[Any | None] = mapped_column(JSONB)
    upper: Mapped[Any | None] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(server_default="pending")
    rows_read: Mapped[int] = mapped_column(server_default="0")
    rows_written: Mapped[int] = mapped_column(server_default="0")
    rows_quarantined: Mapped[int] = mapped_column(server_default="0")
    bytes: Mapped[int] = mapped_column(server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    checksum: Mapped[str | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None]


# --- audit -----------------------------------------------------------------------------------


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_project_at", "project_id", "at"),
        Index("ix_audit_events_at", "at"),
    )

    id: Mapped[int] = id_column()
    at: Mapped[datetime] = mapped_column(server_default=func.now())
    actor: Mapped[str]
    action: Mapped[str]  # "<object type>.<verb>", e.g. "connection.add"
    object_type: Mapped[str]
    object_id: Mapped[int | None]
    object_name: Mapped[str | None]
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    project_id: Mapped[int | None]  # no foreign key: the trail outlives the project
    details: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
