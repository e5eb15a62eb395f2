"""Governance's tables (flags, lineage, masking policies), on the store's ``Base`` (revision
``0004`` creates them): the store holds every stored record; governance holds the rules.

- ``feature_flags``: one row per organization and flag; a flag with no row has its default.
- ``column_lineage``: one row per target column of a job; rows go with their job (CASCADE).
- ``masking_policies`` (revision ``0005``): one row per project; a project with no row does
  not require masking and has no exemptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from workbench.store.models import (
    Base,
    created_at_column,
    id_column,
    same_tenant,
    updated_at_column,
)


class FeatureFlag(Base):
    __tablename__ = "feature_flags"
    __table_args__ = (CheckConstraint("rollout BETWEEN 0 AND 100", name="rollout"),)

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(primary_key=True)
    enabled: Mapped[bool]
    users: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    rollout: Mapped[int] = mapped_column(SmallInteger, server_default="100")
    updated_by: Mapped[str]
    updated_at: Mapped[datetime] = updated_at_column()


class ColumnLineage(Base):
    __tablename__ = "column_lineage"
    __table_args__ = (
        Index("ix_column_lineage_project_target", "project_id", "target_schema", "target_table"),
        Index("ix_column_lineage_job_id", "job_id"),
        same_tenant("column_lineage", "job_id", "migration_jobs"),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("migration_jobs.id", ondelete="CASCADE"))
    source_schema: Mapped[str | None]
    source_table: Mapped[str]
    source_column: Mapped[str | None]  # None for a computed column
    expression: Mapped[str | None]  # SQL in the source dialect, when the column is computed so
    transform: Mapped[dict[str, Any] | None]  # the transform rule; None when copied as read
    mapping_version: Mapped[int | None] = mapped_column(Integer)
    target_schema: Mapped[str]
    target_table: Mapped[str]
    target_column: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


class MaskingPolicyRow(Base):
    __tablename__ = "masking_policies"
    __table_args__ = (same_tenant("masking_policies", "project_id", "projects"),)

    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    require_masking: Mapped[bool] = mapped_column(server_default=text("false"))
    # source column ("schema.table.column" or "table.column") -> why it may be copied unmasked
    exemptions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    updated_by: Mapped[str]
    updated_at: Mapped[datetime] = updated_at_column()
