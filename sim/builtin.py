"""Built-in scenarios, generated as TOML-shaped data and checked like any scenario file.

Each generator takes named parameters (``--set KEY=VALUE`` on the command line) and returns
the same structure a scenario file holds, so ``trafficsim scenarios --show grid`` prints a
file a user can edit and run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trafficsim.sim.hcmc_center import build_hcmc_center
from trafficsim.sim.hcmc_d1d3 import build_hcmc_d1d3


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    integer: bool = False
    maximum: float | None = None
    why_maximum: str = ""
    """Why values above ``maximum`` are refused (said in the error)."""


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    summary: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any]], dict[str, Any]]


GRID_MAX_SIZE = 100
"""Largest ``grid`` (intersections per side): a size of 1,000 built a million intersections
for minutes before a run could refuse them."""


# HCMC arterial defaults. NOT SOURCED as HCMC figures (HCMC_FACTS rows 8-9): 1800 PCU/h per
# lane is a common base saturation flow (HCM's base is 1900 pc/h/ln before adjustments);
# 50 km/h is the urban speed limit for cars on divided roads in Vietnam's Circular
# 31/2019/TT-BGTVT (60 km/h), lowered for signalized arterials: an assumption.
_COMMON = (
    Param("duration_s", 3600.0, "demand and simulation horizon (s)", minimum=0.0),
    Param("mix", "hcmc", "vehicle mix of all demand", choices=("hcmc", "cars")),
    Param("arrivals", "poisson", "arrival process", choices=("poisson", "uniform")),
    Param("link_length_m", 300.0, "length of every link (m)", minimum=0.0),
    Param("lanes", 2, "lanes per direction", minimum=1, integer=True),
    Param("speed_kmh", 50.0, "free speed (km/h)", minimum=0.0),
    Param("sat_flow_pcu_per_h_per_lane", 1800.0, "saturation flow (PCU/h per lane)", minimum=0.0),
    Param("yellow_s", 3.0, "yellow after each green (s)", minimum=-1e-9),
    Param("all_red_s", 0.0, "all-red after each yellow (s)", minimum=-1e-9),
)


def _head(p: dict[str, Any], name: str, description: str) -> dict[str, Any]:
    return {
        "scenario": {
            "name": name,
            "description": description,
            "duration_s": float(p["duration_s"]),
        },
        "link_defaults": {
            "length_m": float(p["link_length_m"]),
            "lanes": int(p["lanes"]),
            "speed_kmh": float(p["speed_kmh"]),
            "sat_flow_pcu_per_h_per_lane": float(p["sat_flow_pcu_per_h_per_lane"]),
        },
    }


def _two_phase(p: dict[str, Any], green_ns: float, green_ew: float) -> list[dict[str, Any]]:
    y, ar = float(p["yellow_s"]), float(p["all_red_s"])
    return [
        {"groups": ["NS"], "green_s": green_ns, "yellow_s": y, "all_red_s": ar},
        {"groups": ["EW"], "green_s": green_ew, "yellow_s": y, "all_red_s": ar},
    ]


def build_isolated(p: dict[str, Any]) -> dict[str, Any]:
    """One four-arm signalized intersection, two phases (N-S, then E-W)."""
    d = _head(p, "isolated", "one four-arm intersection, fixed-time two-phase plan")
    d["parameters"] = {k: v for k, v in p.items() if k != "duration_s"}  # in [scenario]
    L = float(p["link_length_m"])
    arms = {"N": (0.0, L), "S": (0.0, -L), "E": (L, 0.0), "W": (-L, 0.0)}
    d["nodes"] = [{"id": "C", "kind": "signal", "x_m": 0.0, "y_m": 0.0}] + [
        {"id": a, "kind": "boundary", "x_m": x, "y_m": y} for a, (x, y) in arms.items()
    ]
    d["links"] = []
    for a in arms:
        d["links"].append({"id": f"{a}_in", "from": a, "to": "C"})
        d["links"].append({"id": f"{a}_out", "from": "C", "to": a})
    # Turns as seen by a driver arriving from each arm (right-hand traffic).
    opposite = {"N": "S", "S": "N", "E": "W", "W": "E"}
    left = {"N": "E", "S": "W", "E": "S", "W": "N"}
    right = {"N": "W", "S": "E", "E": "N", "W": "S"}
    lt, rt = float(p["left_share"]), float(p["right_share"])
    d["movements"] = []
    for a in arms:
        group = "NS" if a in "NS" else "EW"
        for to, share in ((opposite[a], 1.0 - lt - rt), (left[a], lt), (right[a], rt)):
            if share > 0:
                d["movements"].append(
                    {"from": f"{a}_in", "to": f"{to}_out", "share": share, "group": group}
                )
    d["signals"] = [
        {
            "node": "C",
            "offset_s": 0.0,
            "phases": _two_phase(p, float(p["green_ns_s"]), float(p["green_ew_s"])),
        }
    ]
    flows = {
        "N": p["flow_ns_veh_per_h"],
        "S": p["flow_ns_veh_per_h"],
        "E": p["flow_ew_veh_per_h"],
        "W": p["flow_ew_veh_per_h"],
    }
    d["demand"] = [
        {
            "link": f"{a}_in",
            "flow_veh_per_h": float(flows[a]),
            "mix": p["mix"],
            "arrivals": p["arrivals"],
        }
        for a in arms
    ]
    return d


def build_grid(p: dict[str, Any]) -> dict[str, Any]:
    """An N x N grid of two-way arterials, straight-through demand from every boundary."""
    n = int(p["size"])
    d = _head(p, "grid", f"{n} x {n} arterial grid, fixed-time two-phase plans")
    d["parameters"] = {k: v for k, v in p.items() if k != "duration_s"}  # in [scenario]
    L = float(p["link_length_m"])

    def rc(i: int, j: int) -> str:
        return f"r{i}c{j}"

    nodes = [
        {"id": rc(i, j), "kind": "signal", "x_m": j * L, "y_m": -i * L}
        for i in range(n)
        for j in range(n)
    ]
    for k in range(n):
        nodes += [
            {"id": f"N{k}", "kind": "boundary", "x_m": k * L, "y_m": L},
            {"id": f"S{k}", "kind": "boundary", "x_m": k * L, "y_m": -n * L},
            {"id": f"W{k}", "kind": "boundary", "x_m": -L, "y_m": -k * L},
            {"id": f"E{k}", "kind": "boundary", "x_m": n * L, "y_m": -k * L},
        ]
    d["nodes"] = nodes
    # Corridors: a sequence of node ids from one boundary to the opposite one, per direction.
    corridors: list[tuple[str, list[str]]] = []
    for k in range(n):
        col = [f"N{k}"] + [rc(i, k) for i in range(n)] + [f"S{k}"]
        row = [f"W{k}"] + [rc(k, j) for j in range(n)] + [f"E{k}"]
        corridors += [("NS", col), ("NS", col[::-1]), ("EW", row), ("EW", row[::-1])]
    links, moves, demand = [], [], []
    ns_flow = float(p["entry_flow_veh_per_h"])
    ew_flow = ns_flow * float(p["cross_flow_ratio"])
    for group, seq in corridors:
        ids = [f"{a}-{b}" for a, b in itertools.pairwise(seq)]
        links += [
            {"id": lid, "from": a, "to": b}
            for lid, (a, b) in zip(ids, itertools.pairwise(seq), strict=True)
        ]
        moves += [
            {"from": a, "to": b, "share": 1.0, "group": group} for a, b in itertools.pairwise(ids)
        ]
        demand.append(
            {
                "link": ids[0],
                "flow_veh_per_h": ns_flow if group == "NS" else ew_flow,
                "mix": p["mix"],
                "arrivals": p["arrivals"],
            }
        )
    d["links"], d["movements"], d["demand"] = links, moves, demand
    off = float(p["offset_step_s"])
    cycle = 2 * (float(p["green_s"]) + float(p["yellow_s"]) + float(p["all_red_s"]))
    d["signals"] = [
        {
            "node": rc(i, j),
            "offset_s": ((i + j) * off) % cycle if cycle > 0 else 0.0,
            "phases": _two_phase(p, float(p["green_s"]), float(p["green_s"])),
        }
        for i in range(n)
        for j in range(n)
    ]
    return d


_D1D3 = (
    Param(
        "period",
        "peak",
        "peak: 06:30-09:00; day: the whole weekday",
        choices=("peak", "day"),
    ),
    Param("duration_s", 0.0, "horizon (s); 0: the whole period", minimum=0.0),
    Param("mix", "hcmc", "vehicle mix of all demand", choices=("hcmc", "cars")),
    Param("arrivals", "poisson", "arrival process", choices=("poisson", "uniform")),
    Param(
        "demand_scale",
        0.4812,
        "peak demand level (calibrated: scripts/calibrate_hcmc_d1d3.py)",
        minimum=0.0,
    ),
    Param(
        "am_0700_factor",
        1.9742,
        "06:30-07:15 demand over the peak's (calibrated)",
        minimum=0.0,
    ),
    Param(
        "late_morning_factor",
        1.0,
        "09:00-16:30 demand over the peak's (assumption: as loaded as the peak)",
        minimum=0.0,
    ),
    Param(
        "free_speed_kmh",
        26.4843,
        "highest free speed on any street (km/h, calibrated to the night speed)",
        minimum=1.0,
    ),
    Param(
        "plans",
        "today",
        "today: a common cycle, greens by lanes (an assumption); netconvert: "
        "netconvert's default programs",
        choices=("today", "netconvert"),
    ),
    Param(
        "cycle_s",
        90.0,
        "cycle of today's plans in the peak (s, HCMC_FACTS 22b)",
        minimum=1.0,
    ),
    Param(
        "offpeak_cycle_s",
        75.0,
        "cycle of today's plans when period = day (s, HCMC_FACTS 22b)",
        minimum=1.0,
    ),
    Param(
        "routing",
        "time-dependent",
        "time-dependent: trips routed by the waits measured (drivers avoid jams); free-flow",
        choices=("free-flow", "time-dependent"),
    ),
    Param("yellow_s", 3.0, "yellow of today's plans (s)", minimum=0.0),
    Param("all_red_s", 2.0, "all-red of today's plans (s, assumption)", minimum=0.0),
    Param(
        "sat_flow",
        "lanes",
        "lanes: 1800 PCU/h per lane; width: s0 x lane width (IHCM 1997)",
        choices=("lanes", "width"),
    ),
    Param(
        "s0_pcu_per_h_per_m",
        600.0,
        "width-based base saturation flow (IHCM 1997)",
        minimum=1.0,
    ),
    Param(
        "lane_width_m",
        3.5,
        "effective width per lane for the width-based flow (m)",
        minimum=0.5,
    ),
)
"""Parameters of ``hcmc-d1d3`` and of its centre ``hcmc-center``."""


BUILTINS: dict[str, Builtin] = {
    "hcmc-d1d3": Builtin(
        name="hcmc-d1d3",
        summary="the real District 1/3 core of HCMC from OpenStreetMap, 89 signals, AM peak",
        params=_D1D3,
        build=build_hcmc_d1d3,
    ),
    "hcmc-center": Builtin(
        name="hcmc-center",
        summary="the centre of hcmc-d1d3 (23 signals), cut from OpenStreetMap, AM peak",
        params=_D1D3,
        build=build_hcmc_center,
    ),
    "isolated": Builtin(
        name="isolated",
        summary="one four-arm signalized intersection, fixed-time two-phase plan",
        params=(
            *_COMMON,
            Param(
                "flow_ns_veh_per_h",
                2000.0,
                "demand on each of the N and S approaches (veh/h)",
                minimum=-1e-9,
            ),
            Param(
                "flow_ew_veh_per_h",
                1400.0,
                "demand on each of the E and W approaches (veh/h)",
                minimum=-1e-9,
            ),
            Param("left_share", 0.1, "share of each approach turning left", minimum=-1e-9),
            Param("right_share", 0.1, "share of each approach turning right", minimum=-1e-9),
            Param("green_ns_s", 27.0, "green of the N-S phase (s)", minimum=0.0),
            Param("green_ew_s", 27.0, "green of the E-W phase (s)", minimum=0.0),
        ),
        build=build_isolated,
    ),
    "grid": Builtin(
        name="grid",
        summary="N x N arterial grid (300 m links, 2 lanes, 50 km/h), 60 s two-phase plans",
        params=(
            Param(
                "size",
                4,
                "N, intersections per side",
                minimum=1,
                integer=True,
                maximum=GRID_MAX_SIZE,
                why_maximum="10,000 intersections; the network is built before any run",
            ),
            *_COMMON,
            Param(
                "entry_flow_veh_per_h", 600.0, "demand per north-south entry (veh/h)", minimum=-1e-9
            ),
            Param(
                "cross_flow_ratio",
                1.0,
                "east-west entry demand as a multiple of north-south",
                minimum=-1e-9,
            ),
            Param("green_s", 27.0, "green of each phase (s)", minimum=0.0),
            Param(
                "offset_step_s",
                0.0,
                "offset added per intersection along rows and columns (s)",
                minimum=-1e-9,
            ),
        ),
        build=build_grid,
    ),
}
