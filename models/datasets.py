"""External traffic data sets, loaded as a speed panel (time x sensor) and an adjacency.

Los-loop: 207 Los Angeles loop detectors, 5-minute mean speeds (mph), 2,016 steps from
2012-03-01 00:00 (a Thursday), and a weighted road-distance adjacency; the data set of
T-GCN (Zhao et al., IEEE T-ITS 2019), derived from METR-LA (Li et al., ICLR 2018). The files
are not shipped: pass their directory (``--data``).

Any other panel in the same layout loads with :func:`load_csv_panel`: a speeds CSV whose
first line names the sensors and whose every further line is one 5-minute step, and an
adjacency CSV of one row and one column per sensor, without a header. Whatever the loader,
the sha256 of both files is compared with the published Los-loop files and the panel says
whether they are those (:attr:`Panel.published`): only then are scores comparable with the
published T-GCN figure.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

LOS_LOOP_SHA256 = {
    "los_speed.csv": "7b732d86ae32b2930595becba28aff39dacbfb2197e250fc0332e1744ce2cbf4",
    "los_adj.csv": "7a6eb41e10677992b5af50f5ab187c6c05c5c3a92cb973950cfddbf857361e76",
}
DEFAULT_LOS_LOOP_DIR = Path("..") / "shared" / "data" / "los_loop"
LOS_LOOP_FILES = ("los_speed.csv", "los_adj.csv")
"""The Los-loop file names: speeds, adjacency."""
CSV_FILES = ("speeds.csv", "adjacency.csv")
"""The file names :func:`load_csv_panel` looks for first (then :data:`LOS_LOOP_FILES`)."""
STEP_S = 300.0
"""One row of a speeds file: five minutes."""


class DatasetError(ValueError):
    """A data set that cannot be used, with the file and the fix."""


LOS_LOOP_CALENDAR = (3, 0, "mph")
"""Los-loop's row 0 (weekday 3 = Thursday, 2012-03-01, at midnight) and its unit."""


@dataclass(frozen=True, slots=True)
class Panel:
    """Speeds of ``n`` sensors over ``t`` regular steps, and who neighbours whom."""

    name: str
    values: np.ndarray  # (t, n)
    adjacency: np.ndarray  # (n, n), weights, diagonal ignored
    sensor_ids: tuple[str, ...]
    step_s: float
    start_weekday: int  # 0 = Monday, for row 0
    unit: str
    start_offset_steps: int = 0  # steps from midnight to row 0
    source: str = ""  # the file the values come from, for messages
    published: bool = False  # both files are byte for byte the published Los-loop files
    complete: bool = True  # every sensor of the files (not a subset)

    def subset(self, k: int) -> Panel:
        """The first ``k`` sensors (for fast checks)."""
        return replace(
            self,
            values=self.values[:, :k],
            adjacency=self.adjacency[:k, :k],
            sensor_ids=self.sensor_ids[:k],
            complete=self.complete and k >= self.values.shape[1],
        )

    @property
    def comparable_with_published(self) -> bool:
        """Scored as the published T-GCN figure was: the published files, every sensor,
        Los-loop's calendar (row 0 a Thursday midnight) and unit (mph)."""
        calendar = (self.start_weekday, self.start_offset_steps, self.unit)
        return self.published and self.complete and calendar == LOS_LOOP_CALENDAR


def _check_directory(d: Path, holds: str) -> None:
    """A file given where the panel's directory belongs is named as such, not "not found"."""
    if d.is_file():
        raise DatasetError(
            f"{d}: is a file; give the directory holding {holds} with --data "
            f"(here perhaps {d.parent})"
        )


def load_los_loop(directory: str | Path = DEFAULT_LOS_LOOP_DIR) -> Panel:
    """The Los-loop panel of ``directory`` (los_speed.csv, los_adj.csv); ``published`` says
    whether the files are the published ones."""
    d = Path(directory)
    _check_directory(d, "los_speed.csv and los_adj.csv")
    for name in LOS_LOOP_FILES:
        if not (d / name).is_file():
            raise DatasetError(
                f"{d / name}: not found; give the directory holding los_speed.csv and "
                "los_adj.csv with --data (the repository's ../shared/data/los_loop when it is "
                "there)"
            )
    speeds, adjacency = (d / name for name in LOS_LOOP_FILES)
    weekday, offset, unit = LOS_LOOP_CALENDAR
    return read_panel(
        "los-loop", speeds, adjacency, start_weekday=weekday, start_offset_steps=offset, unit=unit
    )


def load_csv_panel(
    directory: str | Path,
    *,
    start_weekday: int = 0,
    start_offset_steps: int = 0,
    unit: str = "mph",
) -> Panel:
    """A panel in the Los-loop layout from ``directory``: speeds.csv and adjacency.csv, or
    else los_speed.csv and los_adj.csv. Row 0 falls ``start_offset_steps`` 5-minute steps
    after midnight of a day with weekday ``start_weekday`` (0 = Monday)."""
    d = Path(directory)
    _check_directory(d, "speeds.csv and adjacency.csv")
    if not d.is_dir():
        raise DatasetError(
            f"{d}: no such directory; give the directory holding speeds.csv and "
            "adjacency.csv with --data"
        )
    pair = next((p for p in (CSV_FILES, LOS_LOOP_FILES) if all((d / n).is_file() for n in p)), None)
    if pair is None:
        speeds_name, adjacency_name = CSV_FILES
        missing = speeds_name if not (d / speeds_name).is_file() else adjacency_name
        raise DatasetError(
            f"{d / missing}: not found; the directory must hold speeds.csv (a header of "
            "sensor ids, then one row of speeds per 5-minute step) and adjacency.csv (one "
            "row and one column per sensor), or los_speed.csv and los_adj.csv"
        )
    speeds, adjacency = (d / name for name in pair)
    return read_panel(
        "csv",
        speeds,
        adjacency,
        start_weekday=start_weekday,
        start_offset_steps=start_offset_steps,
        unit=unit,
    )


def read_panel(
    name: str,
    speeds: Path,
    adjacency: Path,
    *,
    start_weekday: int,
    unit: str,
    start_offset_steps: int = 0,
) -> Panel:
    """Read and check a speeds file and its adjacency; every problem names the file."""
    header, values = _read_speeds(speeds)
    weights = _read_adjacency(adjacency)
    n = len(header)
    rows, cols = weights.shape
    if rows != cols:
        raise DatasetError(
            f"{adjacency}: {rows} x {cols} values; expected a square matrix without a "
            f"header, one row and one column per sensor of {speeds.name} ({n} x {n})"
        )
    if rows != n:
        raise DatasetError(
            f"{adjacency}: {rows} x {cols}, but {speeds.name} has {n} sensors; expected "
            f"{n} x {n}, rows and columns in the order of its header"
        )
    return Panel(
        name,
        values,
        weights,
        tuple(header),
        STEP_S,
        start_weekday,
        unit,
        start_offset_steps,
        source=str(speeds),
        published=_is_published(speeds, adjacency),
    )


def _is_published(speeds: Path, adjacency: Path) -> bool:
    digests = (hashlib.sha256(p.read_bytes()).hexdigest() for p in (speeds, adjacency))
    return tuple(digests) == tuple(LOS_LOOP_SHA256[n] for n in LOS_LOOP_FILES)


def _read_speeds(path: Path) -> tuple[list[str], np.ndarray]:
    lines = _lines(path)
    header = lines[0].strip().split(",")
    values = _read_table(path, lines[1:], first=2)
    if values.shape[1] != len(header):
        raise DatasetError(
            f"{path}: the header names {len(header)} sensors, the rows have "
            f"{values.shape[1]} values; expected one column per sensor"
        )
    return header, values


def _read_adjacency(path: Path) -> np.ndarray:
    return _read_table(path, _lines(path), first=1)


def _lines(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; expected a CSV file of numbers") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror})") from None
    if not _numbered(lines, 1):
        raise DatasetError(f"{path}: empty; expected a CSV file of numbers")
    return lines


def _numbered(lines: list[str], first: int) -> list[tuple[int, str]]:
    """The lines numpy reads as rows (not blank, not a ``#`` comment) with their line
    number in the file, ``first`` being the number of ``lines[0]``."""
    out = []
    for number, line in enumerate(lines, start=first):
        text = line.split("#", 1)[0]
        if text.strip():
            out.append((number, text))
    return out


def _read_table(path: Path, lines: list[str], first: int) -> np.ndarray:
    """The numbers of ``lines`` (from line ``first`` of ``path`` on), all finite."""
    rows = _numbered(lines, first)
    if not rows:
        raise DatasetError(f"{path}: no rows of numbers below the header")
    try:
        table: np.ndarray = np.loadtxt(lines, delimiter=",", ndmin=2)
    except ValueError as exc:
        raise DatasetError(_first_bad_cell(path, rows) or f"{path}: {exc}") from None
    bad = np.argwhere(~np.isfinite(table))
    if bad.size:
        r, c = bad[0]
        raise DatasetError(
            f"{path}: line {rows[r][0]}, column {c + 1}: {table[r, c]} is not a finite "
            "number; expected a number in every cell"
        )
    return table


def _first_bad_cell(path: Path, rows: list[tuple[int, str]]) -> str | None:
    """Where a table that numpy refuses goes wrong, as a message (``None``: not found)."""
    width = len(rows[0][1].split(","))
    for number, line in rows:
        cells = line.split(",")
        if len(cells) != width:
            return (
                f"{path}: line {number} has {len(cells)} values, the first row {width}; "
                "expected the same number of values on every line"
            )
        for column, cell in enumerate(cells, start=1):
            try:
                float(cell)
            except ValueError:
                what = repr(cell.strip()) + " is not a number" if cell.strip() else "empty"
                return (
                    f"{path}: line {number}, column {column}: {what}; expected a number in "
                    "every cell"
                )
    return None
