"""Matching feedback per organization: what users said about suggested column pairs.

One row per labelled pair (``workbench.matching.feedback.FeedbackRecord``: the pair, a 0/1
label and the pair's signal features at decision time), with who decided and when. The
matching part retrains its organization model from these rows; the store only keeps them.
Rows belong to the organization, not the project: what one project teaches, the next uses,
so they outlive the project (no foreign key to it, like audit events).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from workbench.store.access import require
from workbench.store.models import Base, check_in, created_at_column, id_column

if TYPE_CHECKING:
    from workbench.store.handle import Store

FEEDBACK_ACTIONS = ("accept", "reject", "correct")


class MatchingFeedback(Base):
    __tablename__ = "matching_feedback"
    __table_args__ = (
        CheckConstraint(check_in("action", FEEDBACK_ACTIONS), name="action"),
        CheckConstraint("label IN (0, 1)", name="label"),
        Index("ix_matching_feedback_organization_id_id", "organization_id", "id"),
    )

    id: Mapped[int] = id_column()
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    project_id: Mapped[int | None]  # no foreign key: the lesson outlives the project
    action: Mapped[str]
    source_table: Mapped[str | None]
    source_column: Mapped[str]
    target_table: Mapped[str | None]
    target_column: Mapped[str]
    label: Mapped[int] = mapped_column(SmallInteger)
    features: Mapped[dict[str, Any]]
    created_by: Mapped[str]
    created_at: Mapped[datetime] = created_at_column()


def add_feedback(
    session: Session,
    store: Store,
    records: Iterable[Mapping[str, Any]],
    *,
    project_id: int | None = None,
) -> int:
    """Add feedback rows (dicts with the FeedbackRecord fields) in the caller's transaction."""
    require(store, "edit")
    rows = [
        MatchingFeedback(
            organization_id=store.identity.organization_id,
            project_id=project_id,
            action=r["action"],
            source_table=r.get("source_table"),
            source_column=r["source_column"],
            target_table=r.get("target_table"),
            target_column=r["target_column"],
            label=int(r["label"]),
            # an accepted pair's rivals (see matching.feedback) travel in the same JSON
            features={
                **r["features"],
                **({"_rivals": [list(v) for v in r["rivals"]]} if r.get("rivals") else {}),
            },
            created_by=store.user,
        )
        for r in records
    ]
    session.add_all(rows)
    session.flush()
    return len(rows)


def feedback_state(store: Store, organization_id: int | None = None) -> tuple[int, int]:
    """(row count, newest id) of an organization's feedback: a cheap cache key."""
    require(store, "read")
    org = store.identity.organization_id if organization_id is None else organization_id
    with store.session() as session:
        count, newest = session.execute(
            select(func.count(), func.coalesce(func.max(MatchingFeedback.id), 0)).where(
                MatchingFeedback.organization_id == org
            )
        ).one()
    return int(count), int(newest)


def list_feedback(store: Store, organization_id: int | None = None) -> list[dict[str, Any]]:
    """An organization's feedback rows, oldest first, as plain dicts."""
    require(store, "read")
    org = store.identity.organization_id if organization_id is None else organization_id
    with store.session() as session:
        rows = session.scalars(
            select(MatchingFeedback)
            .where(MatchingFeedback.organization_id == org)
            .order_by(MatchingFeedback.id)
        ).all()
        return [
            {
                "id": r.id,
                "project_id": r.project_id,
                "action": r.action,
                "source_table": r.source_table,
                "source_column": r.source_column,
                "target_table": r.target_table,
                "target_column": r.target_column,
                "label": r.label,
                "features": {k: v for k, v in r.features.items() if k != "_rivals"},
                "rivals": [tuple(v) for v in r.features.get("_rivals", [])],
                "created_by": r.created_by,
                "created_at": r.created_at,
            }
            for r in rows
        ]
