"""A project whose saved, accepted mappings `run_migration` runs, written straight into the
store (the matching part's own tests cover how suggestions become mappings)."""

from __future__ import annotations

from typing import Any

from workbench.store import Store, connections, projects
from workbench.store.models import ColumnMapping, SchemaMapping


def mapped_project(
    store: Store,
    name: str,
    source_url: str,
    target_url: str,
    tables: dict[tuple[str | None, str, str | None, str], dict[str, Any]],
    *,
    version: int = 1,
) -> None:
    """``tables``: (source schema, source table, target schema, target table) ->
    ``{"columns": {source: target}, "transforms": {target: rule}, "computed": {target: rule}}``.
    """
    projects.create_project(store, name)
    src = connections.add_connection(store, name, "src", source_url, role="source")
    tgt = connections.add_connection(store, name, "tgt", target_url, role="target")
    org = store.identity.organization_id
    with store.session() as session:
        for (s_schema, s_table, t_schema, t_table), spec in tables.items():
            mapping = SchemaMapping(
                organization_id=org,
                project_id=src.project_id,
                source_connection_id=src.id,
                target_connection_id=tgt.id,
                source_schema=s_schema,
                source_table=s_table,
                target_schema=t_schema,
                target_table=t_table,
                version=version,
                created_by=store.user,
            )
            session.add(mapping)
            session.flush()
            rules = spec.get("transforms", {})
            rows = [
                (source, target, rules.get(target)) for source, target in spec["columns"].items()
            ]
            rows += [(None, target, rule) for target, rule in spec.get("computed", {}).items()]
            session.add_all(
                ColumnMapping(
                    organization_id=org,
                    schema_mapping_id=mapping.id,
                    source_column=source,
                    target_column=target,
                    transform=rule,
                    origin="manual",
                    state="accepted",
                )
                for source, target, rule in rows
            )
