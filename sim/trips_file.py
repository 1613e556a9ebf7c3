"""The table of trips beside a scenario (``[scenario] trips_file``): CSV or Parquet.

Demand of real networks is too large for TOML (a day of a city is 10^5-10^6 trips, the
RESCO Cologne files 4,500 for one hour), so trips can live in a table: one row per trip,
columns ``id, depart_s, class`` and either ``links`` (the route: link ids separated by
spaces, or in Parquet a list of strings), ``route`` (a ``[[routes]]`` id) or ``from`` and
``to`` (link ids; the engine routes the trip). Parquet is read with pyarrow, CSV with the
standard library. Each row comes out as the fields of a ``[[trips]]`` table, so the file's
trips are checked exactly as inline ones are, and every problem names the file, the row
(and, for CSV, the line) and the column.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from trafficsim.sim.errors import ScenarioError
from trafficsim.sim.limits import MAX_VEHICLES

COLUMNS = ("id", "depart_s", "class", "links", "route", "from", "to")
"""Every column a trips file may have."""

COLUMNS_HINT = (
    "expected columns id, depart_s, class and one of links (link ids separated by spaces), "
    "route (a [[routes]] id) or from and to (link ids)"
)


def read_trips_file(path: Path, shown: str) -> list[tuple[str, dict[str, Any]]]:
    """Each trip of the file as ``(row label, fields of a [[trips]] table)``.

    ``shown`` is the file as errors name it. Empty cells (and Parquet nulls) are left out,
    so a file may mix rows with ``links`` and rows with ``from``/``to``.
    """
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ScenarioError(
            shown, "", f"expected a .csv or .parquet trips file, got {suffix or 'no suffix'!r}"
        )
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "file not found"
        raise ScenarioError(shown, "", f"{what}; expected the trips table ({COLUMNS_HINT})")
    if suffix == ".csv":
        return _csv(path, shown)
    return _parquet(path, shown)


def _check_columns(names: list[str], shown: str) -> None:
    for name in names:
        if name not in COLUMNS:
            raise ScenarioError(shown, "columns", f"unknown column {name!r}; {COLUMNS_HINT}")
    for name in ("depart_s", "class"):
        if name not in names:
            raise ScenarioError(shown, "columns", f"missing column {name!r}; {COLUMNS_HINT}")
    if not ({"links", "route"} & set(names) or {"from", "to"} <= set(names)):
        raise ScenarioError(shown, "columns", f"no links, route or from and to; {COLUMNS_HINT}")


def _too_many(shown: str, n: int) -> ScenarioError:
    return ScenarioError(
        shown,
        "",
        f"{n:,} trips or more, more than the {MAX_VEHICLES:,} one run can hold (about 4 kB "
        "each); split the demand or shorten it",
    )


def _csv(path: Path, shown: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            shown, "", f"not UTF-8 text (byte at offset {exc.start}); save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot read the file: {exc.strerror}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ScenarioError(shown, "", f"empty file; {COLUMNS_HINT}") from None
    _check_columns(header, shown)
    out: list[tuple[str, dict[str, Any]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            i = len(out)
            label = f"rows[{i}]"
            if len(cells) != len(header):
                raise ScenarioError(
                    shown,
                    label,
                    f"line {reader.line_num} has {len(cells)} fields, the header {len(header)}",
                )
            if i >= MAX_VEHICLES:
                raise _too_many(shown, i + 1)
            row: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=True):
                cell = cell.strip()
                if cell:
                    row[name] = _csv_value(name, cell, shown, f"{label}.{name}", reader.line_num)
            out.append((label, row))
    except csv.Error as exc:
        raise ScenarioError(shown, "", f"not valid CSV at line {reader.line_num}: {exc}") from None
    return out


def _csv_value(name: str, cell: str, shown: str, field: str, line: int) -> Any:
    if name == "depart_s":
        try:
            value = float(cell)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ScenarioError(
                shown, field, f"expected a number (seconds), got {cell!r} (line {line})"
            )
        return value
    if name == "links":
        return cell.split()
    return cell


def _parquet(path: Path, shown: str) -> list[tuple[str, dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows > MAX_VEHICLES:
            raise _too_many(shown, pf.metadata.num_rows)
        table = pf.read()
    except (pa.ArrowException, OSError) as exc:
        raise ScenarioError(shown, "", f"not a readable Parquet file: {exc}") from None
    _check_columns(list(table.column_names), shown)
    columns: dict[str, list[Any]] = {}
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        ok = (
            pa.types.is_integer(kind) or pa.types.is_floating(kind)
            if name == "depart_s"
            else (
                pa.types.is_string(kind)
                or pa.types.is_large_string(kind)
                or (name == "id" and pa.types.is_integer(kind))
                or (
                    name == "links"
                    and (pa.types.is_list(kind) or pa.types.is_large_list(kind))
                    and pa.types.is_string(kind.value_type)
                )
                or pa.types.is_null(kind)
            )
        )
        if not ok:
            want = "numbers (seconds)" if name == "depart_s" else "strings"
            if name == "links":
                want = "strings of link ids separated by spaces, or lists of strings"
            raise ScenarioError(shown, f"columns.{name}", f"expected {want}, got {kind}")
        columns[name] = column.to_pylist()
    out: list[tuple[str, dict[str, Any]]] = []
    for i in range(table.num_rows):
        row: dict[str, Any] = {}
        for name, values in columns.items():
            v = values[i]
            if v is None or v == "":
                continue
            if name == "id":
                v = str(v)
            elif name == "links" and isinstance(v, str):
                v = v.split()
            row[name] = v
        out.append((f"rows[{i}]", row))
    return out
