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


Row = dict[str, Any]
TableKey = tuple[str, str]

# the bulk queries: {filt} is the schema (and table) filter of _filter, its params bound to %s
RELATIONS = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH, INDEX_LENGTH, "
    "TABLE_COMMENT, AUTO_INCREMENT FROM information_schema.TABLES WHERE {filt} "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME"
)
COLUMNS = "SELECT * FROM information_schema.COLUMNS WHERE {filt} ORDER BY ORDINAL_POSITION"
STATISTICS = (
    "SELECT * FROM information_schema.STATISTICS WHERE {filt} "
    "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
)
FOREIGN_KEYS = (  # {filt} qualified with k.
    "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, "
    "k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, "
    "r.UPDATE_RULE, r.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
    "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
    "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
    "AND r.TABLE_NAME = k.TABLE_NAME "
    "WHERE {filt} AND k.REFERENCED_TABLE_NAME IS NOT NULL "
    "ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
)
# MariaDB's CHECK_CONSTRAINTS has TABLE_NAME and LEVEL; MySQL 8's needs TABLE_CONSTRAINTS
MARIADB_CHECKS = (  # {filt} with CONSTRAINT_SCHEMA for TABLE_SCHEMA
    "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE, LEVEL "
    "FROM information_schema.CHECK_CONSTRAINTS WHERE {filt}"
)
MYSQL_CHECKS = (  # {filt} qualified with t.
    "SELECT t.TABLE_SCHEMA AS CONSTRAINT_SCHEMA, t.TABLE_NAME, c.CONSTRAINT_NAME, "
    "c.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS t "
    "JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.TABLE_SCHEMA "
    "AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME WHERE t.CONSTRAINT_TYPE = 'CHECK' AND {filt}"
)
VIEWS = (
    "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE {filt}"
)


def introspect(
    connector: MySQLConnector,
    schemas: Sequence[str] | None = None,
    tables: Sequence[str] | None = None,
) -> DatabaseSchema:
    version = connector.run("SELECT VERSION()")[0][0]
    is_mariadb = "mariadb" in version.lower()
    filt, params = _filter(schemas, tables)

    def q(template: str, condition: str = filt) -> list[Row]:
        return _dicts(connector, template.format(filt=condition), params)

    rels = q(RELATIONS)
    cols = _by_table(q(COLUMNS))
    stats = _by_table(q(STATISTICS))
    fks = _by_table(q(FOREIGN_KEYS, _qualified(filt, "k")))
    if is_mariadb:
        check_rows = q(MARIADB_CHECKS, filt.replace("TABLE_SCHEMA", "CONSTRAINT_SCHEMA"))
    else:
        check_rows = q(MYSQL_CHECKS, _qualified(filt, "t"))
    checks = _by_table(check_rows, schema_column="CONSTRAINT_SCHEMA")
    views = {_key(v): _s(v["VIEW_DEFINITION"]) for v in q(VIEWS)}

    out = []
    for rel in rels:
        key = _key(rel)
        table_checks = checks.get(key, [])
        columns = _columns(cols.get(key, []), _json_columns(table_checks), is_mariadb)
        out.append(
            _table(rel, columns, stats.get(key, []), fks.get(key, []), table_checks, views.get(key))
        )
    flavour = "MariaDB" if is_mariadb else "MySQL"
    others = _others(connector, schemas, tables)
    return DatabaseSchema("mysql", f"{flavour} {version}", tuple(out), others=others)


def _filter(schemas: Sequence[str] | None, tables: Sequence[str] | None) -> tuple[str, list[str]]:
    """The WHERE filter on TABLE_SCHEMA (and TABLE_NAME) shared by the bulk queries."""
    sch_sql, sch_params = _in("TABLE_SCHEMA", schemas)
    if not tables:
        return sch_sql, sch_params
    tab_sql, tab_params = _in("TABLE_NAME", tables)
    return f"{sch_sql} AND {tab_sql}", sch_params + tab_params


def _qualified(filt: str, alias: str) -> str:
    """The filter for a join, its columns prefixed with the alias of the filtered table."""
    return filt.replace("TABLE_SCHEMA", f"{alias}.TABLE_SCHEMA").replace(
        "TABLE_NAME", f"{alias}.TABLE_NAME"
    )


def _key(row: Row, schema_column: str = "TABLE_SCHEMA") -> TableKey:
    return _s(row[schema_column]), _s(row["TABLE_NAME"])


def _by_table(rows: list[Row], schema_column: str = "TABLE_SCHEMA") -> dict[TableKey, list[Row]]:
    """Rows grouped by (schema, table), each group in query order."""
    out: dict[TableKey, list[Row]] = defaultdict(list)
    for row in rows:
        out[_key(row, schema_column)].append(row)
    return out


def _grouped(rows: list[Row], name_column: str) -> dict[str, list[Row]]:
    """One table's rows grouped by constraint or index name, in query order."""
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        out[_s(row[name_column])].append(row)
    return out


def _columns(rows: list[Row], json_columns: set[str], is_mariadb: bool) -> tuple[Column, ...]:
    return tuple(_column(row, json_columns, is_mariadb) for row in rows)


def _column(row: Row, json_columns: set[str], is_mariadb: bool) -> Column:
    native = native_type(row)
    name = _s(row["COLUMN_NAME"])
    if name in json_columns and native.name == "longtext":
        native = NativeType(name="json", raw="json")  # MariaDB's JSON alias
    extra = (_s(row["EXTRA"]) or "").lower()
    generated = _s(row.get("GENERATION_EXPRESSION")) or None
    return Column(
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
        on_update_now="on update" in extra,
    )


def _json_column(row: Row) -> str | None:
    """The column a MariaDB JSON column's json_valid() check is on (None: a user check)."""
    m = _JSON_CHECK.match(_s(row["CHECK_CLAUSE"]).strip())
    return m.group(1).replace("``", "`") if m and _s(row.get("LEVEL")) == "Column" else None


def _json_columns(check_rows: list[Row]) -> set[str]:
    return {c for c in map(_json_column, check_rows) if c}


def _checks(check_rows: list[Row]) -> tuple[CheckConstraint, ...]:
    # json_valid() checks are MariaDB's JSON type, not user checks
    return tuple(
        CheckConstraint(_s(r["CONSTRAINT_NAME"]), _s(r["CHECK_CLAUSE"]))
        for r in check_rows
        if not _json_column(r)
    )


def _keys(stats: list[Row]) -> tuple[tuple[UniqueConstraint, ...], tuple[Index, ...]]:
    """A table's unique constraints and other indexes (the primary key excluded)."""
    uniques: list[UniqueConstraint] = []
    indexes: list[Index] = []
    for name, parts in _grouped(stats, "INDEX_NAME").items():
        if name == "PRIMARY":
            continue
        columns = tuple(_s(p["COLUMN_NAME"]) for p in parts)
        expressions = tuple(_s(p["EXPRESSION"]) for p in parts if p.get("EXPRESSION"))
        unique = int(parts[0]["NON_UNIQUE"]) == 0
        method = (_s(parts[0]["INDEX_TYPE"]) or "").lower() or None
        prefix = any(p.get("SUB_PART") for p in parts)
        # prefix and expression parts have no UNIQUE-constraint form: they stay indexes
        if unique and not expressions and not prefix and None not in columns:
            uniques.append(UniqueConstraint(name, columns))
        else:
            indexes.append(Index(name, columns, unique, expressions, method))
    return tuple(uniques), tuple(indexes)


def _foreign_keys(rows: list[Row]) -> tuple[ForeignKey, ...]:
    out = []
    for name, parts in _grouped(rows, "CONSTRAINT_NAME").items():
        p0 = parts[0]
        out.append(
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
    return tuple(out)


def _table(
    rel: Row,
    columns: tuple[Column, ...],
    stats: list[Row],
    fks: list[Row],
    check_rows: list[Row],
    view_definition: str | None,
) -> Table:
    schema, name = _key(rel)
    is_view = _s(rel["TABLE_TYPE"]) == "VIEW"
    size = None if is_view else int(rel["DATA_LENGTH"] or 0) + int(rel["INDEX_LENGTH"] or 0)
    primary_key = tuple(_s(r["COLUMN_NAME"]) for r in stats if _s(r["INDEX_NAME"]) == "PRIMARY")
    uniques, indexes = _keys(stats)
    return Table(
        schema=schema,
        name=name,
        columns=columns,
        kind="view" if is_view else "table",
        primary_key=primary_key,
        primary_key_name="PRIMARY" if primary_key else None,
        uniques=uniques,
        foreign_keys=_foreign_keys(fks),
        indexes=indexes,
        checks=_checks(check_rows),
        row_estimate=None if is_view else int(rel["TABLE_ROWS"] or 0),
        size_bytes=size,
        comment=(_s(rel["TABLE_COMMENT"]) or None) if not is_view else None,
        view_definition=view_definition,
        identity_next=int(rel["AUTO_INCREMENT"]) if rel.get("AUTO_INCREMENT") else None,
    )


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
