"""PostgreSQL introspection: six bulk catalog queries, whatever the number of tables."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from workbench.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    ForeignKey,
    Index,
    NativeType,
    SchemaObject,
    Table,
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
       CASE WHEN c.relkind IN ('v','m') THEN pg_get_viewdef(c.oid, true) END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r','p','v','m','f') AND NOT c.relispartition
  AND n.nspname <> ALL(%(system)s) AND n.nspname NOT LIKE 'pg\\_%%'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s))
  AND (%(tables)s::text[] IS NULL OR c.relname = ANY(%(tables)s))
ORDER BY n.nspname, c.relname
"""

COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typcategory = 'A' THEN et.typname ELSE t.typname END,
       CASE WHEN t.typcategory = 'A' THEN etn.nspname ELSE tn.nspname END,
       CASE WHEN t.typcategory = 'A' THEN et.typtype ELSE t.typtype END,
       a.atttypmod, a.attndims, t.typcategory = 'A',
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
       col_description(a.attrelid, a.attnum), co.collname,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
       CASE WHEN t.typtype = 'd' THEN bt.typname END
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS = """
SELECT c.conrelid, c.conname, c.contype, c.conkey::int[], rn.nspname, r.relname,
       c.confkey::int[], c.confrelid, c.confupdtype, c.confdeltype,
       CASE WHEN c.contype = 'c' THEN pg_get_expr(c.conbin, c.conrelid, true) END, c.conindid
FROM pg_constraint c
LEFT JOIN pg_class r ON r.oid = c.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE c.conrelid = ANY(%s) AND c.contype IN ('p','u','f','c')
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
             FROM generate_series(1, i.indnkeyatts) k ORDER BY k), i.indexrelid
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
    rels = run(
        RELATIONS,
        {
            "system": list(SYSTEM_SCHEMAS),
            "schemas": list(schemas) if schemas else None,
            "tables": list(tables) if tables else None,
        },
    )
    oids = [r[0] for r in rels]
    columns: dict[int, list[Column]] = defaultdict(list)
    attnames: dict[tuple[int, int], str] = {}
    domains: dict[str, dict[str, Any]] = {}
    for row in run(COLUMNS, (oids,)):
        (relid, num, name, raw, tname, tschema, typtype, typmod, ndims, is_array) = row[:10]
        notnull, default, identity, generated, comment, collation, base_raw, base_name = row[10:]
        attnames[(relid, num)] = name
        native = native_type(raw, tname, tschema, typtype, typmod, is_array, ndims)
        if base_raw is not None:
            native = NativeType(
                name=tname,
                raw=raw,
                type_schema=tschema,
                base=native_type(base_raw, base_name, "pg_catalog", "b", -1, False, 0),
            )
        is_serial = bool(default and default.startswith("nextval("))
        columns[relid].append(
            Column(
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
            )
        )
    cons: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    con_rows = run(CONSTRAINTS, (oids,))
    ref_oids = sorted({r[7] for r in con_rows if r[2] == "f"} - set(oids))
    for relid, num, name in run(REF_COLUMNS, (ref_oids,)) if ref_oids else []:
        attnames[(relid, num)] = name
    for relid, name, ctype, key, rschema, rtable, rkey, roid, upd, dele, check, _ in con_rows:
        cols = tuple(attnames[(relid, k)] for k in key or [])
        if ctype == "p":
            cons[relid]["pk"].append((name, cols))
        elif ctype == "u":
            cons[relid]["u"].append(UniqueConstraint(name, cols))
        elif ctype == "f":
            ref_cols = tuple(attnames[(roid, k)] for k in rkey)
            cons[relid]["f"].append(
                ForeignKey(name, cols, rschema, rtable, ref_cols, FK_ACTIONS[dele], FK_ACTIONS[upd])
            )
        elif ctype == "c":
            cons[relid]["c"].append(CheckConstraint(name, check))
    indexes: dict[int, list[Index]] = defaultdict(list)
    for relid, name, unique, key, method, pred, defs, _ in run(INDEXES, (oids,)):
        index_cols: list[str | None] = []
        exprs: list[str] = []
        for attnum, text in zip(key, defs, strict=False):
            if attnum == 0:
                index_cols.append(None)
                exprs.append(text)
            else:
                index_cols.append(attnames[(relid, attnum)])
        indexes[relid].append(Index(name, tuple(index_cols), unique, tuple(exprs), method, pred))
    enums = {f"{s}.{t}": tuple(v) for s, t, v in run(ENUMS)}
    for s, t, base, notnull, default, checks in run(DOMAINS, (list(SYSTEM_SCHEMAS),)):
        domains[f"{s}.{t}"] = {"base": base, "not_null": notnull, "default": default,
                               "checks": list(checks)}  # fmt: skip
    nexts = {relid: int(last) + 1 for relid, last in run(SEQUENCES, (oids,)) if last is not None}
    out: list[Table] = []
    for oid, schema, name, relkind, reltuples, size, comment, viewdef in rels:
        c = cons.get(oid, {})
        pk = c.get("pk", [])
        out.append(
            Table(
                schema=schema,
                name=name,
                columns=tuple(columns.get(oid, [])),
                kind="view" if relkind in ("v", "m") else "table",
                primary_key=pk[0][1] if pk else (),
                primary_key_name=pk[0][0] if pk else None,
                uniques=tuple(c.get("u", [])),
                foreign_keys=tuple(c.get("f", [])),
                indexes=tuple(indexes.get(oid, [])),
                checks=tuple(c.get("c", [])),
                row_estimate=int(reltuples) if reltuples is not None and reltuples >= 0 else None,
                size_bytes=size,
                comment=comment,
                view_definition=viewdef,
                identity_next=nexts.get(oid),
            )
        )
    version = run("SHOW server_version")[0][0]
    extras: dict[str, Any] = {"domains": domains}
    others = [SchemaObject("trigger", s, t, rel) for s, t, rel in run(TRIGGERS, (oids,))]
    if not tables:  # routines belong to the schemas, not to chosen tables
        chosen = sorted({t.schema for t in out if t.schema})
        others += [
            SchemaObject(_ROUTINE_KINDS.get(kind, "function"), s, name)
            for s, name, kind in run(ROUTINES, (chosen,))
        ]
    return DatabaseSchema(
        "postgresql", f"PostgreSQL {version}", tuple(out), enums, extras, tuple(others)
    )
