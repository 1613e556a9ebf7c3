"""A recorded feed (``trafficsim record``) as a panel the forecasters can learn from.

Rows are the loop devices' reading periods, columns the devices. What the feed did not
deliver stays missing (NaN), explicitly: a lost reading (a gap in ``seq``), an offline
device, and a stuck device (the same count, occupancy and speed three periods running: from
the third on, the values are dropped as untrustworthy). Neighbours come from the device
metadata the recorder kept (``meta.json``: up- and downstream loops); the calendar from the
scenario's start time. Speeds are km/h, as on the wire.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trafficsim.models.datasets import DatasetError, Panel

TARGET_COLUMNS = {"speed": "average_speed_kmh", "occupancy": "occupancy", "flow": "intensity"}
EXTRA_COLUMNS = {"queue": "queue_veh"}
"""Series that are features, not forecast targets: the camera queue on each loop's lane group."""
STUCK_PERIODS = 3
MAX_CELLS = 50_000_000
"""Periods x devices of one panel (8 bytes each, 400 MB): a reading whose time is off by
orders of magnitude would otherwise ask for terabytes."""

_COLUMNS = {
    "device_id": pa.types.is_string,
    "device_type": pa.types.is_string,
    "lane_group": pa.types.is_string,
    "sim_time_s": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "period_s": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "intensity": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
    "occupancy": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "average_speed_kmh": lambda t: pa.types.is_floating(t) or pa.types.is_integer(t),
    "queue_veh": lambda t: pa.types.is_integer(t) or pa.types.is_floating(t),
}
"""The columns of a recording the panel reads, and the Arrow types each may have."""
_RECORD_AGAIN = "delete it (or move it away) and record again"


def panel_from_recording(directory: str | Path, target: str = "speed") -> Panel:
    d = Path(directory)
    columns = {**TARGET_COLUMNS, **EXTRA_COLUMNS}
    if target not in columns:
        raise DatasetError(f"unknown series {target!r}; choose from {', '.join(columns)}")
    files = sorted(d.glob("readings-*.parquet"))
    if not files:
        raise DatasetError(
            f"{d}: no readings-*.parquet; record a feed there with 'trafficsim record --out DIR'"
        )
    t = _read_readings(files)
    loops = [k for k, kind in enumerate(t["device_type"]) if kind == "inductiveLoop"]
    if not loops:
        raise DatasetError(f"{d}: the recording holds no inductive-loop readings")
    _check_loop_rows(d, t, loops)
    periods = {t["period_s"][k] for k in loops}
    if len(periods) != 1:
        raise DatasetError(
            f"{d}: loops report with different periods {sorted(periods)}; a panel needs one period"
        )
    period = float(periods.pop())
    devices = sorted({t["device_id"][k] for k in loops})
    col = {dev: j for j, dev in enumerate(devices)}
    steps = [round(t["sim_time_s"][k] / period) - 1 for k in loops]
    T = max(steps) + 1
    if T * len(devices) > MAX_CELLS:
        raise DatasetError(
            f"{d}: readings up to {max(t['sim_time_s'][k] for k in loops):g} s at {period:g} s "
            f"for {len(devices)} devices are {T * len(devices):,} values, more than the "
            f"{MAX_CELLS:,} a panel holds; train on a shorter recording"
        )
    values = np.full((T, len(devices)), np.nan)
    signature = np.full((T, len(devices), 3), np.nan)
    name = columns[target]
    if target in EXTRA_COLUMNS:
        # Cameras watch the loops' lane groups: each camera's queue goes to that loop's column.
        loop_of_group = {t["lane_group"][k]: col[t["device_id"][k]] for k in loops}
        for k, kind in enumerate(t["device_type"]):
            j = loop_of_group.get(t["lane_group"][k]) if kind == "camera" else None
            step = round(t["sim_time_s"][k] / period) - 1
            if j is not None and 0 <= step < T and t[name][k] is not None:
                values[step, j] = t[name][k]
        return _panel(d, target, values, devices, col, period)
    for k, step in zip(loops, steps, strict=True):
        j = col[t["device_id"][k]]
        v = t[name][k]
        if target == "flow" and v is not None:
            v = v * 3600.0 / period  # vehicles per hour
        values[step, j] = np.nan if v is None else v
        signature[step, j] = [
            t["intensity"][k] or 0,
            t["occupancy"][k] or 0,
            t["average_speed_kmh"][k] or 0,
        ]
    # Stuck devices: identical readings STUCK_PERIODS periods running.
    same = np.all(signature[1:] == signature[:-1], axis=2)
    run = np.zeros(len(devices))
    for step in range(1, T):
        run = np.where(same[step - 1], run + 1, 0)
        values[step, run >= STUCK_PERIODS - 1] = np.nan
    return _panel(d, target, values, devices, col, period)


def _panel(
    d: Path, target: str, values: np.ndarray, devices: list[str], col: dict[str, int], period: float
) -> Panel:
    meta = _meta(d)
    adjacency = np.eye(len(devices))
    devices_meta = meta.get("devices", {})
    for dev, info in devices_meta.items() if isinstance(devices_meta, dict) else []:
        if dev not in col or not isinstance(info, dict):
            continue
        for key in ("upstreamDevices", "downstreamDevices"):
            if not isinstance(info.get(key, []), list):
                raise DatasetError(
                    f"{d / 'meta.json'}: devices.{dev}.{key} is not a list; {_RECORD_AGAIN}"
                )
        for other in [*info.get("upstreamDevices", []), *info.get("downstreamDevices", [])]:
            if isinstance(other, str) and other in col:
                adjacency[col[dev], col[other]] = adjacency[col[other], col[dev]] = 1.0
    scenario = meta.get("scenario", {})
    start = scenario.get("startTime") if isinstance(scenario, dict) else None
    try:
        t0 = datetime.fromisoformat(str(start)) if start else None
    except ValueError:
        raise DatasetError(
            f"{d / 'meta.json'}: scenario.startTime {str(start)[:40]!r} is not an ISO 8601 "
            f"date-time; {_RECORD_AGAIN}"
        ) from None
    weekday = t0.weekday() if t0 else 0
    # Row k is the period ending at (k + 1) x period after the start.
    offset = (round((t0.hour * 3600 + t0.minute * 60 + t0.second) / period) if t0 else 0) + 1
    unit = {"speed": "km/h", "occupancy": "share", "flow": "veh/h", "queue": "veh"}[target]
    return Panel(
        f"recording:{d.name}", values, adjacency, tuple(devices), period, weekday, unit, offset
    )


def _read_readings(files: list[Path]) -> dict[str, list[Any]]:
    """The columns the panel needs from every file, each file checked on its own so that
    the error names the one a disk or a killed process spoilt (truncated, empty, another
    schema)."""
    tables: list[pa.Table] = []
    for f in files:
        try:
            table = pq.read_table(f, columns=list(_COLUMNS))
        except (pa.ArrowException, OSError) as exc:
            reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise DatasetError(
                f"{f}: not a readable recording file ({reason}); {_RECORD_AGAIN}"
            ) from None
        for name, ok in _COLUMNS.items():
            kind = table.schema.field(name).type
            if not ok(kind):
                raise DatasetError(
                    f"{f}: column {name} holds {kind}, not what 'trafficsim record' writes; "
                    f"{_RECORD_AGAIN}"
                )
        tables.append(table)
    try:
        same = [t.cast(tables[0].schema) for t in tables]
        columns: dict[str, list[Any]] = pa.concat_tables(same).to_pydict()
    except (pa.ArrowException, ValueError) as exc:
        raise DatasetError(f"{files[0].parent}: files of different layouts ({exc})") from None
    return columns


def _check_loop_rows(d: Path, t: dict[str, list[Any]], loops: list[int]) -> None:
    """Refuse loop readings with no device, or a time or period that is not a positive
    finite number: they cannot be placed in the panel."""
    for k in loops:
        period, at = t["period_s"][k], t["sim_time_s"][k]
        if not isinstance(t["device_id"][k], str) or not t["device_id"][k]:
            raise DatasetError(f"{d}: a loop reading without a device id; {_RECORD_AGAIN}")
        for name, v in (("period_s", period), ("sim_time_s", at)):
            if v is None or not math.isfinite(v) or v <= 0:
                raise DatasetError(
                    f"{d}: the reading of {t['device_id'][k]} has {name} {v!r}, expected a "
                    f"positive number of seconds; {_RECORD_AGAIN}"
                )


def _meta(d: Path) -> dict[str, Any]:
    p = d / "meta.json"
    if not p.is_file():
        # Without it the panel would silently lose every neighbour and the calendar.
        raise DatasetError(
            f"{p}: not found; the recording holds no device or scenario metadata (start "
            "'trafficsim record' before the run so it receives them)"
        )
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DatasetError(f"{p}: not UTF-8 text; {_RECORD_AGAIN}") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}: not JSON ({exc.msg}); {_RECORD_AGAIN}") from None
    except RecursionError:
        raise DatasetError(f"{p}: nested too deeply to read; {_RECORD_AGAIN}") from None
    except OSError as exc:
        raise DatasetError(f"{p}: cannot be read ({exc.strerror})") from None
    return data if isinstance(data, dict) else {}
