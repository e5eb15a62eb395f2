"""Masks proposed from profiling's PII flags, and applying one to a column's mapping.

:func:`suggest_masks` reads the stored table profiles of the project's source connection
(``workbench profile tables``) and proposes, per PII-flagged column, a mask rule in the
engine's format (``{"kind": ..., ...}``, see :mod:`workbench.transforms.masking`) with a
one-line reason. Columns their accepted mapping masks already are reported as ``masked``,
columns the project's policy exempts as ``exempt``; neither is proposed again.

:func:`set_column_mask` sets the ``mask`` key of the column's accepted mapping transform (other
transform keys stay) through :func:`workbench.matching.decisions.set_transform`.

    from workbench.governance.masking_suggestions import set_column_mask, suggest_masks
    for s in suggest_masks(store, "crm"):
        if s.status == "suggested" and s.target_column:
            set_column_mask(store, "crm", s.table, s.column, s.mask)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlalchemy import func, select

from workbench.errors import InvalidInputError, NotFoundError
from workbench.governance.policy import MaskingPolicy, get_policy
from workbench.matching import decisions
from workbench.matching.mappings import (
    ColumnMappingRecord,
    SchemaMappingRecord,
    list_mappings,
)
from workbench.profiling.model import ColumnProfile, TableProfile
from workbench.store import connections
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.profiles import TableProfileRecord
from workbench.store.projects import ProjectRef, get_project
from workbench.transforms.masking import FAKE_PROVIDERS, MASKS
from workbench.transforms.masking import apply_mask as run_mask

if TYPE_CHECKING:
    from workbench.store import Store

MASK_KINDS = ("none", *MASKS)  # "none": no mask (removes one)

_FIRST = re.compile(r"(^|_)(first|given|fore)_?name$|^firstname$", re.I)
_LAST = re.compile(r"(^|_)(last|family|sur|maiden)_?name$|^lastname$|^surname$", re.I)


@dataclass(frozen=True)
class MaskSuggestion:
    """One PII-flagged source column and the mask proposed (or already set) for it."""

    table: str  # the source table as mappings name it: "schema.table" or "table"
    column: str
    pii: tuple[str, ...]  # profiling's PII categories
    semantic: str | None  # profiling's semantic type
    share: float  # share of sampled non-null values of that semantic type
    mask: dict[str, Any] | None  # proposed; the current mask when status is "masked"
    reason: str  # one line: the PII category, the semantic share, why this mask
    status: str  # "suggested", "masked" (its mapping masks it) or "exempt" (policy)
    mapping_id: int | None = None  # the schema_mapping of the table, if any
    target_column: str | None = None  # the accepted mapping's target; None: not mapped yet

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["pii"] = list(self.pii)
        data["name"] = self.name
        return data


# --- proposing a mask for one profiled column (pure) -----------------------------------------


def _share(col: ColumnProfile) -> str:
    """The evidence: the semantic type's share, or the column name when that flagged it."""
    if col.semantic:
        return f"{col.semantic} in {col.semantic_share:.0%} of sampled values"
    return f"flagged by its name ({col.name})"


def _name_provider(column: str) -> str:
    if _FIRST.search(column):
        return "first_name"
    if _LAST.search(column):
        return "last_name"
    return "name"


def propose(col: ColumnProfile) -> tuple[dict[str, Any], str] | None:
    """The mask for a profiled column and a one-line reason; None when it has no PII flag."""
    if not col.pii:
        return None
    pii = ", ".join(col.pii)
    semantic = col.semantic
    if "government_id" in col.pii:
        return (
            {"kind": "redact"},
            f"the name {col.name!r} means a government id (PII {pii}): redact it whole",
        )
    if "credential" in col.pii:
        return {"kind": "null"}, f"the name {col.name!r} means a credential (PII {pii}): drop it"
    if semantic == "email":
        if col.is_key:  # a unique key must stay unique: fakes may collide, hashes do not
            return {"kind": "hash"}, f"{_share(col)} (PII {pii}), a key: hash keeps it unique"
        return (
            {"kind": "fake", "provider": "email"},
            f"{_share(col)} (PII {pii}): a fake email keeps the format",
        )
    if semantic in ("phone", "credit_card", "iban"):
        return (
            {"kind": "partial", "keep_last": 4},
            f"{_share(col)} (PII {pii}): keep the last 4 characters for support look-ups",
        )
    if semantic == "person_name":
        provider = _name_provider(col.name)
        return (
            {"kind": "fake", "provider": provider},
            f"{_share(col)} (PII {pii}): a fake {provider.replace('_', ' ')}",
        )
    if semantic == "ip_address":
        return {"kind": "hash"}, f"{_share(col)} (PII {pii}): hash keeps per-address joins"
    if semantic == "address":
        return (
            {"kind": "fake", "provider": "street"},
            f"{_share(col)} (PII {pii}): a fake street address",
        )
    if semantic == "postal_code":
        return (
            {"kind": "fake", "provider": "postcode"},
            f"{_share(col)} (PII {pii}): a fake postcode",
        )
    if "identity" in col.pii:  # e.g. a birth date, flagged by its name
        return {"kind": "null"}, f"{_share(col)} (PII {pii}): drop the value"
    return {"kind": "hash"}, f"{_share(col)} (PII {pii}): hash it"


# --- suggestions for a project ---------------------------------------------------------------


def suggest_masks(
    store: Store,
    project: ProjectRef,
    *,
    connection: str | int | None = None,
    tables: Sequence[str] | None = None,
) -> list[MaskSuggestion]:
    """Masks for every PII-flagged column of the stored profiles of the project's source.

    ``connection`` picks the source connection (default: the one the project's mappings read,
    else its only source connection); ``tables`` limits to these tables (names or
    schema.table). Profile the source first (``workbench profile tables PROJECT SOURCE``).
    """
    require(store, "read")
    mappings = list_mappings(store, project)
    source = _source_connection(store, project, mappings, connection)
    policy = get_policy(store, project)
    out: list[MaskSuggestion] = []
    for profile in stored_profiles(store, source):
        name = profile.qualified_name
        if tables and not {name, profile.table} & set(tables):
            continue
        mapping = _find_mapping(mappings, profile.schema, profile.table)
        for col in profile.columns:
            proposed = propose(col)
            if proposed is not None:
                out.append(_suggestion(profile, col, proposed, mapping, policy))
    return out


def policy_violations(store: Store, project: ProjectRef) -> list[MaskSuggestion]:
    """PII columns copied unmasked and not exempt, when the policy requires masking."""
    if not get_policy(store, project).require_masking:
        return []
    return [s for s in suggest_masks(store, project) if s.status == "suggested"]


def _suggestion(
    profile: TableProfile,
    col: ColumnProfile,
    proposed: tuple[dict[str, Any], str],
    mapping: SchemaMappingRecord | None,
    policy: MaskingPolicy,
) -> MaskSuggestion:
    mask, reason = proposed
    mapped = _accepted_column(mapping, col.name) if mapping else None
    current = (mapped.transform or {}).get("mask") if mapped else None
    exempt = policy.exemption(profile.table, col.name, profile.schema)
    if current:
        status, mask, reason = "masked", current, f"masked by its mapping ({current['kind']})"
    elif exempt is not None:
        status, reason = "exempt", f"exempt by policy: {exempt}"
    else:
        status = "suggested"
    return MaskSuggestion(
        table=profile.qualified_name,
        column=col.name,
        pii=tuple(col.pii),
        semantic=col.semantic,
        share=col.semantic_share,
        mask=mask,
        reason=reason,
        status=status,
        mapping_id=mapping.id if mapping else None,
        target_column=mapped.target_column if mapped else None,
    )


def stored_profiles(store: Store, source: connections.ConnectionRecord) -> list[TableProfile]:
    """The newest stored profile of each table of a connection, by table name."""
    key = connections.masked_url(source)
    newest = (
        select(func.max(TableProfileRecord.id))
        .where(
            TableProfileRecord.organization_id == store.identity.organization_id,
            TableProfileRecord.source == key,
        )
        .group_by(func.coalesce(TableProfileRecord.schema_name, ""), TableProfileRecord.table_name)
    )
    with store.session() as session:
        rows = session.scalars(
            select(TableProfileRecord.profile)
            .where(TableProfileRecord.id.in_(newest))
            .order_by(TableProfileRecord.schema_name, TableProfileRecord.table_name)
        ).all()
    return [TableProfile.from_dict(p) for p in rows]


def _source_connection(
    store: Store,
    project: ProjectRef,
    mappings: list[SchemaMappingRecord],
    connection: str | int | None,
) -> connections.ConnectionRecord:
    if connection is not None:
        return connections.get_connection(store, project, connection)
    used = sorted({m.source_connection for m in mappings})
    if len(used) == 1:
        return connections.get_connection(store, project, used[0])
    sources = [c for c in connections.list_connections(store, project) if c.role == "source"]
    if len(sources) == 1:
        return sources[0]
    name = get_project(store, project).name
    raise InvalidInputError(
        f"Project {name!r} has {len(sources)} source connections"
        f" ({', '.join(c.name for c in sources) or 'none'}); name one with --connection"
        if sources or used
        else f"Project {name!r} has no source connection; add one with "
        f"`workbench connection add {name} NAME URL --role source`",
        project=name,
    )


def _find_mapping(
    mappings: list[SchemaMappingRecord], schema: str | None, table: str
) -> SchemaMappingRecord | None:
    same = [m for m in mappings if m.source_table == table]
    exact = [m for m in same if (m.source_schema or "") == (schema or "")]
    found = exact or same
    return found[0] if len(found) == 1 else None


def _accepted_column(mapping: SchemaMappingRecord, column: str) -> ColumnMappingRecord | None:
    return next(
        (c for c in mapping.columns if c.source_column == column and c.state == "accepted"), None
    )


# --- applying a mask ---------------------------------------------------------------------------


def mask_spec(
    kind: str, *, like: dict[str, Any] | None = None, **options: Any
) -> dict[str, Any] | None:
    """The mask rule for ``kind`` with sensible options; ``like`` lends its options when of
    the same kind (a suggested fake's provider). ``none`` gives None (no mask)."""
    if kind not in MASK_KINDS:
        raise InvalidInputError(f"Unknown mask kind {kind!r}; choose one of {list(MASK_KINDS)}")
    if kind == "none":
        return None
    by_kind: dict[str, dict[str, Any]] = {
        "partial": {"keep_last": 4},
        "fake": {"provider": "name"},
    }
    defaults = by_kind.get(kind, {})
    if like and like.get("kind") == kind:
        defaults = {**defaults, **{k: v for k, v in like.items() if k != "kind"}}
    given = {k: v for k, v in options.items() if v is not None}
    return check_mask({"kind": kind, **defaults, **given})


def check_mask(mask: dict[str, Any] | None) -> dict[str, Any] | None:
    """``mask`` if the engine accepts it (tried on two values), else InvalidInputError."""
    if mask is None:
        return None
    if not isinstance(mask, dict) or "kind" not in mask:
        raise InvalidInputError(f'A mask is {{"kind": ..., options}}, got {mask!r}')
    if mask["kind"] == "fake" and mask.get("provider", "name") not in FAKE_PROVIDERS:
        raise InvalidInputError(
            f"Unknown fake provider {mask.get('provider')!r}; known: {sorted(FAKE_PROVIDERS)}"
        )
    try:
        run_mask(pa.array(["example", None]), mask, salt="check")
    except TypeError as exc:  # an option the mask kind does not take
        raise InvalidInputError(f"Mask {mask!r} is not valid: {exc}") from None
    return mask


def find_mapped_column(
    store: Store, project: ProjectRef, table: str, column: str
) -> tuple[SchemaMappingRecord, ColumnMappingRecord | None]:
    """The schema_mapping of source ``table`` ("schema.table" or "table") and the accepted
    column_mapping of ``column`` in it (None when the column is not mapped)."""
    schema, _, name = table.rpartition(".")
    mappings = list_mappings(store, project)
    mapping = _find_mapping(mappings, schema or None, name)
    if mapping is None:
        tables = sorted({m.source_table for m in mappings})
        raise NotFoundError(
            f"No single mapping of source table {table!r}; mapped tables: {tables or 'none'}."
            " Create mappings with `workbench match`",
            table=table,
        )
    return mapping, _accepted_column(mapping, column)


def set_column_mask(
    store: Store, project: ProjectRef, table: str, column: str, mask: dict[str, Any] | None
) -> SchemaMappingRecord:
    """Set (``mask``) or remove (None) the mask of ``table.column``'s accepted mapping.

    Other transform keys stay. The mapping's version goes up (``mapping.transform``) and the
    change is audited as ``masking_policy.mask``.
    """
    require(store, "edit", "mask a column")
    check_mask(mask)
    mapping, mapped = find_mapped_column(store, project, table, column)
    if mapped is None:
        raise NotFoundError(
            f"Column {column!r} of {table!r} has no accepted mapping, so there is no transform "
            f"to mask; accept it first (`workbench mapping accept ... {column}`)",
            column=column,
        )
    before = dict(mapped.transform or {})
    transform = {k: v for k, v in before.items() if k != "mask"}
    if mask is not None:
        transform["mask"] = mask
    record = decisions.set_transform(
        store, project, mapping.id, mapped.target_column, transform or None
    )
    # the mapping's own event is in set_transform's transaction; this one names the masking
    with store.session() as session:
        record_event(
            session,
            store,
            "masking_policy.mask",
            object_type="column_mapping",
            object_id=mapped.id,
            object_name=f"{table}.{column}",
            project_id=mapping.project_id,
            target=mapped.target_column,
            before=before.get("mask"),
            after=mask,
            mapping_version=record.version,
        )
    return record
