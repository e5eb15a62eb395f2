"""A project's masking policy: whether masking is required, and which columns are exempt.

One row per project in ``masking_policies`` (revision ``0005``); a project with no row does
not require masking and exempts nothing. With ``require_masking``, every column that
profiling flags as PII must be masked by its mapping or be exempted here with a reason
(:func:`workbench.governance.masking_suggestions.policy_violations` lists the others).

Reads need the ``read`` permission, changes ``manage`` (owners). Every change is an audit
event in the same transaction, with the policy before and after.

    from workbench.governance import policy
    policy.set_policy(store, "crm", require_masking=True)
    policy.exempt_column(store, "crm", "persons.country", "not personal: a country code")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from workbench.errors import InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.governance_models import MaskingPolicyRow
from workbench.store.models import Project
from workbench.store.projects import ProjectRef, project_row, require_active

if TYPE_CHECKING:
    from workbench.store import Store

REASON_MAX = 500


@dataclass(frozen=True)
class MaskingPolicy:
    project_id: int
    require_masking: bool
    exemptions: dict[str, str] = field(default_factory=dict)
    updated_by: str | None = None  # None: no stored row, the defaults
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data

    def exemption(self, table: str, column: str, schema: str | None = None) -> str | None:
        """The reason ``column`` of ``table`` may be copied unmasked, or None.

        An exemption names ``schema.table.column`` or ``table.column``; both forms match.
        """
        keys = [f"{table}.{column}"]
        if schema:
            keys.insert(0, f"{schema}.{table}.{column}")
        return next((self.exemptions[k] for k in keys if k in self.exemptions), None)


def get_policy(store: Store, project: ProjectRef) -> MaskingPolicy:
    """The project's masking policy (the defaults when none is stored)."""
    require(store, "read")
    with store.session() as session:
        row = project_row(session, store, project)
        return _policy(session, row)


def set_policy(store: Store, project: ProjectRef, *, require_masking: bool) -> MaskingPolicy:
    """Require (or stop requiring) masking of every PII column of the project."""
    require(store, "manage", "change a project's masking policy")
    if not isinstance(require_masking, bool):
        raise InvalidInputError(f"require_masking must be true or false, got {require_masking!r}")
    return _change(store, project, "masking_policy.set", require_masking=require_masking)


def exempt_column(store: Store, project: ProjectRef, column: str, reason: str) -> MaskingPolicy:
    """Allow ``column`` ("schema.table.column" or "table.column") to be copied unmasked."""
    require(store, "manage", "exempt a column from masking")
    column = _column_name(column)
    reason = (reason or "").strip() if isinstance(reason, str | None) else reason
    if not isinstance(reason, str) or not reason:
        raise InvalidInputError(
            f"An exemption of {column!r} needs a reason (why it may be copied unmasked), "
            "e.g. --reason 'public business address'"
        )
    if len(reason) > REASON_MAX:
        raise InvalidInputError(f"The reason is {len(reason)} characters; keep it to {REASON_MAX}")
    return _change(store, project, "masking_policy.exempt", column=column, reason=reason)


def unexempt_column(store: Store, project: ProjectRef, column: str) -> MaskingPolicy:
    """Withdraw the exemption of ``column``; it must be masked again where policy requires."""
    require(store, "manage", "withdraw a masking exemption")
    return _change(store, project, "masking_policy.unexempt", column=_column_name(column))


# --- helpers -----------------------------------------------------------------------------------


def _column_name(column: str) -> str:
    parts = column.strip().split(".") if isinstance(column, str) else []
    if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
        raise InvalidInputError(
            f"Name the column as table.column or schema.table.column, got {column!r}"
        )
    return ".".join(p.strip() for p in parts)


def _policy(session: Session, project: Project) -> MaskingPolicy:
    row = session.get(MaskingPolicyRow, project.id)
    if row is None:
        return MaskingPolicy(project.id, False, {})
    return MaskingPolicy(
        project_id=project.id,
        require_masking=row.require_masking,
        exemptions=dict(row.exemptions or {}),
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def _change(store: Store, project: ProjectRef, action: str, **change: Any) -> MaskingPolicy:
    """Apply one change to the stored policy and record it, in one transaction."""
    with store.session() as session:
        project_obj = project_row(session, store, project)
        require_active(project_obj)
        # lock the row (when there is one) so concurrent exemptions do not overwrite each other
        session.get(MaskingPolicyRow, project_obj.id, with_for_update=True)
        before = _policy(session, project_obj)
        require_masking = change.get("require_masking", before.require_masking)
        exemptions = dict(before.exemptions)
        if action == "masking_policy.exempt":
            exemptions[change["column"]] = change["reason"]
        elif action == "masking_policy.unexempt":
            if change["column"] not in exemptions:
                raise NotFoundError(
                    f"Column {change['column']!r} is not exempt in project {project_obj.name!r}"
                    f"; exempt columns: {sorted(exemptions) or 'none'}",
                    column=change["column"],
                )
            del exemptions[change["column"]]
        values = {
            "require_masking": require_masking,
            "exemptions": exemptions,
            "updated_by": store.user,
        }
        session.execute(
            insert(MaskingPolicyRow)
            .values(
                organization_id=project_obj.organization_id, project_id=project_obj.id, **values
            )
            .on_conflict_do_update(
                index_elements=["project_id"], set_={**values, "updated_at": func.now()}
            )
        )
        session.expire_all()
        after = _policy(session, project_obj)
        record_event(
            session,
            store,
            action,
            object_type="masking_policy",
            object_id=project_obj.id,
            object_name=project_obj.name,
            project_id=project_obj.id,
            **change,
            before=_summary(before),
            after=_summary(after),
        )
        return after


def _summary(policy: MaskingPolicy) -> dict[str, Any]:
    return {"require_masking": policy.require_masking, "exemptions": policy.exemptions}
