"""Stored table profiles: the profiling part's results with the table's fingerprint.

One row per profiling run of a table (``workbench.profiling.TableProfile.as_dict()``),
keyed by the organization, the source database (its URL without secrets) and the table.
The profiling part reuses the newest row while the table's fingerprint is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from workbench.store.access import require
from workbench.store.models import Base, created_at_column, id_column

if TYPE_CHECKING:
    from workbench.store.handle import Store


class TableProfileRecord(Base):
    __tablename__ = "table_profiles"
    __table_args__ = (
        Index(
            "ix_table_profiles_lookup",
            "organization_id",
            "source",
            text("coalesce(schema_name, '')"),
            "table_name",
            "id",
        ),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    source: Mapped[str]  # the database's URL, password masked
    schema_name: Mapped[str | None]
    table_name: Mapped[str]
    fingerprint: Mapped[str]
    options: Mapped[dict[str, Any]]
    profile: Mapped[dict[str, Any]]
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


@dataclass(frozen=True)
class StoredProfile:
    id: int
    fingerprint: str
    options: dict[str, Any]
    profile: dict[str, Any]
    created_at: datetime


def save_profile(
    store: Store,
    source: str,
    schema: str | None,
    table: str,
    fingerprint: str,
    options: dict[str, Any],
    profile: dict[str, Any],
) -> int:
    require(store, "edit")
    row = TableProfileRecord(
        organization_id=store.identity.organization_id,
        source=source,
        schema_name=schema,
        table_name=table,
        fingerprint=fingerprint,
        options=options,
        profile=profile,
        created_by=store.user,
    )
    with store.session() as session:
        session.add(row)
        session.flush()
        return row.id


def latest_profile(
    store: Store, source: str, schema: str | None, table: str
) -> StoredProfile | None:
    """The newest stored profile of a table, or None."""
    require(store, "read")
    with store.session() as session:
        row = session.scalars(
            select(TableProfileRecord)
            .where(
                TableProfileRecord.organization_id == store.identity.organization_id,
                TableProfileRecord.source == source,
                func.coalesce(TableProfileRecord.schema_name, "") == (schema or ""),
                TableProfileRecord.table_name == table,
            )
            .order_by(TableProfileRecord.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return StoredProfile(row.id, row.fingerprint, row.options, row.profile, row.created_at)


def count_profiles(store: Store, source: str, table: str) -> int:
    require(store, "read")
    with store.session() as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    TableProfileRecord.source == source, TableProfileRecord.table_name == table
                )
            )
            or 0
        )
