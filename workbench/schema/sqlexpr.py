"""SQL that users and catalogs hand us, parsed and re-rendered: never pasted.

Three kinds of text end up inside SQL the workbench runs:

- a column expression (a transform's ``expression``, a column override's ``read``, a
  generated column's definition): :func:`column_expression` parses it with sqlglot in its
  dialect and accepts it only as an expression over the row's own columns, built from
  literals, operators, ``CASE``/``IF``, casts and functions from :data:`ALLOWED_FUNCTIONS`:
  no subquery, no ``INTO``, no comment, no second statement, no file or system function.
  What runs is rendered from the parsed tree.
- a PostgreSQL type name (type and column overrides): :func:`pg_type` accepts only the
  grammar of a type (``numeric(12,2)``, ``timestamp(3) with time zone``, ``text[]``,
  ``"shop"."mood"``), nothing after it.
- a view's query, from the source's catalog: :func:`translate_view` turns one SELECT into
  PostgreSQL, with its tables moved to their target schema.

Each refusal is an :class:`~workbench.errors.InvalidInputError` naming the text and why.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

from workbench.errors import InvalidInputError, UnsupportedError

if TYPE_CHECKING:
    from sqlglot.expressions import Expr

# sqlglot is imported where an expression is parsed (0.12 s that a copy without transforms,
# generated columns or views does not spend)

SQLGLOT_DIALECT = {
    "mysql": "mysql",
    "postgresql": "postgres",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "files": "duckdb",
}

# Functions an expression may call, by sqlglot's name for them (typed nodes such as
# exp.Upper are named by their class; unknown functions are exp.Anonymous, named by text).
# Pure, deterministic value functions only: nothing that reads files, sleeps, asks the server
# about itself or its users, or depends on the session.
ALLOWED_FUNCTIONS = frozenset(
    {
        # text
        "upper", "lower", "trim", "ltrim", "rtrim", "substring", "substr", "left", "right",
        "length", "char_length", "character_length", "replace", "concat", "concat_ws",
        "lpad", "rpad", "reverse", "initcap", "strpos", "locate", "instr", "position",
        "repeat", "split_part", "md5", "sha1", "sha2", "to_base64", "hex", "unhex",
        "regexp_replace", "regexp_like", "ascii", "chr", "char", "format", "stuff",
        # numbers
        "abs", "ceil", "ceiling", "floor", "round", "trunc", "truncate", "mod", "power",
        "pow", "sqrt", "exp", "ln", "log", "log10", "log2", "sign", "greatest", "least",
        # null handling and conditionals
        "coalesce", "ifnull", "nullif", "nvl", "if", "iif",
        # dates and times (of the row's values: no clock)
        "date", "time", "year", "month", "day", "dayofmonth", "dayofweek", "dayofyear",
        "hour", "minute", "second", "microsecond", "extract", "date_trunc", "datetrunc",
        "date_format", "str_to_date", "to_char", "to_date", "to_timestamp", "strftime",
        "timetostr", "strtotime", "strtodate", "tsordstotimestamp", "tsordstodate",
        "tsordstostr", "dateadd", "datesub", "date_add", "date_sub", "datediff",
        "timestampadd", "timestampdiff", "makedate", "maketime", "unix_timestamp",
        "from_unixtime", "unixtotime", "timetounix", "timestrtotime", "timestrtodate",
        "last_day", "lastday", "week", "weekofyear", "quarter", "monthname", "dayname",
        # json values of the row
        "json_extract", "json_unquote", "jsonextract", "jsonextractscalar", "json_value",
        "jsonb_extract_path_text", "json_extract_path_text",
    }
)  # fmt: skip


@functools.cache
def _forbidden() -> tuple[type, ...]:
    """Nodes that make an expression something else than a value of the row."""
    from sqlglot import exp

    return (
        exp.Query,
        exp.Subquery,
        exp.Into,
        exp.Command,
        exp.Table,
        exp.Star,
        exp.Placeholder,
        exp.Parameter,
        exp.SessionParameter,
        exp.Var,
    )


_SQL_KEYWORDS_AFTER = re.compile(r"\b(INTO|OUTFILE|DUMPFILE)\b", re.I)


def _refuse(what: str, text: str, why: str) -> InvalidInputError:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return InvalidInputError(
        f"{what} {shown!r} is refused: {why}. Expressions may use the row's own columns, "
        "literals, operators, CASE, casts and common value functions (see "
        "workbench.schema.sqlexpr.ALLOWED_FUNCTIONS)",
        expression=shown,
    )


def _function_name(node: Expr) -> str | None:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return type(node).__name__.lower()
    return None


def _sql_function_names(node: Expr) -> set[str]:
    """Every name sqlglot knows the node's function by (class name and SQL names)."""
    from sqlglot import exp

    names = {type(node).__name__.lower()}
    if isinstance(node, exp.Anonymous):
        names.add(str(node.name).lower())
    for sql_name in getattr(type(node), "sql_names", lambda: [])() or []:
        names.add(sql_name.lower())
    return names


def column_expression(
    text: str,
    dialect: str,
    columns: Collection[str] | None,
    *,
    what: str = "Expression",
) -> str:
    """``text`` checked as an expression over ``columns`` in ``dialect``, re-rendered."""
    tree = parse_column_expression(text, dialect, columns, what=what)
    return tree.sql(dialect=SQLGLOT_DIALECT[dialect])


def parse_column_expression(
    text: str, dialect: str, columns: Collection[str] | None, *, what: str = "Expression"
) -> Expr:
    """The parsed expression, refused unless it is a value of the row (see the module's
    docstring); ``columns=None`` accepts any bare column name (checked again where the table
    is known)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, SqlglotError

    if not isinstance(text, str) or not text.strip():
        raise _refuse(what, str(text), "it is empty")
    read = SQLGLOT_DIALECT.get(dialect)
    if read is None:
        raise UnsupportedError(f"No SQL expression support for dialect {dialect!r}")
    try:
        parsed = sqlglot.parse(text, read=read)
    except (ParseError, SqlglotError) as exc:
        first = str(exc).splitlines()[0]
        raise _refuse(what, text, f"it is not one SQL expression ({first})") from None
    statements = [s for s in parsed if s is not None]
    if len(statements) != 1:
        raise _refuse(what, text, "it holds more than one statement")
    tree = statements[0]
    known = None if columns is None else {c.lower(): c for c in columns}
    for node in tree.walk():
        if node.comments:
            raise _refuse(what, text, "it holds a comment")
        if isinstance(node, _forbidden()):
            kind = type(node).__name__.lower()
            raise _refuse(what, text, f"it holds a {kind} (only values of the row are allowed)")
        if isinstance(node, exp.Column):
            if node.table:
                raise _refuse(what, text, f"column {node.sql()} names another table")
            if known is not None and node.name.lower() not in known:
                raise _refuse(
                    what, text, f"{node.name!r} is not a column of this table ({sorted(known)})"
                )
        if isinstance(node, exp.Func) and not isinstance(
            node, exp.Cast | exp.TryCast | exp.Case | exp.If | exp.Coalesce | exp.Paren
        ):
            names = _sql_function_names(node)
            if not names & ALLOWED_FUNCTIONS:
                shown = _function_name(node) or type(node).__name__
                raise _refuse(what, text, f"function {shown.upper()} is not allowed")
    if _SQL_KEYWORDS_AFTER.search(tree.sql(dialect=read)):
        raise _refuse(what, text, "it writes to a file")
    return tree


# --- generated columns ----------------------------------------------------------------------


@functools.cache
def _immutable_nodes() -> tuple[type, ...]:
    """What a PostgreSQL generated column may use and stay IMMUTABLE whatever its operands'
    types (|| is immutable only between texts: checked separately)."""
    from sqlglot import exp

    return (
        exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren,
        exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.IntDiv,
        exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.And, exp.Or, exp.Not,
        exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least,
        exp.Upper, exp.Lower, exp.Trim, exp.Length, exp.Abs, exp.Round, exp.Floor, exp.Ceil,
        exp.Substring, exp.DPipe, exp.Concat, exp.Between, exp.In, exp.Tuple,
    )  # fmt: skip


_TEXT_TYPES = ("text", "character varying", "varchar", "char", "character", "bpchar")


def generated_expression(
    text: str, dialect: str, column_types: Mapping[str, str], rename: Mapping[str, str]
) -> str:
    """A source generated column's expression as a PostgreSQL ``GENERATED ALWAYS AS``
    expression, or UnsupportedError (the column is then loaded as plain values).

    Only expressions PostgreSQL accepts as immutable are translated: arithmetic, comparisons,
    CASE, COALESCE and a few text and number functions over the row's columns; ``||`` (or
    CONCAT) only between text columns and literals. ``column_types`` are the target's types
    by source column name, ``rename`` the target names by source name."""
    from sqlglot import exp

    try:
        tree = parse_column_expression(text, dialect, column_types, what="Generated column")
    except InvalidInputError as exc:
        raise UnsupportedError(str(exc).split(". Expressions may", 1)[0]) from None
    lower = {k.lower(): v.lower() for k, v in column_types.items()}

    def is_text(node: Expr) -> bool:
        if isinstance(node, exp.Paren):
            return is_text(node.this)
        if isinstance(node, exp.Literal):
            return node.is_string
        if isinstance(node, exp.Column):
            return lower.get(node.name.lower(), "").startswith(_TEXT_TYPES)
        if isinstance(node, exp.Upper | exp.Lower | exp.Trim | exp.Substring):
            return is_text(node.this)
        if isinstance(node, exp.DPipe | exp.Concat):
            return (
                all(is_text(e) for e in node.expressions)
                if isinstance(node, exp.Concat)
                else is_text(node.left) and is_text(node.right)
            )
        return False

    for node in tree.walk():
        if not isinstance(node, _immutable_nodes()):
            name = _function_name(node) or type(node).__name__
            raise UnsupportedError(f"{name.upper()} is not known to be immutable in PostgreSQL")
        if isinstance(node, exp.DPipe | exp.Concat) and not is_text(node):
            raise UnsupportedError("it joins non-text values (not immutable in PostgreSQL)")
    by_lower = {k.lower(): v for k, v in rename.items()}
    for column in list(tree.find_all(exp.Column)):
        target = by_lower.get(column.name.lower(), column.name)
        column.set("this", exp.to_identifier(target, quoted=True))
    rendered = tree.sql(dialect="postgres")
    if "CONCAT(" in rendered.upper():  # PostgreSQL's concat() is only stable
        raise UnsupportedError("CONCAT of these values is not immutable in PostgreSQL")
    return rendered


# --- PostgreSQL type names ------------------------------------------------------------------

_WORD = r"[A-Za-z_][A-Za-z0-9_$]*"
_QUOTED = r'"(?:[^"]|"")+"'
_NAME = rf"(?:{_WORD}|{_QUOTED})"
_TYPE = re.compile(
    rf"""^\s*
    (?:{_NAME}\s*\.\s*)?{_NAME}                      # (schema.)name
    (?:\s+(?:{_WORD}))*                              # more words: double precision, varying
    (?:\s*\(\s*\d+\s*(?:,\s*-?\d+\s*)?\))?           # (p) or (p, s)
    (?:\s+(?:with|without)\s+time\s+zone)?           # timestamp(3) with time zone
    (?:\s*\[\s*\d*\s*\])*                            # array dimensions
    \s*$""",
    re.X | re.I,
)


def pg_type(text: object, *, what: str = "Type") -> str:
    """``text`` if it is a PostgreSQL type name and nothing else; else InvalidInputError."""
    if not isinstance(text, str) or not _TYPE.match(text) or "--" in text or ";" in text:
        shown = str(text) if len(str(text)) <= 120 else str(text)[:117] + "..."
        raise InvalidInputError(
            f"{what} {shown!r} is not a PostgreSQL type name (e.g. numeric(12,2), "
            "timestamp(3) with time zone, text[], varchar(40))",
            type=shown,
        )
    return " ".join(text.split())


# --- views --------------------------------------------------------------------------------


def translate_view(
    query: str,
    dialect: str,
    rename_table: Callable[[str | None, str], tuple[str | None, str] | None],
) -> str:
    """A view's SELECT in PostgreSQL; ``rename_table(schema, name)`` gives each source table's
    (schema, name) in the target, or None when the view reads a table that was not copied.

    Raises UnsupportedError naming what could not be translated."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, SqlglotError

    read = SQLGLOT_DIALECT.get(dialect)
    if read is None:
        raise UnsupportedError(f"Views of {dialect} sources are not translated")
    try:
        statements = [s for s in sqlglot.parse(query, read=read) if s is not None]
    except (ParseError, SqlglotError) as exc:
        raise UnsupportedError(
            f"its query does not parse as {dialect} ({str(exc).splitlines()[0]})"
        ) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise UnsupportedError("its definition is not one SELECT")
    tree = statements[0]
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not table.db and table.name.lower() in ctes:
            continue
        target = rename_table(table.db or None, table.name)
        if target is None:
            raise UnsupportedError(f"it reads {table.sql(dialect=read)}, which was not copied")
        table.set("db", exp.to_identifier(target[0], quoted=True))
        table.set("this", exp.to_identifier(target[1], quoted=True))
        table.set("catalog", None)
    for column in list(tree.find_all(exp.Column)):
        if column.args.get("db") is not None and column.table:  # db.table.column (MySQL)
            target = rename_table(column.text("db") or None, column.table)
            if target is None:
                raise UnsupportedError(f"it reads {column.sql(dialect=read)}, which was not copied")
            column.set("db", exp.to_identifier(target[0], quoted=True))
            column.set("table", exp.to_identifier(target[1], quoted=True))
            column.set("catalog", None)
    for node in tree.walk():
        if isinstance(node, exp.Anonymous):
            raise UnsupportedError(
                f"it calls {str(node.name).upper()}(), which has no PostgreSQL translation"
            )
    try:
        return tree.sql(dialect="postgres", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise UnsupportedError(f"it cannot be written in PostgreSQL ({exc})") from None


def identifiers_of(mapping: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased lookup of a name map (MySQL table names are case-insensitive on most hosts)."""
    return {k.lower(): v for k, v in mapping.items()}
