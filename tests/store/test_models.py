"""Constraints, ON DELETE behaviour and indexes of the stored model, checked on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from workbench.errors import InUseError
from workbench.store import connections, jobs, projects


def _mapping(store, project_id, source_id, target_id) -> int:
    with store.connection() as conn:
        mapping_id = conn.execute(
            text(
                "INSERT INTO schema_mappings (project_id, source_connection_id, "
                "target_connection_id, source_table, target_table, created_by) "
                "VALUES (:p, :s, :t, 'film', 'film', 'tester') RETURNING id"
            ),
            {"p": project_id, "s": source_id, "t": target_id},
        ).scalar()
        conn.execute(
            text(
                "INSERT INTO column_mappings (schema_mapping_id, source_column, target_column, "
                "confidence, origin, state) VALUES (:m, 'title', 'title', 0.9, 'fuzzy', 'accepted')"
            ),
            {"m": mapping_id},
        )
    return mapping_id


@pytest.fixture
def shop(store, pg_database):
    project = projects.create_project(store, "shop")
    src = connections.add_connection(store, "shop", "src", "mysql://app:pw@db1/shop")
    tgt = connections.add_connection(store, "shop", "tgt", pg_database, role="target")
    return project, src, tgt


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE projects SET status = 'deleted'",
        "UPDATE projects SET name = ''",
        "UPDATE projects SET description = repeat('x', 1001)",
        "UPDATE connections SET role = 'both'",
        "UPDATE memberships SET role = 'admin'",
        "UPDATE column_mappings SET confidence = 1.5",
        "UPDATE column_mappings SET origin = 'magic'",
        "UPDATE column_mappings SET state = 'maybe'",
        "UPDATE migration_jobs SET status = 'paused'",
        "UPDATE migration_jobs SET kind = 'teleport'",
        "UPDATE partition_checkpoints SET status = 'half'",
        "INSERT INTO projects (organization_id, name, created_by) "
        "SELECT organization_id, 'shop', 'x' FROM projects",
        "INSERT INTO connections (project_id, name, kind, role, url, created_by) "
        "SELECT project_id, 'src', 'mysql', 'source', 'mysql://x', 'x' FROM connections",
    ],
    ids=lambda s: s.split(" SET ")[-1][:40] if " SET " in s else s.split()[2] + " duplicate",
)
def test_constraints_refuse_bad_rows(store, shop, sql):
    project, src, tgt = shop
    _mapping(store, project.id, src.id, tgt.id)
    job = jobs.create_job(store, project.id, "copy", {})
    jobs.upsert_checkpoints(store, job, [{"table_name": "film", "partition_index": 0}])
    with pytest.raises(IntegrityError), store.connection() as conn:
        conn.execute(text(sql))


def test_project_delete_cascades_to_everything_it_owns(store, shop):
    project, src, tgt = shop
    _mapping(store, project.id, src.id, tgt.id)
    job = jobs.create_job(store, project.id, "migrate", {}, source_connection_id=src.id)
    jobs.log_event(store, job, "info", "started")
    jobs.upsert_checkpoints(store, job, [{"table_name": "film", "partition_index": 0}])
    result = projects.delete_project(store, "shop")
    assert result["deleted"] == {"connections": 2, "jobs": 1}
    with store.connection() as conn:
        for table in (
            "projects",
            "connections",
            "schema_mappings",
            "column_mappings",
            "migration_jobs",
            "migration_logs",
            "partition_checkpoints",
        ):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0, table
        # the audit trail outlives the project
        actions = conn.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars()
        assert list(actions)[-1] == "project.delete"


def test_connection_used_by_a_mapping_cannot_be_removed(store, shop):
    project, src, tgt = shop
    mapping_id = _mapping(store, project.id, src.id, tgt.id)
    with pytest.raises(InUseError) as caught:
        connections.remove_connection(store, "shop", "src")
    message = str(caught.value)
    assert "'src'" in message and f"#{mapping_id} film -> film" in message
    assert "remove those mappings first" in message
    assert caught.value.fields["schema_mappings"] == [mapping_id]
    # the database refuses it too, whoever asks
    with pytest.raises(IntegrityError, match="schema_mappings"), store.connection() as conn:
        conn.execute(text("DELETE FROM connections WHERE id = :id"), {"id": src.id})


def test_jobs_keep_their_history_when_a_connection_goes(store, shop):
    project, src, _ = shop
    job = jobs.create_job(store, project.id, "copy", {}, source_connection_id=src.id)
    connections.remove_connection(store, "shop", "src")
    record = jobs.get_job(store, job)
    assert record.source_connection_id is None and record.kind == "copy"


def test_dashboard_indexes_exist(store):
    with store.connection() as conn:
        defs = dict(
            conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
        )
    assert "(project_id, created_at DESC)" in defs["ix_migration_jobs_project_created"]
    assert "(job_id, at)" in defs["ix_migration_logs_job_at"]
    assert "(project_id, at)" in defs["ix_audit_events_project_at"]


def test_timestamps_are_utc(store):
    project = projects.create_project(store, "tz")
    assert project.created_at.utcoffset() == timedelta(0)
    with store.connection() as conn:
        assert conn.execute(text("SHOW timezone")).scalar() == "UTC"
        column_types = conn.execute(
            text(
                "SELECT DISTINCT data_type FROM information_schema.columns "
                "WHERE table_schema = 'public' AND column_name LIKE '%\\_at'"
            )
        ).scalars()
        assert set(column_types) == {"timestamp with time zone"}
