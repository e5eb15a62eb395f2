"""MySQL/MariaDB introspection: one information_schema query per kind of object, in bulk."""

from __future__ import annotations

import re
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
    from workbench.connectors.mysql import MySQLConnector

SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
_WIDTH = re.compile(r"^\w+\((\d+)\)")
_JSON_CHECK = re.compile(r"^json_valid\(`((?:[^`]|``)+)`\)$", re.IGNORECASE)


def _s(value: Any) -> Any:
    """information_schema text sometimes arrives as bytes (binary collations in MySQL 8)."""
    return value.decode() if isinstance(value, bytes | bytearray) else value


def parse_members(column_type: str) -> tuple[str, ...]:
    """Members of ``enum('a','b''c')`` / ``set(...)`` in declared order."""
    inner = column_type[column_type.index("(") + 1 : column_type.rindex(")")]
    out: list[str] = []
    i = 0
    while i < len(inner):
        if inner[i] != "'":
            i += 1
            continue
        j, buf = i + 1, []
        while j < len(inner):
            ch = inner[j]
            if ch == "'" and j + 1 < len(inner) and inner[j + 1] == "'":
                buf.append("'")
                j += 2
            elif ch == "\\" and j + 1 < len(inner):
                buf.append(inner[j + 1])
                j += 2
            elif ch == "'":
                break
            else:
                buf.append(ch)
                j += 1
        out.append("".join(buf))
        i = j + 1
    return tuple(out)


def native_type(row: dict[str, Any]) -> NativeType:
    data_type = _s(row["DATA_TYPE"]).lower()
    column_type = _s(row["COLUMN_TYPE"])
    length = row["CHARACTER_MAXIMUM_LENGTH"]
    precision = row["NUMERIC_PRECISION"]
    scale = row["NUMERIC_SCALE"]
    values: tuple[str, ...] = ()
    if data_type in ("tinyint", "smallint", "mediumint", "int", "bigint"):
        m = _WIDTH.match(column_type)
        length, precision, scale = (int(m.group(1)) if m else None), None, None
    elif data_type == "bit":
        length, precision, scale = int(precision), None, None
    elif data_type in ("decimal", "numeric"):
        length = None
    elif data_type in ("date", "datetime", "timestamp", "time"):
        length, precision, scale = None, row.get("DATETIME_PRECISION"), None
    elif data_type in ("enum", "set"):
        values, length = parse_members(column_type), None
    elif data_type in ("float", "double", "real", "year"):
        length, precision, scale = None, None, None
    return NativeType(
        name=data_type,
        length=int(length) if length is not None else None,
        precision=int(precision) if precision is not None else None,
        scale=int(scale) if scale is not None else None,
        unsigned="unsigned" in column_type.lower(),
        values=values,
        raw=column_type,
    )


def column_default(row: dict[str, Any], is_mariadb: bool) -> str | None:
    """The default as SQL text: MariaDB already quotes literals; MySQL 8 does not."""
    default: str | None = _s(row["COLUMN_DEFAULT"])
    if default is None or (is_mariadb and default == "NULL"):
        return None
    extra = (_s(row["EXTRA"]) or "").lower()
    if is_mariadb or "default_generated" in extra:
        return default
    data_type = _s(row["DATA_TYPE"]).lower()
    if data_type in ("tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float",
                     "double", "year"):  # fmt: skip
        return default
    if data_type == "bit":
        return default  # MySQL shows b'0'
    return "'" + default.replace("'", "''") + "'"


def _in(column: str, values: Sequence[str] | None) -> tuple[str, list[str]]:
    if not values:
        marks = ", ".join(["%s"] * len(SYSTEM_SCHEMAS))
        return f"{column} NOT IN ({marks})", list(SYSTEM_SCHEMAS)
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _dicts(connector: MySQLConnector, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    with connector.conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d[0].upper() for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def introspect(
    connector: MySQLConnector,
    schemas: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
) -> DatabaseSchema:
    version = connector.run("SELECT VERSION()")[0][0]
    is_mariadb = "mariadb" in version.lower()
    sch_sql, sch_params = _in("TABLE_SCHEMA", schemas)
    tab_sql, tab_params = ("", []) if not tables else _in("TABLE_NAME", tables)
    filt = sch_sql + (f" AND {tab_sql}" if tab_sql else "")
    params = sch_params + tab_params

    def q(sql: str) -> list[dict[str, Any]]:
        return _dicts(connector, sql.format(filt=filt), params)

    rels = q(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, "
        "TABLE_COMMENT, AUTO_INCREMENT FROM information_schema.TABLES WHERE {filt} "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME"
    )
    cols = q("SELECT * FROM information_schema.COLUMNS WHERE {filt} ORDER BY ORDINAL_POSITION")
    stats = q(
        "SELECT * FROM information_schema.STATISTICS WHERE {filt} "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
    )
    fk_filt = filt.replace("TABLE_SCHEMA", "k.TABLE_SCHEMA").replace("TABLE_NAME", "k.TABLE_NAME")
    fks = _dicts(
        connector,
        "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, "
        "k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
        "r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "AND r.TABLE_NAME = k.TABLE_NAME "
        f"WHERE {fk_filt} AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        params,
    )
    checks = _checks(connector, filt, params, is_mariadb)
    view_rows = q(
        "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS "
        "WHERE {filt}"
    )
    views = {
        (_s(v["TABLE_SCHEMA"]), _s(v["TABLE_NAME"])): _s(v["VIEW_DEFINITION"]) for v in view_rows
    }

    by_table: dict[tuple[str, str], list[Column]] = defaultdict(list)
    json_cols = {(s, t, c) for s, t, c, _, _ in checks if c}
    for row in cols:
        key = (_s(row["TABLE_SCHEMA"]), _s(row["TABLE_NAME"]))
        native = native_type(row)
        name = _s(row["COLUMN_NAME"])
        if (*key, name) in json_cols and native.name == "longtext":
            native = NativeType(name="json", raw="json")  # MariaDB's JSON alias
        extra = (_s(row["EXTRA"]) or "").lower()
        generated = _s(row.get("GENERATION_EXPRESSION")) or None
        by_table[key].append(
            Column(
                name=name,
                native=native,
                nullable=_s(row["IS_NULLABLE"]) == "YES",
                default=None if generated else column_default(row, is_mariadb),
                is_identity="auto_increment" in extra,
                generated=generated,
                generated_stored="stored" in extra or "persistent" in extra,
                charset=_s(row["CHARACTER_SET_NAME"]),
                collation=_s(row["COLLATION_NAME"]),
                comment=_s(row["COLUMN_COMMENT"]) or None,
                ordinal=int(row["ORDINAL_POSITION"]),
            )
        )
    pks: dict[tuple[str, str], list[str]] = defaultdict(list)
    idx_parts: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in stats:
        key = (_s(row["TABLE_SCHEMA"]), _s(row["TABLE_NAME"]))
        name = _s(row["INDEX_NAME"])
        if name == "PRIMARY":
            pks[key].append(_s(row["COLUMN_NAME"]))
        else:
            idx_parts[key][name].append(row)
    uniques: dict[tuple[str, str], list[UniqueConstraint]] = defaultdict(list)
    indexes: dict[tuple[str, str], list[Index]] = defaultdict(list)
    for key, by_name in idx_parts.items():
        for name, parts in by_name.items():
            columns = tuple(_s(p["COLUMN_NAME"]) for p in parts)
            expressions = tuple(_s(p["EXPRESSION"]) for p in parts if p.get("EXPRESSION"))
            unique = int(parts[0]["NON_UNIQUE"]) == 0
            method = (_s(parts[0]["INDEX_TYPE"]) or "").lower() or None
            prefix = any(p.get("SUB_PART") for p in parts)
            if unique and not expressions and not prefix and None not in columns:
                uniques[key].append(UniqueConstraint(name, columns))
            else:
                indexes[key].append(Index(name, columns, unique, expressions, method))
    fk_parts: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in fks:
        key = (_s(row["TABLE_SCHEMA"]), _s(row["TABLE_NAME"]))
        fk_parts[key][_s(row["CONSTRAINT_NAME"])].append(row)
    foreign: dict[tuple[str, str], list[ForeignKey]] = defaultdict(list)
    for key, by_name in fk_parts.items():
        for name, parts in by_name.items():
            p0 = parts[0]
            foreign[key].append(
                ForeignKey(
                    name,
                    tuple(_s(p["COLUMN_NAME"]) for p in parts),
                    _s(p0["REFERENCED_TABLE_SCHEMA"]),
                    _s(p0["REFERENCED_TABLE_NAME"]),
                    tuple(_s(p["REFERENCED_COLUMN_NAME"]) for p in parts),
                    on_delete=_s(p0["DELETE_RULE"]),
                    on_update=_s(p0["UPDATE_RULE"]),
                )
            )
    table_checks: dict[tuple[str, str], list[CheckConstraint]] = defaultdict(list)
    for s, t, col, name, clause in checks:
        if not col:  # json_valid() checks are MariaDB's JSON type, not user checks
            table_checks[(s, t)].append(CheckConstraint(name, clause))
    out = []
    for r in rels:
        key = (_s(r["TABLE_SCHEMA"]), _s(r["TABLE_NAME"]))
        is_view = _s(r["TABLE_TYPE"]) == "VIEW"
        size = None if is_view else int(r["DATA_LENGTH"] or 0) + int(r["INDEX_LENGTH"] or 0)
        out.append(
            Table(
                schema=key[0],
                name=key[1],
                columns=tuple(by_table.get(key, [])),
                kind="view" if is_view else "table",
                primary_key=tuple(pks.get(key, [])),
                primary_key_name="PRIMARY" if key in pks else None,
                uniques=tuple(uniques.get(key, [])),
                foreign_keys=tuple(foreign.get(key, [])),
                indexes=tuple(indexes.get(key, [])),
                checks=tuple(table_checks.get(key, [])),
                row_estimate=None if is_view else int(r["TABLE_ROWS"] or 0),
                size_bytes=size,
                comment=(_s(r["TABLE_COMMENT"]) or None) if not is_view else None,
                view_definition=views.get(key),
                identity_next=int(r["AUTO_INCREMENT"]) if r.get("AUTO_INCREMENT") else None,
            )
        )
    flavour = "MariaDB" if is_mariadb else "MySQL"
    others = _others(connector, schemas, tables)
    return DatabaseSchema("mysql", f"{flavour} {version}", tuple(out), others=others)


def _others(
    connector: MySQLConnector, schemas: Sequence[str] | None, tables: Sequence[str] | None
) -> tuple[SchemaObject, ...]:
    """Triggers, procedures, functions and events: listed (a job names them as not
    migrated), never translated."""
    trig_sql, trig_params = _in("TRIGGER_SCHEMA", schemas)
    if tables:
        more, extra = _in("EVENT_OBJECT_TABLE", tables)
        trig_sql, trig_params = f"{trig_sql} AND {more}", trig_params + extra
    out = [
        SchemaObject("trigger", _s(r["S"]), _s(r["N"]), _s(r["T"]))
        for r in _dicts(
            connector,
            "SELECT TRIGGER_SCHEMA AS s, TRIGGER_NAME AS n, EVENT_OBJECT_TABLE AS t FROM "
            f"information_schema.TRIGGERS WHERE {trig_sql} ORDER BY 1, 2",
            trig_params,
        )
    ]
    if not tables:  # routines and events belong to the database, not to chosen tables
        rout_sql, rout_params = _in("ROUTINE_SCHEMA", schemas)
        out += [
            SchemaObject(_s(r["K"]).lower(), _s(r["S"]), _s(r["N"]))
            for r in _dicts(
                connector,
                "SELECT ROUTINE_SCHEMA AS s, ROUTINE_NAME AS n, ROUTINE_TYPE AS k FROM "
                f"information_schema.ROUTINES WHERE {rout_sql} ORDER BY 1, 2",
                rout_params,
            )
        ]
        ev_sql, ev_params = _in("EVENT_SCHEMA", schemas)
        out += [
            SchemaObject("event", _s(r["S"]), _s(r["N"]))
            for r in _dicts(
                connector,
                "SELECT EVENT_SCHEMA AS s, EVENT_NAME AS n FROM information_schema.EVENTS "
                f"WHERE {ev_sql} ORDER BY 1, 2",
                ev_params,
            )
        ]
    return tuple(out)


def _checks(
    connector: MySQLConnector, filt: str, params: list[Any], is_mariadb: bool
) -> list[tuple[str, str, str | None, str, str]]:
    """(schema, table, json column or None, name, clause) for every CHECK constraint."""
    if is_mariadb:
        f = filt.replace("TABLE_SCHEMA", "CONSTRAINT_SCHEMA")
        rows = _dicts(
            connector,
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL "
            f"FROM information_schema.CHECK_CONSTRAINTS WHERE {f}",
            params,
        )
    else:
        f = filt.replace("TABLE_SCHEMA", "t.TABLE_SCHEMA").replace("TABLE_NAME", "t.TABLE_NAME")
        rows = _dicts(
            connector,
            "SELECT t.TABLE_SCHEMA AS CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, "
            "c.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS t "
            "JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.TABLE_SCHEMA "
            f"AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME WHERE t.CONSTRAINT_TYPE = 'CHECK' AND {f}",
            params,
        )
    out = []
    for r in rows:
        clause = _s(r["CHECK_CLAUSE"])
        m = _JSON_CHECK.match(clause.strip())
        column = m.group(1).replace("``", "`") if m and _s(r.get("LEVEL")) == "Column" else None
        schema, table, name = (
            _s(r[k]) for k in ("CONSTRAINT_SCHEMA", "TABLE_NAME", "CONSTRAINT_NAME")
        )
        out.append((schema, table, column, name, clause))
    return out
