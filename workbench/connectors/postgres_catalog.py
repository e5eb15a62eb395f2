"""PostgreSQL introspection: six bulk catalog queries, whatever the number of tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from workbench.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    ForeignKey,
    Index,
    NativeType,
    Policy,
    SchemaObject,
    Table,
    TablePartition,
    UniqueConstraint,
)

if TYPE_CHECKING:
    from workbench.connectors.postgres import PostgresConnector

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}

RELATIONS = """
SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples::bigint,
       CASE WHEN c.relkind IN ('r','p','m') THEN pg_total_relation_size(c.oid) END,
       obj_description(c.oid, 'pg_class'),
       CASE WHEN c.relkind IN ('v','m') THEN pg_get_viewdef(c.oid, true) END,
       c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid),
       CASE WHEN c.relforcerowsecurity THEN 'forced' WHEN c.relrowsecurity THEN 'enabled' END,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p','v','m','f') AND NOT c.relispartition
  AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg\\_%%'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s))
  AND (%(tables)s::text[] IS NULL OR c.relname = ANY(%(tables)s))
ORDER BY n.nspname, c.relname
"""

# a domain over an array is the domain (its category is its base's, 'A')
COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN arr.is_array THEN et.typname ELSE t.typname END,
       CASE WHEN arr.is_array THEN etn.nspname ELSE tn.nspname END,
       CASE WHEN arr.is_array THEN et.typtype ELSE t.typtype END,
       a.atttypmod, a.attndims, arr.is_array,
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
       col_description(a.attrelid, a.attnum), cn.nspname || '.' || co.collname,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       CASE WHEN t.typtype = 'd' THEN bt.typname END,
       ARRAY(SELECT pn.nspname || '.' || p.proname || '()' FROM pg_depend dd
             JOIN pg_proc p ON p.oid = dd.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace
             WHERE dd.classid = 'pg_attrdef'::regclass AND dd.objid = d.oid
               AND dd.refclassid = 'pg_proc'::regclass AND pn.nspname <> 'pg_catalog'
               AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass
                               AND e.objid = p.oid AND e.deptype = 'e') ORDER BY 1)
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
CROSS JOIN LATERAL (SELECT t.typcategory = 'A' AND t.typtype <> 'd') arr(is_array)
LEFT JOIN pg_type et ON et.oid = t.typelem AND arr.is_array
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS = """
SELECT c.conrelid, c.conname, c.contype, c.conkey::int[], rn.nspname, r.relname,
       c.confkey::int[], c.confrelid, c.confupdtype, c.confdeltype,
       CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid, true)
            WHEN c.contype = 'x' THEN pg_get_constraintdef(c.oid, true) END, c.conindid
FROM pg_constraint c
LEFT JOIN pg_class r ON r.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.conrelid = ANY(%s) AND c.contype IN ('p','u','f','c','x')
ORDER BY c.conrelid, c.conname
"""

REF_COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname FROM pg_attribute a
WHERE a.attrelid = ANY(%s) AND a.attnum > 0
"""

INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indkey::int[], am.amname,
       pg_get_expr(i.indpred, i.indrelid, true),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnkeyatts) k ORDER BY k), i.indexrelid,
       ARRAY(SELECT concat_ws(' ',
                    CASE WHEN NOT opc.opcdefault
                         THEN quote_ident(opn.nspname) || '.' || quote_ident(opc.opcname) END,
                    CASE WHEN i.indoption[k - 1] & 1 = 1 THEN 'DESC' END,
                    CASE i.indoption[k - 1] & 3 WHEN 2 THEN 'NULLS FIRST'
                                                WHEN 1 THEN 'NULLS LAST' END)
             FROM generate_series(1, i.indnkeyatts) k
             LEFT JOIN pg_opclass opc ON opc.oid = i.indclass[k - 1]
             LEFT JOIN pg_namespace opn ON opn.oid = opc.opcnamespace ORDER BY k)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE i.indrelid = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                  AND c.contype IN ('p','u','x'))
ORDER BY i.indrelid, ic.relname
"""

ENUMS = """
SELECT n.nspname, t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
GROUP BY n.nspname, t.typname ORDER BY 1, 2
"""

DOMAINS = """
SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault,
       ARRAY(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = t.oid
             ORDER BY c.conname)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd' AND n.nspname <> ALL(%s) ORDER BY 1, 2
"""

# composite types of their own (CREATE TYPE ... AS (...)), not tables' row types
COMPOSITES = """
SELECT n.nspname, t.typname,
       array_agg(a.attname ORDER BY a.attnum), array_agg(format_type(a.atttypid, a.atttypmod)
       ORDER BY a.attnum)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid AND c.relkind = 'c'
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE t.typtype = 'c' AND n.nspname <> ALL(%s) GROUP BY 1, 2 ORDER BY 1, 2
"""

# the collations the chosen tables' columns name (their definitions: to_jsonb keeps the query
# the same across versions, whose columns differ: colliculocale in 15-16, colllocale in 17)
COLLATIONS = """
SELECT DISTINCT n.nspname, co.collname, to_jsonb(co) FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
JOIN pg_namespace n ON n.oid = co.collnamespace
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
"""

# the extensions the chosen tables need: of their columns' types (citext, hstore, vector),
# their defaults' functions (uuid-ossp's uuid_generate_v4) and their indexes' operator
# classes (pg_trgm's gin_trgm_ops)
EXTENSIONS = """
WITH needs(classid, objid) AS (
  SELECT 'pg_type'::regclass, t.oid FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped
  UNION SELECT 'pg_type'::regclass, t.typelem FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = ANY(%(oids)s) AND a.attnum > 0 AND NOT a.attisdropped AND t.typelem <> 0
  UNION SELECT d.refclassid, d.refobjid FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
  WHERE ad.adrelid = ANY(%(oids)s) AND d.refclassid = 'pg_proc'::regclass
  UNION SELECT d.refclassid, d.refobjid FROM pg_index i
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
  WHERE i.indrelid = ANY(%(oids)s) AND d.refclassid IN ('pg_opclass'::regclass,
                                                        'pg_proc'::regclass)
)
SELECT DISTINCT e.extname, n.nspname FROM needs
JOIN pg_depend d ON d.classid = needs.classid AND d.objid = needs.objid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY 1
"""

# the partitions of the chosen partitioned tables, all levels, each after its parent
PARTITIONS = """
WITH RECURSIVE tree(root, oid, parent, depth) AS (
  SELECT i.inhparent, i.inhrelid, i.inhparent, 1 FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ANY(%s) AND c.relispartition
  UNION ALL
  SELECT t.root, i.inhrelid, i.inhparent, t.depth + 1 FROM tree t
  JOIN pg_inherits i ON i.inhparent = t.oid
)
SELECT t.root, cn.nspname, c.relname, pn.nspname, p.relname,
       pg_get_expr(c.relpartbound, c.oid), CASE WHEN c.relkind = 'p'
       THEN pg_get_partkeydef(c.oid) END
FROM tree t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_class p ON p.oid = t.parent JOIN pg_namespace pn ON pn.oid = p.relnamespace
ORDER BY t.root, t.depth, c.relname
"""

# the roles other than its owner a table grants privileges to (listed as not carried over)
GRANTS = """
SELECT n.nspname || '.' || c.relname, array_agg(DISTINCT CASE WHEN a.grantee = 0
       THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.oid = ANY(%s) AND a.grantee <> c.relowner GROUP BY 1
"""

# row-level security policies (roles by name: "public" is every role)
POLICIES = """
SELECT p.polrelid, p.polname, p.polpermissive,
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                     WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
       CASE WHEN p.polroles = '{0}' THEN ARRAY['public']::text[]
            ELSE ARRAY(SELECT rolname::text FROM pg_roles WHERE oid = ANY(p.polroles)
                       ORDER BY 1) END,
       pg_get_expr(p.polqual, p.polrelid, true), pg_get_expr(p.polwithcheck, p.polrelid, true)
FROM pg_policy p WHERE p.polrelid = ANY(%s) ORDER BY p.polrelid, p.polname
"""

# the next value of each table's identity or serial sequence (NULL: never used)
SEQUENCES = """
SELECT d.refobjid, max(CASE WHEN has_sequence_privilege(d.objid, 'SELECT')
                           THEN pg_sequence_last_value(d.objid::regclass) END)
FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.classid = 'pg_class'::regclass AND d.refobjid = ANY(%s) AND d.deptype IN ('a', 'i')
GROUP BY d.refobjid
"""

TRIGGERS = """
SELECT n.nspname, t.tgname, c.relname FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgrelid = ANY(%s) ORDER BY 1, 3, 2
"""

ROUTINES = """
SELECT n.nspname, p.proname, p.prokind FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""
_ROUTINE_KINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}


def native_type(
    raw: str, name: str, type_schema: str, typtype: str, typmod: int, is_array: bool, ndims: int
) -> NativeType:
    """Length/precision/scale decoded from the type modifier, as information_schema does."""
    length = precision = scale = None
    if typmod >= 0:
        if name in ("varchar", "bpchar"):
            length = typmod - 4
        elif name == "numeric":
            precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        elif name in ("timestamp", "timestamptz", "time", "timetz", "interval"):
            precision = typmod & 0xFFFF if name == "interval" else typmod
        elif name in ("bit", "varbit"):
            length = typmod
    user_schema = type_schema if typtype in ("e", "d", "c") else None
    base = raw[:-2] if is_array and raw.endswith("[]") else raw
    while is_array and base.endswith("[]"):
        base = base[:-2]
    return NativeType(
        name=name,
        length=length,
        precision=precision,
        scale=scale,
        array_dims=max(ndims, 1) if is_array else 0,
        raw=raw,
        type_schema=user_schema,
    )


def introspect(
    connector: PostgresConnector,
    schemas: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
) -> DatabaseSchema:
    run = connector.run
    rels = run(*_relations_query(schemas, tables))
    oids = [r[0] for r in rels]
    col_rows = run(COLUMNS, (oids,))
    con_rows = run(CONSTRAINTS, (oids,))
    # foreign keys may reference tables outside the selection: their column names too
    ref_oids = sorted({r[7] for r in con_rows if r[2] == "f"} - set(oids))
    ref_rows = run(REF_COLUMNS, (ref_oids,)) if ref_oids else []
    index_rows = run(INDEXES, (oids,))
    enums = {f"{s}.{t}": tuple(v) for s, t, v in run(ENUMS)}
    domains = _domains(run(DOMAINS, (list(SYSTEM_SCHEMAS),)))
    nexts = {relid: int(last) + 1 for relid, last in run(SEQUENCES, (oids,)) if last is not None}

    attnames = {(r[0], r[1]): r[2] for r in [*col_rows, *ref_rows]}  # (oid, attnum) -> name
    columns = _by_relation(col_rows)
    constraints = _by_relation(con_rows)
    indexes = _by_relation(index_rows)
    policies = _by_relation(run(POLICIES, (oids,)))
    partitioned = [r[0] for r in rels if r[3] == "p"]
    partitions = _by_relation(run(PARTITIONS, (partitioned,))) if partitioned else {}
    out = [
        _table(
            rel,
            tuple(_column(r) for r in columns.get(rel[0], [])),
            _constraints(constraints.get(rel[0], []), attnames),
            tuple(_index(r, attnames) for r in indexes.get(rel[0], [])),
            nexts.get(rel[0]),
            tuple(
                Policy(name, permissive, command, tuple(roles), using, check)
                for _, name, permissive, command, roles, using, check in policies.get(rel[0], [])
            ),
            tuple(TablePartition(*r[1:]) for r in partitions.get(rel[0], [])),
        )
        for rel in rels
    ]
    version = run("SHOW server_version")[0][0]
    composites = {
        f"{s}.{t}": list(zip(names, types, strict=True))
        for s, t, names, types in run(COMPOSITES, (list(SYSTEM_SCHEMAS),))
    }
    collations = {
        f"{s}.{name}": {"schema": s, "name": name, **_collation(d)}
        for s, name, d in run(COLLATIONS, (oids,))
    }
    extras: dict[str, Any] = {
        "domains": domains,
        "composites": composites,
        "collations": collations,
        "extensions": [list(r) for r in run(EXTENSIONS, {"oids": oids})],
        "grants": {table: sorted(roles) for table, roles in run(GRANTS, (oids,))},
    }
    # routines belong to the schemas, not to chosen tables
    routine_schemas = None if tables else sorted({t.schema for t in out if t.schema})
    others = _others(connector, oids, routine_schemas)
    return DatabaseSchema("postgresql", f"PostgreSQL {version}", tuple(out), enums, extras, others)


def _collation(row: dict[str, Any]) -> dict[str, Any]:
    """What CREATE COLLATION needs of a pg_collation row (as JSON)."""
    provider = {"i": "icu", "c": "libc", "b": "builtin"}.get(row.get("collprovider", ""), "")
    locale = row.get("colllocale") or row.get("colliculocale")
    return {
        "provider": provider,
        "locale": locale,
        "lc_collate": row.get("collcollate"),
        "lc_ctype": row.get("collctype"),
        "deterministic": bool(row.get("collisdeterministic", True)),
        "rules": row.get("collicurules"),
    }


def _others(
    connector: PostgresConnector, oids: list[int], routine_schemas: list[str] | None
) -> tuple[SchemaObject, ...]:
    """Triggers of the chosen tables and routines of ``routine_schemas`` (None: none): listed
    (a job names them as not migrated), never translated."""
    run = connector.run
    others = [SchemaObject("trigger", s, t, rel) for s, t, rel in run(TRIGGERS, (oids,))]
    if routine_schemas is not None:
        others += [
            SchemaObject(_ROUTINE_KINDS.get(kind, "function"), s, name)
            for s, name, kind in run(ROUTINES, (routine_schemas,))
        ]
    return tuple(others)


def _relations_query(
    schemas: Sequence[str] | None, tables: Sequence[str] | None
) -> tuple[str, dict[str, Any]]:
    return RELATIONS, {
        "system": list(SYSTEM_SCHEMAS),
        "schemas": list(schemas) if schemas else None,
        "tables": list(tables) if tables else None,
    }


def _by_relation(rows: Sequence[Sequence[Any]]) -> dict[int, list[Sequence[Any]]]:
    """Rows grouped by their first field, the table's oid, each group in query order."""
    out: dict[int, list[Sequence[Any]]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row)
    return out


def _column(row: Sequence[Any]) -> Column:
    (_, num, name, raw, tname, tschema, typtype, typmod, ndims, is_array) = row[:10]
    notnull, default, identity, generated, comment, collation, base_raw, base_name = row[10:18]
    calls = tuple(row[18] or ())
    native = native_type(raw, tname, tschema, typtype, typmod, is_array, ndims)
    if base_raw is not None:  # a domain: its own name, the underlying type as base
        native = NativeType(
            name=tname,
            raw=raw,
            type_schema=tschema,
            base=native_type(base_raw, base_name, "pg_catalog", "b", -1, False, 0),
        )
    is_serial = bool(default and default.startswith("nextval("))
    return Column(
        name=name,
        native=native,
        nullable=not notnull,
        default=None if generated else default,
        is_identity=bool(identity) or is_serial,
        generated=default if generated else None,
        generated_stored=True,
        collation=collation,
        comment=comment,
        ordinal=num,
        default_calls=calls,
    )


class _Constraints(NamedTuple):
    primary_key: tuple[str | None, tuple[str, ...]] | None  # (name, columns)
    uniques: tuple[UniqueConstraint, ...]
    foreign_keys: tuple[ForeignKey, ...]
    checks: tuple[CheckConstraint, ...]
    exclusions: tuple[CheckConstraint, ...] = ()


def _constraints(
    rows: Sequence[Sequence[Any]], attnames: dict[tuple[int, int], str]
) -> _Constraints:
    """One table's constraints, their column numbers resolved to names."""
    pks: list[tuple[str | None, tuple[str, ...]]] = []
    uniques: list[UniqueConstraint] = []
    foreign: list[ForeignKey] = []
    checks: list[CheckConstraint] = []
    exclusions: list[CheckConstraint] = []
    for relid, name, ctype, key, rschema, rtable, rkey, roid, upd, dele, check, _ in rows:
        cols = tuple(attnames[(relid, k)] for k in key or [])
        if ctype == "p":
            pks.append((name, cols))
        elif ctype == "u":
            uniques.append(UniqueConstraint(name, cols))
        elif ctype == "f":
            ref_cols = tuple(attnames[(roid, k)] for k in rkey)
            foreign.append(
                ForeignKey(name, cols, rschema, rtable, ref_cols, FK_ACTIONS[dele], FK_ACTIONS[upd])
            )
        elif ctype == "c":
            checks.append(CheckConstraint(name, check))
        elif ctype == "x":
            exclusions.append(CheckConstraint(name, check))
    pk = pks[0] if pks else None
    return _Constraints(pk, tuple(uniques), tuple(foreign), tuple(checks), tuple(exclusions))


def _index(row: Sequence[Any], attnames: dict[tuple[int, int], str]) -> Index:
    relid, name, unique, key, method, pred, defs, _, options = row
    columns: list[str | None] = []
    exprs: list[str] = []
    for attnum, text in zip(key, defs, strict=False):
        if attnum == 0:  # an expression entry
            columns.append(None)
            exprs.append(text)
        else:
            columns.append(attnames[(relid, attnum)])
    entries = tuple(options) if any(options) else ()
    return Index(name, tuple(columns), unique, tuple(exprs), method, pred, entries)


def _domains(rows: Sequence[Sequence[Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{s}.{t}": {"base": base, "not_null": notnull, "default": default, "checks": list(checks)}
        for s, t, base, notnull, default, checks in rows
    }


def _table(
    rel: Sequence[Any],
    columns: tuple[Column, ...],
    constraints: _Constraints,
    indexes: tuple[Index, ...],
    identity_next: int | None,
    policies: tuple[Policy, ...] = (),
    partitions: tuple[TablePartition, ...] = (),
) -> Table:
    _, schema, name, relkind, reltuples, size, comment, viewdef, has_children, rls, key = rel
    pk = constraints.primary_key
    return Table(
        schema=schema,
        name=name,
        columns=columns,
        kind="view" if relkind in ("v", "m") else "table",
        primary_key=pk[1] if pk else (),
        primary_key_name=pk[0] if pk else None,
        uniques=constraints.uniques,
        foreign_keys=constraints.foreign_keys,
        indexes=indexes,
        checks=constraints.checks,
        row_estimate=int(reltuples) if reltuples is not None and reltuples >= 0 else None,
        size_bytes=size,
        comment=comment,
        view_definition=viewdef,
        identity_next=identity_next,
        has_children=bool(has_children),
        materialized=relkind == "m",
        exclusions=constraints.exclusions,
        row_security=rls,
        policies=policies,
        partition_by=key,
        partitions=partitions,
    )
