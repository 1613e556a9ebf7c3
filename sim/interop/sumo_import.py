"""``trafficsim import sumo``: a SUMO network and its demand as one scenario file.

The network comes from :mod:`~trafficsim.sim.interop.sumo_net`, the demand from
:mod:`~trafficsim.sim.interop.sumo_routes` (or the stated default of
:mod:`~trafficsim.sim.interop.default_demand` when no route file is given), and the values
the model needs that a SUMO network does not hold are chosen here and written into the
file with where they came from:
- saturation flow and start-up lost time: SUMO's own queue discharge, measured for the
  network's car type at each speed of its approaches
  (:mod:`~trafficsim.sim.interop.saturation`), or a figure the user gives;
- the use of the yellow: HCM's default (2 s), as the scenario format's;
- vehicle classes and the jam spacing from the vehicle types (see
  :func:`~trafficsim.sim.interop.scenario_file.classes_of`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trafficsim.sim.errors import InputError
from trafficsim.sim.interop import default_demand, saturation, scenario_file
from trafficsim.sim.interop.report import ImportReport
from trafficsim.sim.interop.sumo_net import Network, read_network
from trafficsim.sim.interop.sumo_routes import Demand, VType, read_demand
from trafficsim.sim.units import mps_to_kmh
from trafficsim.sim.vehicles import CAR, DEFAULT_CLASSES, JAM_SPACING_M_PER_PCU

HCM_YELLOW_END_USE_S = 2.0
"""Part of the yellow vehicles still use (HCM 6th ed., Ch. 19, default e = 2 s)."""
DEFAULT_SAT_FLOW = 1800.0
"""Saturation flow when neither SUMO's measurement nor the user gives one (PCU/h/lane),
the scenario format's own default."""
DEFAULT_TAIL_S = 900.0
"""Run time after the last departure when no window end is given: long enough for the
last vehicles to cross a city-centre network."""


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line may set; None: chosen by the importer (and noted)."""

    begin_s: float | None = None
    end_s: float | None = None
    sat_flow: float | None = None
    """PCU/h/lane for every link; None measures SUMO's discharge."""
    measure: bool = True
    name: str | None = None
    demand_level: float = default_demand.DEFAULT_LEVEL_VEH_PER_H_PER_LANE
    mix: str = "cars"


@dataclass(frozen=True, slots=True)
class Imported:
    report: ImportReport
    written: list[Path]


def import_sumo(
    net_path: Path,
    route_paths: list[Path],
    out: Path,
    options: Options = Options(),
    *,
    made_by: str | None = None,
    description: str | None = None,
    extra_head: list[str] | None = None,
    report: ImportReport | None = None,
) -> Imported:
    """Import ``net_path`` (and its route files) and write the scenario to ``out``."""
    report = report or ImportReport(str(net_path))
    begin = options.begin_s if options.begin_s is not None else 0.0
    if options.end_s is not None and options.end_s <= begin:
        raise InputError("--end", "", f"must be after --begin ({begin:g} s)")
    net = read_network(net_path, report, begin)
    data = scenario_file.scenario_data("", net, 0.0, begin, description="")
    trips: list[dict[str, Any]] | None = None
    vtype = None
    if route_paths:
        demand = read_demand(route_paths, net, report, begin, options.end_s)
        if not demand.trips:
            skipped = sum(s.count for s in report.skipped.values())
            raise InputError(
                ", ".join(map(str, route_paths)),
                "",
                f"no vehicle could be imported ({skipped:,} elements skipped: "
                + "; ".join(report.lines()[-3:])
                + ")",
            )
        classes, jam, names = scenario_file.classes_of(demand, report)
        data["classes"] = classes
        data["scenario"]["jam_spacing_m_per_pcu"] = jam
        trips = scenario_file.trip_rows(demand, names)
        vtype = _car_type(demand)
        max_pcu = max(c["pcu"] for c in classes)
        last = demand.trips[-1].depart_s
    else:
        jam, last = JAM_SPACING_M_PER_PCU, 3600.0
        mix = options.mix
        if mix == "cars":
            # Cars only: the one class, so that short links need room for a car, not a bus.
            data["classes"] = [_class_row(CAR)]
            mix = CAR.name
        max_pcu = max(c.pcu for c in DEFAULT_CLASSES) if mix != CAR.name else CAR.pcu
        zones, od = default_demand.fringe_od(net, options.demand_level, mix, report)
        data["zones"], data["od"] = zones, od
    scenario_file.lengthen_short_links(net.links, jam, max_pcu, report)
    if options.end_s is not None:
        duration = options.end_s - begin
    else:
        duration = math.ceil((last + DEFAULT_TAIL_S) / 60.0) * 60.0
        report.note(f"duration_s = {duration:g}: the last departure plus {DEFAULT_TAIL_S:g} s")
    head = data["scenario"]
    head["name"] = options.name or net_path.name.removesuffix(".xml").removesuffix(".net")
    head["duration_s"] = float(duration)
    head["description"] = description or (
        f"Imported from SUMO network {net_path.name}"
        + (f" and {', '.join(p.name for p in route_paths)}" if route_paths else "")
        + f", window {begin:g}-{begin + duration:g} s of SUMO time"
    )
    _saturation(net, data, options, vtype, report)
    data.update(nodes=net.nodes, links=net.links, movements=net.movements)
    if net.signals:
        data["signals"] = net.signals
    report.figures.update(
        nodes=len(net.nodes),
        links=len(net.links),
        movements=len(net.movements),
        signals=len(net.signals),
    )
    if trips is not None:
        report.figures["trips"] = len(trips)
    made_by = made_by or f"trafficsim import sumo --net {net_path}" + "".join(
        f" --routes {p}" for p in route_paths
    )
    text = scenario_file.header(report, made_by, extra_head or ())
    written = scenario_file.write(out, data, text, trips)
    return Imported(report, written)


def _class_row(c: Any) -> dict[str, Any]:
    return {
        "name": c.name,
        "pcu": c.pcu,
        "length_m": c.length_m,
        "max_speed_kmh": round(mps_to_kmh(c.max_speed_mps), 2),
        "accel_mps2": c.accel_mps2,
        "decel_mps2": c.decel_mps2,
        "emission_class": c.emission_class,
    }


def _car_type(demand: Demand) -> VType | None:
    counts: dict[str, int] = {}
    for t in demand.trips:
        counts[t.vtype] = counts.get(t.vtype, 0) + 1
    cars = [v for v in demand.vtypes.values() if v.vclass in ("passenger", "private", "taxi")]
    return max(cars, key=lambda v: counts.get(v.id, 0)) if cars else None


MIN_MEASURED_SPEED_MPS = 5.0
"""Links slower than this (service roads, 20 km/h and less) take the discharge measured at
it: a queue of cars at walking speed is not a signal's approach."""


def _speed_key(speed_kmh: float) -> float:
    return max(MIN_MEASURED_SPEED_MPS, round(speed_kmh / 3.6, 2))


def _saturation(
    net: Network, data: dict[str, Any], options: Options, vt: VType | None, report: ImportReport
) -> None:
    """Saturation flow per link and the start-up lost time, with their source noted."""
    if options.sat_flow is not None or not options.measure:
        sat = options.sat_flow if options.sat_flow is not None else DEFAULT_SAT_FLOW
        data["link_defaults"] = {"sat_flow_pcu_per_h_per_lane": sat}
        data["scenario"]["startup_lost_s"] = 2.0
        data["scenario"]["yellow_end_use_s"] = HCM_YELLOW_END_USE_S
        report.note(
            f"sat_flow_pcu_per_h_per_lane = {sat:g}"
            + (" (given)" if options.sat_flow is not None else " (the format's default)")
            + "; startup_lost_s = 2 and yellow_end_use_s = 2 (HCM 6th ed. defaults)"
        )
        return
    speeds: dict[float, int] = {}
    for ln in net.links:
        key = _speed_key(ln["speed_kmh"])
        speeds[key] = speeds.get(key, 0) + 1
    length, gap, attrs = 5.0, 2.5, {}
    if vt is not None:
        length, gap = vt.length_m, vt.min_gap_m
        attrs = {k: v for k, v in vt.attrs.items() if k not in ("id", "length", "minGap")}
    try:
        measured = {
            v: saturation.measure(speed_mps=v, length_m=length, min_gap_m=gap, vtype_attrs=attrs)
            for v in speeds
        }
    except RuntimeError as exc:
        report.note(f"SUMO's discharge could not be measured ({exc}); defaults used")
        _saturation(net, data, Options(measure=False), vt, report)
        return
    common = max(speeds, key=lambda v: speeds[v])
    ref = measured[common]
    data["link_defaults"] = {"sat_flow_pcu_per_h_per_lane": round(ref.sat_flow_veh_per_h_per_lane)}
    for ln in net.links:
        m = measured[_speed_key(ln["speed_kmh"])]
        if m is not ref:
            ln["sat_flow_pcu_per_h_per_lane"] = round(m.sat_flow_veh_per_h_per_lane)
    data["scenario"]["startup_lost_s"] = round(ref.startup_lost_s, 2)
    data["scenario"]["yellow_end_use_s"] = round(ref.yellow_end_use_s, 2)
    by_speed = ", ".join(
        f"{m.sat_flow_veh_per_h_per_lane:.0f} at {v * 3.6:.0f} km/h" for v, m in measured.items()
    )
    report.note(
        "sat_flow_pcu_per_h_per_lane, startup_lost_s and yellow_end_use_s: SUMO's own queue "
        f"discharge, measured (sim/interop/saturation.py, {saturation.QUEUE} vehicles of the "
        f"car type {vt.id if vt else 'SUMO default'!r} after a red) per link speed: "
        f"{by_speed} veh/h per lane; start-up lost time {ref.startup_lost_s:.2f} s, "
        f"yellow used {ref.yellow_end_use_s:.2f} s of {saturation.YELLOW_S:g} s"
    )
    if data.get("classes"):  # the file's vehicle types (the HCMC defaults do not dawdle)
        for row in data["classes"]:
            row["dawdle_mps"] = round(ref.dawdle_mps, 3)
        report.note(
            f"dawdle_mps = {ref.dawdle_mps:.3f} for every class: SUMO's drivers of that car "
            "type cruise this far below the road's speed on a free road (measured over 400 m, "
            "sim/interop/saturation.py; SUMO counts it as time loss, and so does the engine)"
        )
