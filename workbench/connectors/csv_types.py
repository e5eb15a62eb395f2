"""The types a CSV file's columns are read as: DuckDB's sniffer, checked against every row.

DuckDB types a CSV's columns from a sample of its first rows. Two ways that loses data:
a value past the sample that does not fit the sampled type (``n/a`` in a column of numbers)
failed the copy mid-table, and decimals (``19.99``, ``12345678901234567.891``) were read as
DOUBLE, which keeps 15-17 significant digits and lands as ``double precision``. So before a
CSV is read, every row is checked (two parallel scans, about 1 s per 175 MB):

- a line the reader cannot take at all (more or fewer fields than the header, bytes that are not
  the file's encoding, an unterminated quote) stops the job before anything is copied, with
  the file, the line and what to do (DuckDB read such lines as best it could, or failed the
  copy mid-table);
- a column with values its sampled type cannot take is read as text (a warning names the
  column, the line and the value): nothing is lost, a transform can cast it;
- a DOUBLE column whose every value is a plain decimal (no exponent, NaN or infinity) is read
  as ``DECIMAL(p, s)`` with the widest integer part and scale seen, so it lands as
  ``numeric(p, s)`` digit for digit; past DuckDB's 38 digits it is read as text.

Results are kept for a file of the same size and modification time, per process and in a
cache file under the system's temporary folder: the copy's worker processes on this host
create the same views and would otherwise check every file of the folder again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from workbench.connectors.duckdb import duckdb_module
from workbench.connectors.sqltext import quote_ident
from workbench.errors import InvalidInputError

log = logging.getLogger(__name__)

MAX_DECIMAL_DIGITS = 38  # DuckDB's widest DECIMAL
ENCODINGS = ("utf-8", "utf-16", "latin-1")  # the ones DuckDB reads without an extension
READER_MB = 128  # a bounded connection's memory for CSV files: the reader's buffers
DELIMITERS = (",", ";", "\t", "|")
_CHECKED: dict[tuple[str, int, int, str], dict[str, str]] = {}


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def encoding_of(url: str) -> str:
    """The ``?encoding=`` of a CSV folder's URL (UTF-8 when none)."""
    from urllib.parse import parse_qs

    asked = parse_qs(url.partition("?")[2]).get("encoding", ["utf-8"])[-1].lower()
    encoding = {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1"}.get(asked, asked)
    if encoding not in ENCODINGS:
        raise InvalidInputError(
            f"CSV encoding {asked!r} is not one DuckDB reads: use one of {', '.join(ENCODINGS)} "
            "(cp1252 files read as latin-1 but for a few symbols; convert others with iconv)"
        )
    return encoding


def type_overrides(duckdb: Any, path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """Column -> DuckDB type for the columns whose sniffed type the whole file contradicts
    or that hold decimals; empty when the sniffer's types hold. Raises InvalidInputError
    naming the first line the reader cannot take at all."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, encoding)
    if key in _CHECKED:
        return _CHECKED[key]
    cached = _cache_file(key)
    try:
        found = json.loads(cached.read_text())
    except (OSError, ValueError):
        conn = duckdb.connect(":memory:")
        warnings: list[str] = []
        try:
            found = {"types": _check(conn, path, encoding, warnings), "warnings": warnings}
        finally:
            conn.close()
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(found))
            partial.replace(cached)  # whole or absent, whoever writes it
        except OSError:
            log.debug("cannot keep the checked CSV types in %s", cached)
    for warning in found["warnings"]:  # once a process, from the cache too
        log.warning("%s", warning)
    types: dict[str, str] = found["types"]
    _CHECKED[key] = types
    return types


def _cache_file(key: tuple[str, int, int, str]) -> Path:
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / "workbench-csv-types" / f"{digest}.json"


def reader_sql(
    path: Path, overrides: dict[str, str], encoding: str = "utf-8", *options: str
) -> str:
    """``read_csv_auto(...)`` for ``path`` with ``overrides`` as its column types."""
    args = [sql_string(str(path)), *options]
    if encoding != "utf-8":
        args.append(f"encoding={sql_string(encoding)}")
    if overrides:
        types = ", ".join(f"{sql_string(n)}: {sql_string(t)}" for n, t in overrides.items())
        args.append(f"types={{{types}}}")
    return f"read_csv_auto({', '.join(args)})"


def _check(conn: Any, path: Path, encoding: str, warnings: list[str]) -> dict[str, str]:
    try:
        sniffed = conn.execute(
            "SELECT column_name, column_type FROM "
            f"(DESCRIBE SELECT * FROM {reader_sql(path, {}, encoding)})"
        ).fetchall()
    except duckdb_module().Error as exc:  # the sniffer's sample has a line it cannot take
        _refuse_lines(path, [_parsed(str(exc))], encoding)
        raise
    if len(sniffed) == 1:
        _refuse_ragged(conn, path, encoding)
    overrides: dict[str, str] = {}
    for _ in sniffed:  # each round reads a rejected column as text; rejects rarely need two
        rejected = _rejected(conn, path, overrides, encoding)
        if not rejected:
            break
        for column, line, value in rejected:
            warnings.append(
                f"{path.name}: column {column!r} is read as text: line {line} has a value its "
                f"sampled type cannot take ({value}); cast it in a transform if it should be a "
                "number or a date"
            )
            overrides[column] = "VARCHAR"
    doubles = [name for name, t in sniffed if t == "DOUBLE" and name not in overrides]
    overrides.update(_decimals(conn, path, doubles, encoding, warnings))
    return overrides


def _rejects(conn: Any, reader: str) -> list[tuple[str | None, int, str, str, str]]:
    """(column, line, error type, message, line's text) of every value or line ``reader``
    could not take, first line first."""
    conn.execute("DROP TABLE IF EXISTS reject_errors")
    conn.execute("DROP TABLE IF EXISTS reject_scans")
    reader = reader[:-1] + ", store_rejects=true)"
    conn.execute(f"SELECT count(COLUMNS(*)) FROM {reader}").fetchall()  # runs only when fetched
    return [
        (c, int(line), str(kind), str(message), str(text)[:80])
        for c, line, kind, message, text in conn.execute(
            "SELECT column_name, line, error_type, error_message, csv_line FROM reject_errors "
            "ORDER BY line"
        ).fetchall()
    ]


def _rejected(
    conn: Any, path: Path, overrides: dict[str, str], encoding: str
) -> list[tuple[str, int, str]]:
    """(column, line, value) of the first value each column could not take, reading every
    row with the sniffed types and ``overrides``; raises on a line it cannot take at all."""
    rejects = _rejects(conn, reader_sql(path, overrides, encoding))
    _refuse_lines(path, [r for r in rejects if r[2] != "CAST"], encoding)
    first: dict[str, tuple[str, int, str]] = {}
    for column, line, _, _, text in rejects:
        first.setdefault(str(column), (str(column), line, text))
    return list(first.values())


def _parsed(error: str) -> tuple[None, int, str, str, str]:
    """DuckDB's "CSV Error on Line: N / Original Line: ... / problem" as a reject."""
    lines = [x.strip() for x in error.splitlines() if x.strip()]
    number = re.search(r"Line: (\d+)", error)
    original = next((i for i, x in enumerate(lines) if x.startswith("Original Line:")), None)
    problem = lines[original + 1] if original is not None and original + 1 < len(lines) else ""
    text = lines[original].partition(": ")[2] if original is not None else ""
    kind = "INVALID ENCODING" if "not utf-8 encoded" in problem else "LINE"
    return None, int(number.group(1)) if number else 0, kind, problem or lines[0], text


def _refuse_lines(
    path: Path, broken: list[tuple[str | None, int, str, str, str]], encoding: str
) -> None:
    if not broken:
        return
    _, line, kind, message, text = broken[0]
    more = f" (and {len(broken) - 1} more lines)" if len(broken) > 1 else ""
    if kind == "INVALID ENCODING":
        fix = (
            f"the file is not {encoding}: add ?encoding=latin-1 (or utf-16) to the folder's URL, "
            "or convert it with iconv"
        )
    else:
        fix = "fix the file (or export it again) and run the job again"
    raise InvalidInputError(
        f"{path.name} line {line}: {message.strip().rstrip('.')}{more}: {text!r}. Nothing was "
        f"copied; {fix}"
    )


def _refuse_ragged(conn: Any, path: Path, encoding: str) -> None:
    """DuckDB reads a file whose lines hold different numbers of fields as one column of
    whole lines: with the header's delimiter, name the first line that does not fit."""
    with path.open("rb") as f:
        header = f.readline().decode("utf-8", "replace")
    counts = {d: header.count(d) for d in DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] == 0:
        return  # a real one-column file
    reader = reader_sql(path, {}, encoding, f"delim={sql_string(delimiter)}", "header=true")
    _refuse_lines(path, [r for r in _rejects(conn, reader) if r[2] != "CAST"], encoding)


def _decimals(
    conn: Any, path: Path, columns: list[str], encoding: str, warnings: list[str]
) -> dict[str, str]:
    """DOUBLE columns whose every value is a plain decimal, as ``DECIMAL(p, s)`` (or text
    past 38 digits)."""
    if not columns:
        return {}
    parts = []
    for name in columns:
        v = quote_ident(name, "duckdb")
        dot = f"strpos({v}, '.')"
        sign = f"CASE WHEN starts_with({v}, '-') OR starts_with({v}, '+') THEN 1 ELSE 0 END"
        parts += [
            # DOUBLE's texts hold digits, a sign, a point, or an exponent, NaN or infinity
            # (string searches: a regular expression took twice as long)
            f"bool_and(strpos(lower({v}), 'e') = 0 AND strpos(lower({v}), 'n') = 0)",
            f"coalesce(max(CASE WHEN {dot} > 0 THEN length({v}) - {dot} ELSE 0 END), 0)",
            # digits before the point, leading zeros too: an upper bound is enough
            f"coalesce(max(CASE WHEN {dot} > 0 THEN {dot} - 1 ELSE length({v}) END - {sign}), 0)",
        ]
    row = conn.execute(
        f"SELECT {', '.join(parts)} FROM {reader_sql(path, {}, encoding, 'all_varchar=true')}"
    ).fetchone()
    out: dict[str, str] = {}
    for i, name in enumerate(columns):
        plain, scale, whole = row[3 * i : 3 * i + 3]
        if plain is False:  # None: every value null, nothing to keep
            continue
        precision = max(int(whole) + int(scale), 1)
        if precision > MAX_DECIMAL_DIGITS:
            warnings.append(
                f"{path.name}: column {name!r} is read as text: its decimals have {precision} "
                f"digits, more than the {MAX_DECIMAL_DIGITS} a DECIMAL keeps (cast it in a "
                "transform)"
            )
            out[name] = "VARCHAR"
        else:
            out[name] = f"DECIMAL({precision}, {int(scale)})"
    return out
