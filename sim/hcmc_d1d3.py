"""The built-in ``hcmc-d1d3``: the real District 1 / District 3 core of Ho Chi Minh City.

The network is OpenStreetMap's (1 January 2018, © OpenStreetMap contributors, ODbL),
imported by the project's own OSM importer into ``sim/data/hcmc_d1d3_network.toml``
(``scripts/build_hcmc_d1d3.py`` rebuilds it byte for byte): its one-way streets, lanes,
lengths, street names, shapes and the 89 signalized junctions netconvert finds in the
extract. This module adds what a map does not hold, each part a stated assumption or a
calibrated value (docs/hcmc-d1d3.md):

- **Demand**: origin-destination flows between the fringe of the map (four sectors, entry
  weights by lanes and road class) and nine interior zones (the core's own trip ends, by
  lane-metres of its streets), with the HCMC vehicle mix, over a weekday profile
  (:data:`DAY_SHAPE`). Its level and the free speed are calibrated to the observed speeds of
  the core (HCMC_FACTS row 21) by ``scripts/calibrate_hcmc_d1d3.py``.
- **Signal plans**: "today's" plans are an assumption too (no official plans are public):
  a common cycle (90 s in the peak, 75 s off-peak: HCMC_FACTS row 22b, weak), in phases in
  the order of netconvert's program, greens shared by the lanes they serve
  (:mod:`~trafficsim.sim.plans_by_lanes`); ``plans = "netconvert"`` keeps netconvert's own
  default programs (in stages, which Webster's retiming and the predictive controller do
  not time).
- **Saturation flow**: 1,800 PCU/h per lane, or width-based (Indonesian HCM 1997,
  ``S0 x W_e`` with S0 = 600 PCU/h per metre, HCMC_FACTS row 23).
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

from trafficsim.sim.interop.osm import LICENCE
from trafficsim.sim.plans_by_lanes import phases_by_lanes

NETWORK_FILE = "hcmc_d1d3_network.toml"

PERIODS = {"peak": (6.5 * 3600.0, 9000.0), "day": (0.0, 86400.0)}
"""Start (s after midnight) and length of each period: the AM peak 06:30-09:00, as the
report's peak case, or the whole weekday."""

DAY_SHAPE: tuple[tuple[float, str], ...] = (
    (0.0, "night"),
    (5.0, "dawn"),
    (6.0, "early"),
    (6.5, "am_0700"),
    (7.25, "peak"),
    (8.5, "shoulder"),
    (9.0, "late_morning"),
    (16.5, "pm"),
    (18.5, "shoulder"),
    (19.5, "late_morning"),
    (21.5, "dawn"),
    (22.5, "night"),
)
"""The weekday profile: from each hour of the day, the level named (a factor of the peak's,
:func:`levels`). The 07:00, peak (07:30) and late-morning levels are fitted to row 21's
speeds, the night level is an assumption (the night speed fixes the free speed instead);
the evening peak is the morning one (DOT's bus GPS: AM 19, PM 18 km/h, HCMC_FACTS row 7),
and the steps between are halfway values: ASSUMPTIONS where row 21 has no sample."""

NIGHT_FACTOR = 0.08
"""Night demand (22:30-05:00) as a share of the peak's: an ASSUMPTION (a light load; the
night speed is set by the free speed and the signals, not by this)."""

FRINGE_THROUGH_SHARE = 0.4
"""Share of the traffic entering at the map's edge that crosses the core to another edge
(the rest ends in the core): an ASSUMPTION, no HCMC cordon count was found."""
INTERIOR_PER_ENTRY = 1.0
"""Trips beginning inside the core per trip entering it: an ASSUMPTION (as many as enter; a
core of homes, shops and offices); half of them leave the core, half end in it."""
ENTRY_VEH_PER_H_PER_WEIGHT = 300.0
"""The peak's entry flow per unit of entry weight (a lane of a primary road) before
``demand_scale``: 300 veh/h, about a sixth of a lane's saturation flow in vehicles of the
HCMC mix; the calibration scales it."""


def levels(p: dict[str, Any]) -> dict[str, float]:
    """Each level of :data:`DAY_SHAPE` as a factor of the peak's."""
    peak, am, late = 1.0, float(p["am_0700_factor"]), float(p["late_morning_factor"])
    night = NIGHT_FACTOR
    return {
        "night": night,
        "dawn": (night + am) / 2.0,
        "early": (am + (night + am) / 2.0) / 2.0,
        "am_0700": am,
        "peak": peak,
        "shoulder": (peak + late) / 2.0,
        "late_morning": late,
        "pm": peak,
    }


def network_data() -> dict[str, Any]:
    """The vendored network, as TOML data (a fresh copy each call)."""
    text = (resources.files("trafficsim.sim") / "data" / NETWORK_FILE).read_text("utf-8")
    return tomllib.loads(text)


def build_hcmc_d1d3(p: dict[str, Any]) -> dict[str, Any]:
    d = network(p, "hcmc-d1d3", "Districts 1 and 3 of Ho Chi Minh City from OpenStreetMap")
    return with_demand(d, p)


def network(p: dict[str, Any], name: str, what: str) -> dict[str, Any]:
    """The vendored network with the period, free speeds, saturation flow and plans of
    ``p``; its zones, no demand yet."""
    d = network_data()
    start_s, length_s = PERIODS[str(p["period"])]
    hh, mm = divmod(int(start_s // 60), 60)
    head = d["scenario"]
    head["name"] = name
    head["duration_s"] = float(p["duration_s"]) or length_s
    head["start_time"] = f"2026-03-02T{hh:02d}:{mm:02d}:00+07:00"
    head["description"] = (
        f"{what}, {p['period']} (from {hh:02d}:{mm:02d}), {p['plans']} signal plans, "
        f"{p['sat_flow']} saturation flow. {LICENCE}"
    )
    d["parameters"] = {k: v for k, v in p.items() if k != "duration_s"}
    head["routing"] = str(p["routing"])
    cap = float(p["free_speed_kmh"])
    for ln in d["links"]:
        ln["speed_kmh"] = min(float(ln["speed_kmh"]), cap)
    if p["sat_flow"] == "width":
        sat = float(p["s0_pcu_per_h_per_m"]) * float(p["lane_width_m"])
        d["link_defaults"] = {"sat_flow_pcu_per_h_per_lane": round(sat, 1)}
    if p["plans"] == "today":
        cycle = float(p["cycle_s"] if p["period"] == "peak" else p["offpeak_cycle_s"])
        for sig in d["signals"]:
            _todays_plan(sig, d, cycle, p)
    return d


def with_demand(d: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    """``d`` with the OD flows between its zones over the period."""
    start_s = PERIODS[str(p["period"])][0]
    d["od"] = _od(d["zones"], p, start_s, float(d["scenario"]["duration_s"]))
    return d


def _profile(p: dict[str, Any], start_s: float, duration_s: float) -> list[list[float]]:
    """The day's shape as ``[[t_s, factor]]`` from the period's start."""
    lv = levels(p)
    steps = [(h * 3600.0, lv[name]) for h, name in DAY_SHAPE]
    out: list[list[float]] = []
    for t, f in steps:
        rel = t - start_s
        if rel <= 0:
            out = [[0.0, f]]
        elif rel < duration_s:
            out.append([rel, f])
    return out


def _od(
    zones: list[dict[str, Any]], p: dict[str, Any], start_s: float, duration_s: float
) -> list[dict[str, Any]]:
    """Fringe to fringe, fringe to interior, interior to fringe and within the core."""
    weight = {z["id"]: sum(z["weights"]) for z in zones}
    ins = [z["id"] for z in zones if z["id"].endswith("-in")]
    outs = [z["id"] for z in zones if z["id"].endswith("-out")]
    inner = [z["id"] for z in zones if z["id"].startswith("interior-")]
    level = ENTRY_VEH_PER_H_PER_WEIGHT * float(p["demand_scale"])
    shape = _profile(p, start_s, duration_s)
    rows: list[tuple[str, str, float]] = []
    w_inner = sum(weight[z] for z in inner)
    entering = 0.0
    for a in ins:
        q = level * weight[a]
        entering += q
        sector = a.removesuffix("-in")
        far = [b for b in outs if b.removesuffix("-out") != sector]
        w_far = sum(weight[b] for b in far)
        rows += [(a, b, q * FRINGE_THROUGH_SHARE * weight[b] / w_far) for b in far]
        rows += [(a, z, q * (1 - FRINGE_THROUGH_SHARE) * weight[z] / w_inner) for z in inner]
    w_out = sum(weight[b] for b in outs)
    for z in inner:
        g = entering * INTERIOR_PER_ENTRY * weight[z] / w_inner
        rows += [(z, b, g / 2 * weight[b] / w_out) for b in outs]
        rows += [(z, y, g / 2 * weight[y] / w_inner) for y in inner]
    return [
        {
            "from": a,
            "to": b,
            "profile": [[t, round(q * f, 2)] for t, f in shape],
            "mix": p["mix"],
            "arrivals": p["arrivals"],
        }
        for a, b, q in rows
        if q > 0
    ]


def _todays_plan(sig: dict[str, Any], d: dict[str, Any], cycle_s: float, p: dict[str, Any]) -> None:
    """netconvert's program as today's plan: phases in its order on the common cycle,
    greens by lanes (:mod:`~trafficsim.sim.plans_by_lanes`)."""
    node = sig["node"]
    link_to = {ln["id"]: ln for ln in d["links"]}
    lanes: dict[str, int] = {}
    for m in d["movements"]:
        g = m.get("group")
        ln = link_to[m["from"]]
        if g is not None and ln["to"] == node:
            lanes[g] = max(lanes.get(g, 0), int(ln["lanes"]))
    sig["phases"] = phases_by_lanes(
        sig.pop("stages"), lanes, cycle_s, float(p["yellow_s"]), float(p["all_red_s"])
    )
