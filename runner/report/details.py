"""What the impact report needs of one run beyond its totals: series over time, figures per
intersection and link, and the totals under the other emission fleet; and their means over
the seeds of a controller."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trafficsim.sim import RunMetrics, World, compute, lon_lat

BIN_S = 300.0
"""Time series of the report in 5-minute bins."""


Details = dict[tuple[str, int], dict[str, Any]]
"""Every run's :func:`run_detail` by (controller, seed)."""


def run_detail(world: World, result: RunMetrics) -> dict[str, Any]:
    """Computed where the run is (a Dask worker), so only these figures travel back."""
    sc = world.scenario
    T = world.now_s
    edges = np.arange(0.0, T + BIN_S, BIN_S)
    # Network queue: vehicles standing at all stop lines, mean per bin.
    q = result.queues
    total_q = q["queue_veh"].sum(axis=0) if len(q["ids"]) else np.zeros(len(q["t_s"]))
    b = np.clip(np.digitize(q["t_s"], edges) - 1, 0, len(edges) - 2)
    counts = np.bincount(b, minlength=len(edges) - 1)
    queue = np.bincount(b, weights=total_q, minlength=len(edges) - 1) / np.maximum(counts, 1)
    # Mean delay of the vehicles that finished in each bin.
    v = result.vehicles
    done = np.isfinite(v["t_exit_s"])
    vb = np.clip(np.digitize(v["t_exit_s"][done], edges) - 1, 0, len(edges) - 2)
    n = np.bincount(vb, minlength=len(edges) - 1)
    delay = np.bincount(vb, weights=v["delay_s"][done], minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        delay_mean = np.where(n > 0, delay / np.maximum(n, 1), np.nan)
    # Per intersection: delay weighted by vehicles served, emissions and why.
    inter: dict[str, dict[str, Any]] = {}
    for a in result.summary["approaches"]:
        d = inter.setdefault(a["intersection"], {"veh": 0, "delay_sum": 0.0})
        if a["mean_delay_s"] is not None and a["vehicles_served"]:
            d["veh"] += a["vehicles_served"]
            d["delay_sum"] += a["mean_delay_s"] * a["vehicles_served"]
    nodes = {n.id: n for n in sc.nodes}
    em = result.emissions
    em_rows = {r["intersection"]: r for r in (em.intersections if em else [])}
    per_node = {}
    for node, d in inter.items():
        lon, lat = lon_lat(sc.origin_lat, sc.origin_lon, nodes[node].x_m, nodes[node].y_m)
        row = em_rows.get(node, {})
        per_node[node] = {
            "lon": round(lon, 6),
            "lat": round(lat, 6),
            "vehicles": d["veh"],
            "delay_s": round(d["delay_sum"] / d["veh"], 3) if d["veh"] else None,
            "co2_kg": row.get("co2_kg"),
            "idle_share": row.get("idle_share"),
            "stop_and_go_share": row.get("stop_and_go_share"),
            "max_queue_veh": max(
                (
                    a["max_queue_veh"]
                    for a in result.summary["approaches"]
                    if a["intersection"] == node
                ),
                default=0,
            ),
        }
    other = "hbefa4" if sc.fleet == "vn" else "vn"
    alt = compute(world, fleet=other).summary
    links = sorted(em.links if em else [], key=lambda r: -(r["co2_kg"] or 0.0))[:10]
    return {
        "bin_s": BIN_S,
        "queue_veh": [round(float(x), 2) for x in queue],
        "delay_s": [None if not np.isfinite(x) else round(float(x), 2) for x in delay_mean],
        "intersections": per_node,
        "links": [
            {
                k: r.get(k)
                for k in ("link", "co2_kg", "co2_g_per_km", "idle_share", "stop_and_go_share")
            }
            for r in links
        ],
        "fleet": sc.fleet,
        "other_fleet": {
            "fleet": other,
            "co2_kg": alt["co2_kg"],
            "nox_g": alt["nox_g"],
            "pm_g": alt["pm_g"],
        },
        "network_speed_kmh": result.summary["network_speed_kmh"],
    }


def mean_series(details: Details, name: str, key: str, seeds: list[int]) -> np.ndarray:
    """A controller's time series ``key``, mean over ``seeds`` bin by bin (empty bins aside)."""
    rows = [np.array(details[(name, s)][key], dtype=float) for s in seeds]
    mean: np.ndarray = np.nanmean(np.vstack(rows), axis=0)
    return mean


def per_node(details: Details, name: str, key: str, seeds: list[int]) -> dict[str, float]:
    """A controller's figure ``key`` per intersection, mean over the seeds that have one."""
    nodes = details[(name, seeds[0])]["intersections"]
    out = {}
    for node in nodes:
        vals = [details[(name, s)]["intersections"][node][key] for s in seeds]
        vals = [v for v in vals if v is not None]
        out[node] = float(np.mean(vals)) if vals else math.nan
    return out
