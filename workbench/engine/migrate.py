"""``workbench migrate PROJECT``: run a project's saved schema and column mappings.

A project's schema_mappings name source tables and the target tables they go to; their
accepted column_mappings name the target column for each source column and its transform
rule. This turns them into the same job :func:`~workbench.engine.run.copy_database` runs,
with ``mapping`` in its options: target tables that exist already are loaded as they are
(append), missing ones are created from the type map with the mapped names.

The type map is the one ``workbench schema ddl PROJECT SOURCE`` previews: the source
connection's stored ``types`` option (``workbench connection add ... --option
types='{"type_overrides": {"varchar(n)": "text"}}'``) goes into the job's
``CopyOptions.type_options`` (:func:`with_connection_options`), for ``workbench migrate`` and
for ``workbench copy`` given stored connection names alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from workbench.engine.progress import ProgressSink
from workbench.engine.run import CopyOptions, JobResult, copy_database
from workbench.errors import InvalidInputError, NotFoundError, PolicyViolationError
from workbench.store import Store, connections, open_store
from workbench.store.connections import ConnectionRecord
from workbench.store.models import ColumnMapping, SchemaMapping
from workbench.store.projects import get_project

if TYPE_CHECKING:
    from distributed import Client

# type options whose values are maps: a job's own entries are added to the connection's
MERGED_TYPE_OPTIONS = ("type_overrides", "column_overrides")


def with_connection_options(options: CopyOptions, source: ConnectionRecord) -> CopyOptions:
    """``options`` with the source connection's type options
    (:func:`workbench.store.connections.type_options`) under them: the job's own
    ``type_options`` win key by key, its type and column overrides add to the connection's.
    The connection's other options are the connector's (e.g. ``sample_threshold``): every
    connection the job opens to the source gets them."""
    connector = {k: v for k, v in (source.options or {}).items() if k != "types"}
    options = replace(options, source_options={**connector, **options.source_options})
    stored = connections.type_options(source)
    if not stored:
        return options
    merged = {**stored, **options.type_options}
    for key in MERGED_TYPE_OPTIONS:
        if key in stored and key in options.type_options:
            merged[key] = {**stored[key], **options.type_options[key]}
    return replace(options, type_options=merged)


def load_mappings(
    store: Store, project: str | int
) -> tuple[int, int, dict[str, dict[str, Any]], dict[str, dict[str, dict[str, Any]]]]:
    """(source connection id, target connection id, mapping, transforms) of a project.

    ``mapping`` is ``{source table: {target_schema, target_table, columns: {source: target},
    computed: [target, ...], version}}``; ``transforms`` is ``{source table: {target: rule}}``.
    """
    record = get_project(store, project)
    with store.session() as session:
        schema_mappings = session.scalars(
            select(SchemaMapping)
            .where(SchemaMapping.project_id == record.id)
            .order_by(SchemaMapping.id)
        ).all()
        if not schema_mappings:
            raise NotFoundError(
                f"Project {record.name!r} has no schema mappings yet; create them with "
                "`workbench match` and accept the suggestions, or use `workbench copy`.",
                project=record.name,
            )
        pairs = {(m.source_connection_id, m.target_connection_id) for m in schema_mappings}
        if len(pairs) > 1:
            raise InvalidInputError(
                f"Project {record.name!r} maps between {len(pairs)} pairs of connections; "
                "one migration runs one source and one target.",
                project=record.name,
            )
        mapping: dict[str, dict[str, Any]] = {}
        transforms: dict[str, dict[str, dict[str, Any]]] = {}
        for m in schema_mappings:
            accepted = session.scalars(
                select(ColumnMapping)
                .where(ColumnMapping.schema_mapping_id == m.id, ColumnMapping.state == "accepted")
                .order_by(ColumnMapping.id)
            ).all()
            if not accepted:
                continue
            name = f"{m.source_schema}.{m.source_table}" if m.source_schema else m.source_table
            mapping[name] = {
                "target_schema": m.target_schema,
                "target_table": m.target_table,
                "columns": {c.source_column: c.target_column for c in accepted if c.source_column},
                "computed": [c.target_column for c in accepted if not c.source_column],
                "version": m.version,
            }
            rules = {c.target_column: c.transform for c in accepted if c.transform}
            if rules:
                transforms[name] = rules
        if not mapping:
            raise InvalidInputError(
                f"Project {record.name!r} has schema mappings but no accepted column mappings; "
                "accept suggestions first (`workbench mapping accept ...`).",
                project=record.name,
            )
        source_id, target_id = pairs.pop()
    return source_id, target_id, mapping, transforms


def run_migration(
    project: str | int,
    *,
    store: Store | None = None,
    options: CopyOptions | None = None,
    progress: ProgressSink | None = None,
    cancel: threading.Event | None = None,
    on_job: Callable[[int], None] | None = None,
    allow_unmasked_pii: bool = False,
    client: Client | None = None,
) -> JobResult:
    """Run the project's accepted mappings from its source to its target connection.

    When the project's policy requires masking, a run that would copy a profiled PII column
    unmasked and not exempt is refused before anything is copied (``allow_unmasked_pii``
    runs it anyway; the compliance report then lists the violation).
    """
    own = store is None
    store = store or open_store()
    try:
        source_id, target_id, mapping, transforms = load_mappings(store, project)
        if not allow_unmasked_pii:
            check_masking_policy(store, project, mapping)
        source = connections.get_connection(store, project, source_id)
        target = connections.get_connection(store, project, target_id)
        base = with_connection_options(options or CopyOptions(if_exists="append"), source)
        options = replace(
            base,
            mapping=mapping,
            transforms={**base.transforms, **transforms},
            tables=tuple(mapping),
        )
        return copy_database(
            connections.connection_url(store, source),
            connections.connection_url(store, target),
            options,
            store=store,
            project=get_project(store, project).name,
            progress=progress,
            cancel=cancel,
            on_job=on_job,
            kind="migrate",
            connection_ids=(source_id, target_id),
            client=client,
        )
    finally:
        if own:
            store.close()


def check_masking_policy(store: Store, project: str | int, mapping: dict[str, Any]) -> None:
    """Refuse a run that copies PII unmasked against the project's policy (see run_migration).

    A violation is already a mapped column whose accepted mapping has no mask; only the
    tables this run copies count.
    """
    from workbench.governance.masking_suggestions import policy_violations  # heavy: sklearn

    tables = {name.rsplit(".", 1)[-1] for name in mapping}
    found = [
        v
        for v in policy_violations(store, project)
        if v.target_column is not None and v.table.rsplit(".", 1)[-1] in tables
    ]
    if found:
        listed = "; ".join(f"{v.table}.{v.column} ({', '.join(v.pii)})" for v in found)
        first = found[0]
        raise PolicyViolationError(
            f"Project {get_project(store, project).name!r} requires masking, and this run would "
            f"copy PII unmasked: {listed}. Mask them (`workbench masking apply PROJECT "
            f"{first.table}.{first.column} {(first.mask or {}).get('kind', 'hash')}`, or "
            "`workbench masking suggest PROJECT`), exempt them with a reason (`workbench masking "
            "exempt`), or run with --allow-unmasked-pii",
            columns=[f"{v.table}.{v.column}" for v in found],
        )
