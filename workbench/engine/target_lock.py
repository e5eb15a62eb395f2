"""One job per target table at a time, enforced in the target database itself.

For its whole run a job holds a session-level advisory lock per target table on a connection
of its own, and names itself in ``_workbench.running``. A second job that wants any of those
tables is refused at once with the first job's id (:class:`TargetBusyError`), before it
creates, drops or writes anything. The locks go with the connection: a driver that dies
releases them, so a stale row in ``_workbench.running`` never blocks anyone (it is only read
to name the job that holds a lock, and overwritten by the next holder).
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from workbench.errors import TargetBusyError

LOCK_CLASS = 0x5742  # "WB": the first key of our two-key advisory locks on target tables


class TargetLock:
    def __init__(self, target_url: str, timeout: float, job_id: int, job_key: str) -> None:
        self.target_url = target_url
        self.timeout = timeout
        self.job_id = job_id
        self.job_key = job_key
        self.conn: psycopg.Connection | None = None
        self.held: list[str] = []

    def acquire(self, tables: Sequence[tuple[str, str]]) -> None:
        """Lock every ``(schema, table)`` or none; raise TargetBusyError naming the holder."""
        names = sorted({f"{schema}.{table}" for schema, table in tables})
        self.conn = psycopg.connect(
            self.target_url, connect_timeout=int(self.timeout), autocommit=True
        )
        for name in names:
            row = self.conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, name)
            ).fetchone()
            assert row is not None  # a SELECT without FROM returns one row
            got = row[0]
            if not got:
                holder = self._holder(name)
                self.release()
                raise TargetBusyError(
                    f"Target table {name} is being written by {holder}; wait for it to end "
                    "(or cancel it), then start this job again. Two jobs writing one table "
                    "would collide.",
                    table=name,
                    holder=holder,
                )
            self.held.append(name)
        with self.conn.transaction():
            for name in names:
                self.conn.execute(
                    "INSERT INTO _workbench.running (target_table, job_id, job_key, started_at)"
                    " VALUES (%s, %s, %s, now()) ON CONFLICT (target_table) DO UPDATE SET"
                    " job_id = excluded.job_id, job_key = excluded.job_key,"
                    " started_at = excluded.started_at",
                    (name, self.job_id, self.job_key),
                )

    def _holder(self, name: str) -> str:
        assert self.conn is not None
        row = self.conn.execute(
            "SELECT job_id, started_at FROM _workbench.running WHERE target_table = %s", (name,)
        ).fetchone()
        if row is None:
            return "another job"
        return f"job {row[0]} (started {row[1]:%Y-%m-%d %H:%M:%S %Z})"

    def release(self) -> None:
        if self.conn is None:
            return
        try:
            if self.held and not self.conn.closed:
                self.conn.execute(
                    "DELETE FROM _workbench.running WHERE job_key = %s", (self.job_key,)
                )
                self.conn.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            pass  # the connection is gone: so are its locks
        finally:
            self.conn.close()
            self.conn = None
            self.held = []
