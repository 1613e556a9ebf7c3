"""Which devices stand where: the scenario's ``[sensors]`` table, checked, plus defaults.

Without a ``[sensors]`` table a scenario gets the default deployment: an inductive loop
30 m upstream of the stop line of every approach lane group, a camera on every approach,
and 5 % of vehicles reporting as probes. The table can change the defaults, switch them off
(``default_deployment = false``) and add or replace devices; see ``docs/sensors.md``.
Errors name the field (``sensors.loops[2].position_m``) like scenario errors do.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from trafficsim.sensors.readings import DeviceKind
from trafficsim.sim import FieldReader, LaneGroupKind, ScenarioError, World

PERIOD_RANGE_S = (1.0, 300.0)


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """Error and fault rates of a device (all drawn from the run's seeded generator).

    Defaults are assumptions, not measurements (parameters, see docs/sensors.md): relative
    noise of 5 % on counts, speeds and occupancy; 1 % of readings lost; a 0.1 % chance per
    minute of getting stuck (repeating the last values) for 10 minutes on average; a 0.05 %
    chance per minute of going offline for 15 minutes on average. (Per minute, so a device
    that reports more often does not fail more often; at the default 60 s period that is
    per reading.)
    """

    noise: float = 0.05
    bias: float = 0.0
    drop: float = 0.01
    stuck: float = 0.001
    stuck_mean_s: float = 600.0
    offline: float = 0.0005
    offline_mean_s: float = 900.0


NO_FAULTS = FaultSpec(noise=0.0, bias=0.0, drop=0.0, stuck=0.0, offline=0.0)


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    device_id: str
    kind: DeviceKind
    period_s: float
    faults: FaultSpec
    lane_group: str | None = None  # loops and cameras
    position_m: float = 0.0  # loops: upstream of the stop line
    share: float = 0.0  # probes: share of vehicles reporting


@dataclass(frozen=True, slots=True)
class Deployment:
    devices: tuple[DeviceSpec, ...]
    neighbours: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    """Device id -> (upstream device ids, downstream device ids), from the network."""


def device_id_for(prefix: str, lane_group: str) -> str:
    """A topic- and FIWARE-safe device id: ``loop-N_in-NS`` for lane group ``N_in:NS``."""
    return f"{prefix}-" + re.sub(r"[^A-Za-z0-9_.-]", "-", lane_group)


_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_FAULT_KEYS = set(FaultSpec.__dataclass_fields__)
_TOP_KEYS = {
    "default_deployment",
    "period_s",
    "loop_position_m",
    "probe_share",
    "probe_period_s",
    "faults",
    "loops",
    "cameras",
}


def build_deployment(world: World) -> Deployment:
    """The devices of ``world``'s scenario, checked against its network."""
    sc = world.scenario
    raw: Mapping[str, Any] = sc.sensors
    r = FieldReader(sc.source, ScenarioError)
    r.check_keys(raw, "sensors", _TOP_KEYS)
    approach = [i for i in world.lane_group_info if i.kind.at_stop_line]
    lgs = {i.id: i for i in approach}
    period = r.number_in(raw, "period_s", "sensors", 60.0, PERIOD_RANGE_S)
    faults = _faults(r, raw.get("faults", {}), "sensors.faults", FaultSpec())
    devices: dict[str, DeviceSpec] = {}
    if r.boolean(raw, "default_deployment", "sensors", True):
        pos = r.number_in(raw, "loop_position_m", "sensors", 30.0, (0.0, math.inf))
        for info in approach:
            if info.kind is not LaneGroupKind.APPROACH:
                continue
            d = device_id_for("loop", info.id)
            devices[d] = DeviceSpec(
                d, DeviceKind.LOOP, period, faults, info.id, min(pos, 0.5 * info.length_m)
            )
        for info in approach:
            if info.kind is not LaneGroupKind.APPROACH:
                continue
            d = device_id_for("cam", info.id)
            devices[d] = DeviceSpec(d, DeviceKind.CAMERA, period, faults, info.id, 0.0)
        share = r.number_in(raw, "probe_share", "sensors", 0.05, (0.0, 1.0))
        if share > 0:
            pp = r.number_in(raw, "probe_period_s", "sensors", period, PERIOD_RANGE_S)
            devices["probe-fleet"] = DeviceSpec(
                "probe-fleet", DeviceKind.PROBE, pp, faults, share=share
            )
    for key, kind, prefix in (
        ("loops", DeviceKind.LOOP, "loop"),
        ("cameras", DeviceKind.CAMERA, "cam"),
    ):
        rows = raw.get(key, [])
        if not isinstance(rows, list) or not all(isinstance(x, dict) for x in rows):
            raise r.fail(f"sensors.{key}", f"expected an array of tables [[sensors.{key}]]")
        for i, row in enumerate(rows):
            p = f"sensors.{key}[{i}]"
            allowed = {"id", "lane_group", "period_s", "faults"}
            if kind is DeviceKind.LOOP:
                allowed.add("position_m")
            r.check_keys(row, p, allowed)
            lg = row.get("lane_group")
            if lg not in lgs:
                raise r.fail(
                    f"{p}.lane_group",
                    f"unknown lane group {lg!r}; "
                    f"approach lane groups: {', '.join(sorted(lgs)[:12])}"
                    + (" ..." if len(lgs) > 12 else ""),
                )
            did = row.get("id", device_id_for(prefix, lg))
            if not isinstance(did, str) or not _ID_RE.match(did):
                raise r.fail(
                    f"{p}.id",
                    "expected 1-64 letters, digits, '_', '.' or '-' "
                    f"(it is used in MQTT topics), got {did!r}",
                )
            length = lgs[lg].length_m
            pos = (
                r.number_in(row, "position_m", p, 30.0, (0.0, length))
                if kind is DeviceKind.LOOP
                else 0.0
            )
            if kind is DeviceKind.LOOP and pos >= length:
                raise r.fail(f"{p}.position_m", f"must be less than the link length {length:g} m")
            devices[did] = DeviceSpec(
                did,
                kind,
                r.number_in(row, "period_s", p, period, PERIOD_RANGE_S),
                _faults(r, row.get("faults", {}), f"{p}.faults", faults),
                lg,
                pos,
            )
    return Deployment(
        devices=tuple(devices.values()), neighbours=_neighbours(world, tuple(devices.values()))
    )


def _neighbours(
    world: World, devices: tuple[DeviceSpec, ...]
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Loops up- and downstream of each loop or camera, through the movements."""
    info = {i.id: i for i in world.lane_group_info}
    lg_of_move: dict[tuple[str, str | None], str] = {}
    for i in world.lane_group_info:
        if i.kind.at_stop_line:
            lg_of_move[(i.link, i.group)] = i.id
    out_links: dict[str, set[str]] = {}
    for m in world.scenario.movements:
        lg = lg_of_move.get((m.from_link, m.signal_group))
        if lg is not None:
            out_links.setdefault(lg, set()).add(m.to_link)
    loops_on_link: dict[str, list[str]] = {}
    for d in devices:
        if d.kind is DeviceKind.LOOP and d.lane_group:
            loops_on_link.setdefault(info[d.lane_group].link, []).append(d.device_id)
    result: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for d in devices:
        if d.lane_group is None:
            continue
        link = info[d.lane_group].link
        down = sorted(
            {x for ln in out_links.get(d.lane_group, ()) for x in loops_on_link.get(ln, [])}
        )
        up = sorted(
            {
                x
                for lg, outs in out_links.items()
                if link in outs
                for x in loops_on_link.get(info[lg].link, [])
            }
        )
        result[d.device_id] = (tuple(up), tuple(down))
    return result


def _faults(r: FieldReader, data: Any, path: str, base: FaultSpec) -> FaultSpec:
    r.check_keys(data, path, _FAULT_KEYS)
    values = {}
    for k in data:
        hi = math.inf if k.endswith("_s") else 1.0
        lo = -0.5 if k == "bias" else 0.0
        values[k] = r.number_in(data, k, path, 0.0, (lo, hi))
    return replace(base, **values)
