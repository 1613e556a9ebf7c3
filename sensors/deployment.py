"""Which devices stand where: a :class:`Deployment` built from a deployment spec and the
world's network.

Without a ``[sensors]`` table a scenario gets the default deployment: an inductive loop
30 m upstream of the stop line of every approach lane group, a camera on every approach,
and 5 % of vehicles reporting as probes. The table can change the defaults, switch them off
(``default_deployment = false``) and add or replace devices; see ``docs/sensors.md``.
:mod:`~trafficsim.sensors.deployment_spec` parses it; here its defaults are resolved and its
lane groups and loop positions checked against the network. Errors name the field
(``sensors.loops[2].position_m``) like scenario errors do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trafficsim.sensors.readings import DeviceKind
from trafficsim.sim import FieldReader, LaneGroupInfo, LaneGroupKind, ScenarioError, World

if TYPE_CHECKING:
    from trafficsim.sensors.deployment_spec import DeploymentSpec, ExplicitDevice

PERIOD_RANGE_S = (1.0, 300.0)
DEFAULT_PERIOD_S = 60.0
DEFAULT_LOOP_POSITION_M = 30.0
"""Upstream of the stop line; a default loop stands at most half way up its link."""
DEFAULT_PROBE_SHARE = 0.05


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


def valid_device_id(device_id: str) -> bool:
    """Whether ``device_id`` is safe in MQTT topics and FIWARE ids."""
    return _ID_RE.match(device_id) is not None


def id_problem(device_id: object) -> str:
    """What is wrong with a device id that is not :func:`valid_device_id`."""
    return (
        "expected 1-64 letters, digits, '_', '.' or '-' "
        f"(it is used in MQTT topics), got {device_id!r}"
    )


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def build_deployment(world: World, spec: DeploymentSpec) -> Deployment:
    """The devices ``spec`` deploys in ``world``, checked against its network."""
    approach = [i for i in world.lane_group_info if i.kind.at_stop_line]
    covered = [i for i in approach if spec.intersections is None or i.node in spec.intersections]
    period = _or(spec.period_s, DEFAULT_PERIOD_S)
    faults = spec.faults.over(FaultSpec())
    devices: dict[str, DeviceSpec] = {}
    if spec.default_deployment:
        pos = _or(spec.loop_position_m, DEFAULT_LOOP_POSITION_M)
        for info in covered:
            if info.kind is not LaneGroupKind.APPROACH:
                continue
            d = device_id_for("loop", info.id)
            devices[d] = DeviceSpec(
                d, DeviceKind.LOOP, period, faults, info.id, min(pos, 0.5 * info.length_m)
            )
        for info in covered:
            if info.kind is not LaneGroupKind.APPROACH:
                continue
            d = device_id_for("cam", info.id)
            devices[d] = DeviceSpec(d, DeviceKind.CAMERA, period, faults, info.id, 0.0)
        share = _or(spec.probe_share, DEFAULT_PROBE_SHARE)
        if share > 0:
            pp = _or(spec.probe_period_s, period)
            devices["probe-fleet"] = DeviceSpec(
                "probe-fleet", DeviceKind.PROBE, pp, faults, share=share
            )
    r = FieldReader(spec.source, ScenarioError)
    lgs = {i.id: i for i in approach}
    for key, kind, rows in (
        ("loops", DeviceKind.LOOP, spec.loops),
        ("cameras", DeviceKind.CAMERA, spec.cameras),
    ):
        for i, row in enumerate(rows):
            placed = _placed(r, f"sensors.{key}[{i}]", kind, row, lgs, period, faults)
            devices[placed.device_id] = placed
    return Deployment(
        devices=tuple(devices.values()), neighbours=_neighbours(world, tuple(devices.values()))
    )


def _placed(
    r: FieldReader,
    p: str,
    kind: DeviceKind,
    row: ExplicitDevice,
    lgs: Mapping[str, LaneGroupInfo],
    period: float,
    faults: FaultSpec,
) -> DeviceSpec:
    """A ``[[sensors.loops]]`` or ``[[sensors.cameras]]`` row (path ``p``) on the network."""
    lg = row.lane_group
    if lg is None or lg not in lgs:
        raise r.fail(
            f"{p}.lane_group",
            f"unknown lane group {lg!r}; "
            f"approach lane groups: {', '.join(sorted(lgs)[:12])}"
            + (" ..." if len(lgs) > 12 else ""),
        )
    did = row.device_id
    if did is None:
        did = device_id_for("loop" if kind is DeviceKind.LOOP else "cam", lg)
        if not valid_device_id(did):
            raise r.fail(f"{p}.id", id_problem(did))
    length = lgs[lg].length_m
    pos = 0.0
    if kind is DeviceKind.LOOP:
        pos = min(DEFAULT_LOOP_POSITION_M, 0.5 * length)  # as the default deployment's
        if row.position_m is not None:  # checked as the table gave it
            pos = r.number_in({"position_m": row.position_m}, "position_m", p, pos, (0.0, length))
        if pos >= length:
            raise r.fail(f"{p}.position_m", f"must be less than the link length {length:g} m")
    return DeviceSpec(did, kind, _or(row.period_s, period), row.faults.over(faults), lg, pos)


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
