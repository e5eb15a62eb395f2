"""Foreign-key actions a source applies without logging them, applied to the target by the
follower.

MySQL/MariaDB apply a foreign key's ON DELETE / ON UPDATE action (CASCADE, SET NULL) inside
the storage engine, and their row-based binary log holds only the parent's change: deleting
an actor whose films cascade logs one row. A follower replaying the log would leave the
children as they were (and, once the target's own foreign keys are built, could not apply the
parent's change at all). So for each followed table referenced by another followed table, the
follower applies the action itself, right after the parent's change and in the source's
order: the children of the old key deleted, set to NULL or given the new key, and on through
their own children. Where the target's foreign keys already exist PostgreSQL has applied the
same action, and these statements find nothing left to do.
(PostgreSQL's logical replication logs cascaded rows like any other: nothing to add there.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from workbench.connectors.changes import RowChange
from workbench.engine.plan import TablePlan
from workbench.errors import WorkbenchError

ACTIONS = frozenset({"CASCADE", "SET NULL", "SET DEFAULT"})
DEEPEST = 32  # levels of children followed through; deeper chains stop the follower


@dataclass(frozen=True)
class Reference:
    """A followed table's foreign key to another followed table (the parent)."""

    child: str  # the child's source table
    target: sql.Identifier  # the child's target table
    columns: tuple[str, ...]  # the child's referencing columns, as the target names them
    referenced: tuple[str, ...]  # the parent's referenced columns, source names
    referenced_target: tuple[str, ...]  # the same, target names
    on_delete: str
    on_update: str
    child_keys: tuple[str, ...] = ()  # the child's key, as the target names it


References = Mapping[str, tuple[Reference, ...]]  # parent source table -> references to it


def references(plan_tables: Iterable[TablePlan]) -> dict[str, tuple[Reference, ...]]:
    """The references among ``plan_tables`` whose columns all reach the target."""
    tables = list(plan_tables)
    renamed = {tp.source.name: {c.source: c.name for c in tp.columns if c.source} for tp in tables}
    out: dict[str, list[Reference]] = {}
    for tp in tables:
        for fk in tp.source.foreign_keys:
            parent = renamed.get(fk.ref_table)
            if parent is None or fk.ref_schema not in (None, tp.source.schema):
                continue  # a table the job does not follow
            child = renamed[tp.source.name]
            if not all(c in child for c in fk.columns) or not all(
                c in parent for c in fk.ref_columns
            ):
                continue  # columns left out of the copy: nothing to keep in step there
            out.setdefault(fk.ref_table, []).append(
                Reference(
                    child=tp.source.name,
                    target=sql.Identifier(tp.target_schema, tp.target_name),
                    columns=tuple(child[c] for c in fk.columns),
                    referenced=tuple(fk.ref_columns),
                    referenced_target=tuple(parent[c] for c in fk.ref_columns),
                    on_delete=fk.on_delete.upper(),
                    on_update=fk.on_update.upper(),
                    child_keys=tuple(child[c] for c in tp.key_columns if c in child),
                )
            )
    return {parent: tuple(refs) for parent, refs in out.items()}


@dataclass(frozen=True)
class Rules:
    """What the follower does about foreign keys among the followed tables: a key change of a
    referenced table is applied as an UPDATE (for the target's own rules, once built), and,
    where the change stream lacks the rows the source's actions changed (``applied_here``),
    the actions are applied by :func:`on_delete` and :func:`on_update`."""

    references: References
    applied_here: bool

    def acted(self, change: RowChange) -> bool:
        """Whether the follower applies actions for ``change``."""
        return self.applied_here and acts_on(self.references, change)


def acts_on(refs: References, change: RowChange) -> bool:
    """Whether the source applied an action to other rows for ``change``."""
    found = refs.get(change.table, ())
    if change.op == "delete":
        return any(r.on_delete in ACTIONS for r in found)
    if change.op == "update" and change.before is not None and change.after is not None:
        before, after = change.before, change.after
        return any(
            r.on_update in ACTIONS and any(before[c] != after[c] for c in r.referenced)
            for r in found
        )
    return False


def reached(refs: References, table: str) -> set[str]:
    """The tables an action starting at ``table`` can reach (its children, theirs...)."""
    seen: set[str] = set()
    todo = [table]
    while todo:
        for ref in refs.get(todo.pop(), ()):
            if ref.child not in seen and (ref.on_delete in ACTIONS or ref.on_update in ACTIONS):
                seen.add(ref.child)
                todo.append(ref.child)
    return seen


def on_delete(
    cur: psycopg.Cursor[Any], refs: References, table: str, row: Mapping[str, Any], depth: int = 0
) -> None:
    """The ON DELETE actions of the references to ``table`` for its deleted ``row`` (target
    column names)."""
    for ref in refs.get(table, ()):
        if ref.on_delete not in ACTIONS:
            continue
        old = [row[c] for c in ref.referenced_target]
        if any(v is None for v in old):
            continue  # a NULL references nothing
        if ref.on_delete != "CASCADE":
            _set(cur, ref, ref.on_delete, old)
            continue
        needed = _referenced_columns(refs, ref.child)
        _deeper(depth, ref)
        cur.execute(
            sql.SQL("DELETE FROM {} WHERE {} RETURNING {}").format(
                ref.target, _matching(ref.columns), _columns(needed)
            ),
            old,
        )
        gone = cur.fetchall() if needed else []
        for values in gone:
            on_delete(cur, refs, ref.child, dict(zip(needed, values, strict=True)), depth + 1)


def on_update(
    cur: psycopg.Cursor[Any],
    refs: References,
    table: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    depth: int = 0,
) -> None:
    """The ON UPDATE actions of the references to ``table`` for a row changed from ``before``
    to ``after`` (target column names)."""
    for ref in refs.get(table, ()):
        old = [before[c] for c in ref.referenced_target]
        new = [after[c] for c in ref.referenced_target]
        if ref.on_update not in ACTIONS or old == new or any(v is None for v in old):
            continue
        if ref.on_update != "CASCADE":
            _set(cur, ref, ref.on_update, old)
            continue
        needed = _referenced_columns(refs, ref.child)
        _deeper(depth, ref)
        if set(ref.columns) & set(ref.child_keys):
            _make_way(cur, ref, old, new)
        cur.execute(
            sql.SQL("UPDATE {} SET {} WHERE {} RETURNING {}").format(
                ref.target,
                sql.SQL(", ").join(
                    sql.SQL("{} = %s").format(sql.Identifier(c)) for c in ref.columns
                ),
                _matching(ref.columns),
                _columns(needed),
            ),
            [*new, *old],
        )
        moved = cur.fetchall() if needed else []
        for values in moved:  # the child's own referenced columns may hold the moved ones
            now = dict(zip(needed, values, strict=True))
            was = now | {c: o for c, o, n in zip(ref.columns, old, new, strict=True) if c in now}
            on_update(cur, refs, ref.child, was, now, depth + 1)


def _make_way(cur: psycopg.Cursor[Any], ref: Reference, old: list[Any], new: list[Any]) -> None:
    """Child rows already at the new value that a row at the old one is about to replace: a
    copy that read the child's partitions before and after the source's change holds both
    (the row moved is the one the change stream goes on from)."""
    others = [k for k in ref.child_keys if k not in ref.columns]
    same = sql.SQL("").join(sql.SQL(" AND o.{0} = c.{0}").format(sql.Identifier(k)) for k in others)
    cur.execute(
        sql.SQL("DELETE FROM {} c WHERE {} AND EXISTS (SELECT 1 FROM {} o WHERE {}{})").format(
            ref.target,
            sql.SQL(" AND ").join(
                sql.SQL("c.{} = %s").format(sql.Identifier(c)) for c in ref.columns
            ),
            ref.target,
            sql.SQL(" AND ").join(
                sql.SQL("o.{} = %s").format(sql.Identifier(c)) for c in ref.columns
            ),
            same,
        ),
        [*new, *old],
    )


def _set(cur: psycopg.Cursor[Any], ref: Reference, action: str, old: list[Any]) -> None:
    value = sql.SQL("NULL" if action == "SET NULL" else "DEFAULT")
    cur.execute(
        sql.SQL("UPDATE {} SET {} WHERE {}").format(
            ref.target,
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), value) for c in ref.columns
            ),
            _matching(ref.columns),
        ),
        old,
    )


def _referenced_columns(refs: References, table: str) -> tuple[str, ...]:
    """The columns of ``table`` that tables referencing it refer to (target names)."""
    return tuple(dict.fromkeys(c for r in refs.get(table, ()) for c in r.referenced_target))


def _matching(columns: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(c)) for c in columns)


def _columns(columns: tuple[str, ...]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, columns)) if columns else sql.SQL("1")


def _deeper(depth: int, ref: Reference) -> None:
    if depth >= DEEPEST:
        raise WorkbenchError(
            f"A change cascades through more than {DEEPEST} levels of foreign keys (last "
            f"through {ref.child}): the follower stopped before applying its batch. Copy the "
            "tables involved again at cut-over."
        )
