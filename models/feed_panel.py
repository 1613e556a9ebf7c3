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
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from trafficsim.models.datasets import DatasetError, Panel

TARGET_COLUMNS = {"speed": "average_speed_kmh", "occupancy": "occupancy", "flow": "intensity"}
EXTRA_COLUMNS = {"queue": "queue_veh"}
"""Series that are features, not forecast targets: the camera queue on each loop's lane group."""
STUCK_PERIODS = 3


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
    t = pq.read_table(files).to_pydict()
    loops = [k for k, kind in enumerate(t["device_type"]) if kind == "inductiveLoop"]
    if not loops:
        raise DatasetError(f"{d}: the recording holds no inductive-loop readings")
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
        for other in [*info.get("upstreamDevices", []), *info.get("downstreamDevices", [])]:
            if other in col:
                adjacency[col[dev], col[other]] = adjacency[col[other], col[dev]] = 1.0
    scenario = meta.get("scenario", {})
    start = scenario.get("startTime") if isinstance(scenario, dict) else None
    t0 = datetime.fromisoformat(str(start)) if start else None
    weekday = t0.weekday() if t0 else 0
    # Row k is the period ending at (k + 1) x period after the start.
    offset = (round((t0.hour * 3600 + t0.minute * 60 + t0.second) / period) if t0 else 0) + 1
    unit = {"speed": "km/h", "occupancy": "share", "flow": "veh/h", "queue": "veh"}[target]
    return Panel(
        f"recording:{d.name}", values, adjacency, tuple(devices), period, weekday, unit, offset
    )


def _meta(d: Path) -> dict[str, object]:
    p = d / "meta.json"
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{p}: not JSON ({exc.msg}); record again") from None
    return data if isinstance(data, dict) else {}
