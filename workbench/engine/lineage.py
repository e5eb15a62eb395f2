"""Lineage recording: the lineage rows of a job's plan (governance keeps and serves them;
``repair.record_lineage`` derives them again for a past job)."""

from __future__ import annotations

from workbench.engine.options import CopyOptions
from workbench.engine.plan import MigrationPlan
from workbench.governance.lineage import LineageRecord


def plan_lineage(job_id: int, plan: MigrationPlan, options: CopyOptions) -> list[LineageRecord]:
    """The lineage rows of a plan (pure: no store, no database)."""
    out = []
    for tp in plan.tables:
        mapped = options.mapping.get(tp.source.qualified_name) or options.mapping.get(
            tp.source.name
        )
        version = (mapped or {}).get("version")
        # a computed target column has no source column (the plan names it after the target)
        real = {col.name for col in tp.source.columns}
        for c in tp.columns:
            rule = c.transform.to_rule() if c.transform and not c.transform.is_identity else None
            if rule is not None:
                rule.pop("expression", None)  # recorded in its own field
            out.append(
                LineageRecord(
                    job_id=job_id,
                    source_schema=tp.source.schema,
                    source_table=tp.source.name,
                    source_column=c.source if c.source in real else None,
                    expression=c.read_expression,
                    transform=rule,
                    mapping_version=version,
                    target_schema=tp.target_schema,
                    target_table=tp.target_name,
                    target_column=c.name,
                )
            )
    return out
