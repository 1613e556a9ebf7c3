"""Gap acceptance checked against its closed forms, as functions: a small network, a run,
the capacity it measured and the capacity theory gives.

``tests/validation/test_gap_acceptance.py`` asserts them (within 10 %) and
``benchmarks/gap_acceptance.py`` prints them over a range of conflicting flows.

- :func:`priority_junction`: a minor stream crossing a major one at an unsignalized node,
  always queued; its discharge against Harders' potential capacity (HCM 6th ed., Ch. 20)
  and Siegloch's (1973), at the conflicting flow that really passed.
- :func:`permitted_left`: a left turn on its own lane at a signal, giving way to the
  opposing through traffic of the same phase; left turns per cycle against HCM 6th ed.,
  Ch. 31: ``g_u s_p / 3600 + n_s``, with ``s_p`` the permitted left-turn saturation flow
  (critical headway 4.5 s, follow-up 2.5 s), ``g_u`` the green after the opposing queue has
  cleared (measured per cycle) and ``n_s = 2`` sneakers.
- :func:`right_turn_on_red`: right turns on red joining the cross street during its green,
  once its queue has cleared, against Harders at that street's flow. Only departures at
  least ``t_c`` before the end of the cross street's green count (later ones see the gap
  its red opens, which no closed form includes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from trafficsim.sim.config import OnRed, Scenario
from trafficsim.sim.gaps import potential_capacity_veh_per_h, siegloch_capacity_veh_per_h
from trafficsim.sim.lane_rules import SNEAKERS_PER_GREEN
from trafficsim.sim.scenario_io import scenario_from_dict
from trafficsim.sim.units import S_PER_H
from trafficsim.sim.world import World

_ARM_M = 400.0  # every approach: long enough that conflicting vehicles are known t_c ahead
WARMUP_S = 900.0


@dataclass(frozen=True, slots=True)
class CapacityCheck:
    """One case: what the engine discharged and what the closed form says."""

    case: str
    conflicting_veh_per_h: float
    critical_gap_s: float
    follow_up_s: float
    simulated: float
    closed_form: float
    unit: str
    siegloch: float | None = None

    @property
    def ratio(self) -> float:
        return self.simulated / self.closed_form


def _arms(kind: str) -> dict[str, Any]:
    L = _ARM_M
    return {
        "link_defaults": {"length_m": L, "lanes": 1, "speed_kmh": 50.0},
        "nodes": [
            {"id": "C", "kind": kind},
            {"id": "W", "kind": "boundary", "x_m": -L},
            {"id": "E", "kind": "boundary", "x_m": L},
            {"id": "S", "kind": "boundary", "y_m": -L},
            {"id": "N", "kind": "boundary", "y_m": L},
        ],
    }


def priority_junction(
    conflicting_veh_per_h: float,
    critical_gap_s: float,
    follow_up_s: float,
    *,
    duration_s: float = 3 * 3600.0,
    seed: int = 1,
) -> CapacityCheck:
    """A minor through stream (S to N) yields to a major one (W to E, Poisson, two lanes at
    3,600 PCU/h each so that its headways stay close to exponential)."""
    world = World(
        priority_junction_scenario(conflicting_veh_per_h, critical_gap_s, follow_up_s, duration_s),
        seed,
    )
    world.run()
    q = rate_veh_per_h(world, "W_in", WARMUP_S, duration_s)
    return CapacityCheck(
        "priority junction, minor stream",
        q,
        critical_gap_s,
        follow_up_s,
        rate_veh_per_h(world, "S_in", WARMUP_S, duration_s),
        potential_capacity_veh_per_h(q, critical_gap_s, follow_up_s),
        "veh/h",
        siegloch_capacity_veh_per_h(q, critical_gap_s, follow_up_s),
    )


def priority_junction_scenario(
    conflicting_veh_per_h: float, critical_gap_s: float, follow_up_s: float, duration_s: float
) -> Scenario:
    """The network of :func:`priority_junction`: lane groups ``W_in`` (major) and ``S_in``
    (minor, queued)."""
    c0 = potential_capacity_veh_per_h(conflicting_veh_per_h, critical_gap_s, follow_up_s)
    d = {
        "scenario": {"name": "priority-junction", "duration_s": duration_s},
        **_arms("uncontrolled"),
        "links": [
            {"id": "W_in", "from": "W", "to": "C", "lanes": 2, "sat_flow_pcu_per_h_per_lane": 3600},
            {"id": "E_out", "from": "C", "to": "E", "lanes": 2},
            {"id": "S_in", "from": "S", "to": "C", "length_m": 200.0},
            {"id": "N_out", "from": "C", "to": "N"},
        ],
        "movements": [
            {"from": "W_in", "to": "E_out", "share": 1.0},
            {
                "from": "S_in",
                "to": "N_out",
                "share": 1.0,
                "yield_to": [["W_in", "E_out"]],
                "critical_gap_s": critical_gap_s,
                "follow_up_s": follow_up_s,
            },
        ],
        "demand": [
            {"link": "W_in", "flow_veh_per_h": conflicting_veh_per_h, "mix": "cars"},
            {"link": "S_in", "flow_veh_per_h": 1.3 * c0 + 100.0, "mix": "cars"},  # queued
        ],
    }
    return scenario_from_dict(d, "priority-junction")


def _signal(
    opposing: float,
    cross: float,
    turner_flow: float,
    left_share: float,
    greens: tuple[float, float],
) -> dict[str, Any]:
    """Two-phase signal (NS, then EW; 3 s yellows). From S: a left turn on lane 1 giving way
    to N's through traffic, and a right turn on lane 0 that may go on red, giving way to
    W's through traffic (which it joins)."""
    d = _arms("signal")
    d["link_defaults"]["lanes"] = 2
    d["links"] = [
        {"id": f"{a}_{way}", "from": a if way == "in" else "C", "to": "C" if way == "in" else a}
        for a in "NSEW"
        for way in ("in", "out")
    ]
    d["movements"] = [
        {"from": "N_in", "to": "S_out", "share": 1.0, "group": "NS", "lanes": [0, 1]},
        {
            "from": "S_in",
            "to": "W_out",
            "share": left_share,
            "group": "NS",
            "lanes": [1],
            "yield_to": [["N_in", "S_out"]],
        },
        {
            "from": "S_in",
            "to": "E_out",
            "share": 1.0 - left_share,
            "group": "NS",
            "lanes": [0],
            "on_red": "yield",
            "yield_to": [["W_in", "E_out"]],
        },
        {"from": "W_in", "to": "E_out", "share": 1.0, "group": "EW"},
        {"from": "E_in", "to": "W_out", "share": 1.0, "group": "EW"},
    ]
    d["signals"] = [
        {
            "node": "C",
            "phases": [
                {"groups": ["NS"], "green_s": greens[0], "yellow_s": 3.0},
                {"groups": ["EW"], "green_s": greens[1], "yellow_s": 3.0},
            ],
        }
    ]
    d["demand"] = [
        {"link": "N_in", "flow_veh_per_h": opposing, "mix": "cars"},
        {"link": "S_in", "flow_veh_per_h": turner_flow, "mix": "cars"},
        {"link": "W_in", "flow_veh_per_h": cross, "mix": "cars"},
        {"link": "E_in", "flow_veh_per_h": 100.0, "mix": "cars"},
    ]
    return d


def permitted_left(
    opposing_veh_per_h: float, *, duration_s: float = 3 * 3600.0, seed: int = 2
) -> CapacityCheck:
    """Left turns per cycle (always queued) against HCM Ch. 31's permitted capacity."""
    greens = (40.0, 20.0)
    d = _signal(opposing_veh_per_h, 300.0, 2000.0, 0.5, greens)
    d["scenario"] = {"name": "permitted-left", "duration_s": duration_s}
    sc = scenario_from_dict(d, "permitted-left")
    left = next(m for m in sc.movements if m.to_link == "W_out" and m.from_link == "S_in")
    tc, tf = left.critical_gap_s or 0.0, left.follow_up_s or 0.0
    world = World(sc, seed)
    world.run()
    cycle = greens[0] + greens[1] + 6.0
    lo, hi = sc.timing.startup_lost_s, greens[0] + min(3.0, sc.timing.yellow_end_use_s)
    opp, lt = passes(world, "N_in:NS"), passes(world, "S_in:NS.l1")
    s_p = potential_capacity_veh_per_h(opposing_veh_per_h, tc, tf)
    n_sim = n_hcm = 0.0
    cycles = range(int(WARMUP_S // cycle) + 1, int(duration_s // cycle) - 1)
    for k in cycles:
        gs, ge = k * cycle + lo, k * cycle + hi
        g_u = ge - _queue_cleared(opp, gs, ge)
        n_sim += np.count_nonzero((lt["t_dep_s"] >= gs) & (lt["t_dep_s"] <= ge + 1e-6))
        n_hcm += g_u * s_p / S_PER_H + SNEAKERS_PER_GREEN
    q = rate_veh_per_h(world, "N_in:NS", WARMUP_S, duration_s)
    return CapacityCheck(
        "permitted left at a signal",
        q,
        tc,
        tf,
        n_sim / len(cycles),
        n_hcm / len(cycles),
        "veh/cycle",
    )


def right_turn_on_red(
    cross_veh_per_h: float, *, duration_s: float = 3 * 3600.0, seed: int = 3
) -> CapacityCheck:
    """Right turns on red (always queued) while the cross street has green, against
    Harders at the cross street's flow."""
    greens = (20.0, 60.0)
    d = _signal(300.0, cross_veh_per_h, 2000.0, 0.02, greens)
    d["scenario"] = {"name": "right-on-red", "duration_s": duration_s}
    sc = scenario_from_dict(d, "right-on-red")
    rt = next(m for m in sc.movements if m.on_red is OnRed.YIELD)
    tc, tf = rt.critical_gap_s or 0.0, rt.follow_up_s or 0.0
    world = World(sc, seed)
    world.run()
    cycle = greens[0] + greens[1] + 6.0
    lo = greens[0] + 3.0 + sc.timing.startup_lost_s
    hi = greens[0] + 3.0 + greens[1] + min(3.0, sc.timing.yellow_end_use_s)
    cross, rtor = passes(world, "W_in:EW"), passes(world, "S_in:NS.l0")
    n = 0
    span = 0.0
    for k in range(int(WARMUP_S // cycle) + 1, int(duration_s // cycle) - 1):
        gs, ge = k * cycle + lo, k * cycle + hi
        start, end = _queue_cleared(cross, gs, ge), ge - tc
        if end > start:
            n += int(np.count_nonzero((rtor["t_dep_s"] >= start) & (rtor["t_dep_s"] < end)))
            span += end - start
    q = rate_veh_per_h(world, "W_in:EW", WARMUP_S, duration_s)
    return CapacityCheck(
        "right turn on red",
        q,
        tc,
        tf,
        n / span * S_PER_H,
        potential_capacity_veh_per_h(q, tc, tf),
        "veh/h",
        siegloch_capacity_veh_per_h(q, tc, tf),
    )


def passes(world: World, lane_group: str) -> np.ndarray:
    """The pass records of one lane group (``World.records`` rows)."""
    index = next(i.index for i in world.lane_group_info if i.id == lane_group)
    rec = world.records()
    out: np.ndarray = rec[rec["lane_group"] == index]
    return out


def rate_veh_per_h(world: World, lane_group: str, t0: float, t1: float) -> float:
    """Departures per hour from a lane group in ``[t0, t1)``."""
    dep = passes(world, lane_group)["t_dep_s"]
    return float(np.count_nonzero((dep >= t0) & (dep < t1)) / (t1 - t0) * S_PER_H)


def _queue_cleared(passes: np.ndarray, gs: float, ge: float) -> float:
    """When the last vehicle that had waited through red left, in the green [gs, ge)."""
    dep = passes["t_dep_s"]
    waited = (dep >= gs) & (dep < ge) & (dep > passes["t_stop_s"] + 1e-6)
    return float(dep[waited].max()) if waited.any() else gs
