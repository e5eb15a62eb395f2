"""OpenLineage run events for every job: START once planned, COMPLETE or FAIL at its end.

Built with openlineage-python's classes (generated from the published spec: each event and
facet carries its ``schemaURL``) and sent by its client, which takes its transport from the
standard configuration: ``OPENLINEAGE_URL`` (Marquez, DataHub, OpenMetadata's HTTP endpoint),
``OPENLINEAGE_CONFIG`` (an ``openlineage.yml``) or ``OPENLINEAGE__TRANSPORT__*`` variables
(e.g. ``TYPE=file``). Without any of them nothing is built or sent. A catalog that is down
never fails the job: a failed send is logged.

What an event says: the job is ``<project>.<kind>`` in namespace ``OPENLINEAGE_NAMESPACE``
(default ``workbench``), the run id is derived from the job's key (a resume is the same run);
inputs are the source tables (schema facet), outputs the target tables (schema, column
lineage, and, at COMPLETE, row counts). Column lineage marks identity copies ``IDENTITY``,
transforms and read expressions ``TRANSFORMATION`` and masks ``masking: true`` with the mask's
kind (never a salt or a value). Dataset namespaces follow OpenLineage's naming: ``mysql://host:
port``, ``postgres://host:port``, with the database in the dataset's name; never a user or a
password.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from workbench.engine.plan import MigrationPlan, TablePlan
from workbench.governance.lineage import LineageRecord
from workbench.urls import kind_of, parse_url

log = logging.getLogger(__name__)

CONFIG_VARIABLES = ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE__TRANSPORT__TYPE")
PRODUCER = "https://github.com/workbench/workbench"
RUN_NAMESPACE = uuid.UUID("6b1c4f0e-2f5d-4d1e-9a59-0c6f3e9b7a10")  # run ids from job keys
# OpenLineage's dataset naming, by our kind of database
NAMESPACE_SCHEMES = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgres"}


def configured() -> bool:
    """Whether events are to be sent (an OpenLineage transport is configured)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(v) for v in CONFIG_VARIABLES)


def run_id(job_key: str) -> str:
    return str(uuid.uuid5(RUN_NAMESPACE, job_key))


class Emitter:
    """The events of one job run; every method is a no-op unless :func:`configured`."""

    def __init__(self, job_key: str, job_name: str, source_url: str, target_url: str) -> None:
        self.enabled = configured()
        self.job_key, self.job_name = job_key, job_name
        self.source_url, self.target_url = source_url, target_url
        self.plan: MigrationPlan | None = None
        self.lineage: list[LineageRecord] = []
        self._client: Any = None

    def start(self, plan: MigrationPlan, lineage: list[LineageRecord]) -> None:
        self.plan, self.lineage = plan, lineage
        self._emit("START")

    def complete(self, rows_by_table: dict[str, int]) -> None:
        self._emit("COMPLETE", rows_by_table=rows_by_table)

    def fail(self, error: BaseException) -> None:
        self._emit("FAIL", error=error)

    def _emit(self, state: str, **details: Any) -> None:
        if not self.enabled:
            return
        try:
            event = self.event(state, **details)
            if self._client is None:
                from openlineage.client import OpenLineageClient

                self._client = OpenLineageClient()
            self._client.emit(event)
        except Exception as exc:  # the catalog is not the job: say so and go on
            log.warning("OpenLineage %s event for %s not sent: %s", state, self.job_key, exc)

    def event(
        self,
        state: str,
        rows_by_table: dict[str, int] | None = None,
        error: BaseException | None = None,
    ) -> Any:
        """The run event (openlineage-python's ``RunEvent``) for ``state``."""
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.generated import error_message_run

        from workbench.urls import mask_text

        run_facets: dict[str, Any] = {}
        if error is not None:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=mask_text(str(error) or type(error).__name__)[:2000],
                programmingLanguage="python",
            )
        tables = self.plan.tables if self.plan is not None else []
        return RunEvent(
            eventType=getattr(RunState, state),
            eventTime=datetime.now(UTC).isoformat(),
            run=Run(runId=run_id(self.job_key), facets=run_facets),
            job=Job(
                namespace=os.environ.get("OPENLINEAGE_NAMESPACE") or "workbench", name=self.job_name
            ),
            producer=PRODUCER,
            inputs=[self._input(tp) for tp in tables],
            outputs=[self._output(tp, rows_by_table) for tp in tables],
        )

    def _input(self, tp: TablePlan) -> Any:
        from openlineage.client.event_v2 import InputDataset

        namespace, name = dataset(self.source_url, tp.source.schema, tp.source.name)
        fields = [(c.name, c.native.raw or c.native.name) for c in tp.source.columns]
        return InputDataset(namespace=namespace, name=name, facets={"schema": _schema(fields)})

    def _output(self, tp: TablePlan, rows_by_table: dict[str, int] | None) -> Any:
        from openlineage.client.event_v2 import OutputDataset
        from openlineage.client.generated import output_statistics_output_dataset as stats

        namespace, name = dataset(self.target_url, tp.target_schema, tp.target_name)
        facets: dict[str, Any] = {
            "schema": _schema([(c.name, c.pg_type) for c in tp.columns]),
            "columnLineage": self._column_lineage(tp),
        }
        output_facets: dict[str, Any] = {}
        if rows_by_table is not None and tp.name in rows_by_table:
            output_facets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
                rowCount=rows_by_table[tp.name]
            )
        return OutputDataset(namespace=namespace, name=name, facets=facets,
                             outputFacets=output_facets)  # fmt: skip

    def _column_lineage(self, tp: TablePlan) -> Any:
        from openlineage.client.generated import column_lineage_dataset as cl

        source_ns, source_name = dataset(self.source_url, tp.source.schema, tp.source.name)
        fields: dict[str, Any] = {}
        for record in self.lineage:
            if (record.target_schema, record.target_table) != (tp.target_schema, tp.target_name):
                continue
            if record.source_column is None:  # computed from an expression: no input column
                continue
            fields[record.target_column] = cl.Fields(
                inputFields=[
                    cl.InputField(
                        namespace=source_ns,
                        name=source_name,
                        field=record.source_column,
                        transformations=[_transformation(record)],
                    )
                ]
            )
        return cl.ColumnLineageDatasetFacet(fields=fields)


def _transformation(record: LineageRecord) -> Any:
    from openlineage.client.generated import column_lineage_dataset as cl

    rule = record.transform or {}
    mask = rule.get("mask")
    if mask:
        kind = mask.get("kind", "mask") if isinstance(mask, dict) else str(mask)
        return cl.Transformation(type="DIRECT", subtype="TRANSFORMATION",
                                 description=f"mask: {kind}", masking=True)  # fmt: skip
    if rule or record.expression:
        steps = ", ".join(sorted(rule)) if rule else "read expression"
        return cl.Transformation(type="DIRECT", subtype="TRANSFORMATION",
                                 description=steps, masking=False)  # fmt: skip
    return cl.Transformation(type="DIRECT", subtype="IDENTITY", masking=False)


def _schema(fields: Iterable[tuple[str, str]]) -> Any:
    from openlineage.client.generated import schema_dataset

    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in fields]
    )


def dataset(url: str, schema: str | None, table: str) -> tuple[str, str]:
    """(namespace, name) of a table, by OpenLineage's naming; no user or password."""
    parsed = parse_url(url)
    kind = kind_of(url)
    scheme = NAMESPACE_SCHEMES.get(kind)
    if scheme is not None:
        default_port = {"mysql": 3306, "postgres": 5432}[scheme]
        namespace = f"{scheme}://{parsed.host or 'localhost'}:{parsed.port or default_port}"
        parts = [parsed.database or "", schema or "", table]
        return namespace, ".".join(p for p in parts if p)
    # files and embedded databases (sqlite, duckdb, parquet, csv): the file is the namespace
    path = parsed.database or ""
    return f"file://{os.path.abspath(path) if path else kind}", ".".join(
        p for p in (schema, table) if p
    )
