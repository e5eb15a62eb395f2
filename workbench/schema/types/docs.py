"""Render docs/type-mapping.md from the rule tables (a test keeps the file current).

Regenerate: ``python -m workbench.schema.types.docs > docs/type-mapping.md``
"""

from __future__ import annotations

from workbench.schema.types import duckdb, mysql, postgres, sqlite
from workbench.schema.types.model import TypeOptions, TypeRule

SECTIONS = (
    ("MySQL and MariaDB", mysql),
    ("PostgreSQL", postgres),
    ("SQLite", sqlite),
    ("DuckDB, CSV and Parquet folders", duckdb),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(rule: TypeRule) -> str:
    option = f"`{rule.option}`" if rule.option else ""
    read = f"`{_cell(rule.read.replace('{{', '{').replace('}}', '}'))}`" if rule.read else ""
    return (
        f"| {_cell(rule.source)} | {_cell(rule.target)} | {option} | {read} | {_cell(rule.note)} |"
    )


def type_mapping_markdown() -> str:
    defaults = TypeOptions()
    lines = [
        "# Type mapping into PostgreSQL",
        "",
        "Generated from `workbench/schema/types/` by "
        "`python -m workbench.schema.types.docs`; do not edit by hand.",
        "",
        "Rows are tried top to bottom; the first that matches the column's native type and the",
        "options wins. *Read expression* is SQL in the source dialect that the connector runs",
        "instead of the plain column (`{col}` is the quoted column). Override a row with",
        "`TypeOptions(type_overrides={'<source>': '<postgres type>'})` or one column with",
        "`column_overrides={'table.column': '<postgres type>'}`.",
        "",
        "Options and their defaults: "
        + ", ".join(
            f"`{k}={getattr(defaults, k)!r}`"
            for k in (
                "tinyint1_as_boolean",
                "enum",
                "set_as",
                "zero_dates",
                "enum_invalid",
                "time_as",
                "geometry",
                "naming",
                "collations",
            )
        ),
        "",
        "PostgreSQL -> PostgreSQL keeps each column's collation (`collations='keep'`): the",
        "source's own collations are made in the target, PostgreSQL's (`\"C\"`, `und-x-icu`,",
        "the system's locales) must exist there, or the job stops before copying, naming the",
        "collation; `collations='default'` gives such columns the target database's collation.",
        "Other sources' collations have no PostgreSQL name: their columns take the target's.",
        "",
    ]
    for title, module in SECTIONS:
        doc = (module.__doc__ or "").strip()
        lines += [f"## {title}", "", doc, ""]
        lines += [
            "| source | PostgreSQL | option | read expression | notes |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [_row(r) for r in module.RULES]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(type_mapping_markdown(), end="")
