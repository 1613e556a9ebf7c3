"""Emissions of simulated traffic: per vehicle, link, intersection, class and time.

Every pass of a vehicle along a link becomes a modal trajectory (cruise, brake, idle,
accelerate; :func:`sim.emissions.modal_grams`) at the link's speed for its class, with the
delay the vehicle had at the stop line. Passes still under way at the end of the run count
what they emitted so far: cruising up to where the vehicle is, or braking and idling for a
vehicle standing in a queue. Vehicles waiting to enter the network emit nothing here (they
are outside it). An intersection's emissions are those on its approach links; exit links
count for the link only. The time series puts each pass into the minute in which it ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trafficsim.sim.emissions import (
    MODES,
    POLLUTANTS,
    Fleet,
    along_speed,
    fleet_factor,
    modal_class,
    modal_grams,
)
from trafficsim.sim.world import ON_LINKS

if TYPE_CHECKING:
    from trafficsim.sim.world import World

SERIES_BIN_S = 60.0


@dataclass(frozen=True, slots=True)
class EmissionResult:
    summary: dict[str, Any]
    per_vehicle_g: np.ndarray  # (n_pollutants, n_vehicles)
    links: list[dict[str, Any]]
    intersections: list[dict[str, Any]]
    series: dict[str, np.ndarray]


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def compute_emissions(world: World, rec: np.ndarray, fleet: Fleet) -> EmissionResult:
    T = world.now_s
    sc = world.scenario
    info = world.lane_group_info
    kind = np.array([i.kind for i in info])
    length = np.array([i.length_m for i in info])
    link_names = sorted(world.links)
    link_idx = {name: k for k, name in enumerate(link_names)}
    lg_link = np.array([link_idx.get(i.link, -1) if i.kind in ON_LINKS else -1 for i in info])
    node_names = sorted({i.node for i in info if i.kind.at_stop_line})
    node_idx = {n: k for k, n in enumerate(node_names)}
    lg_node = np.array([node_idx.get(i.node, -1) if i.kind.at_stop_line else -1 for i in info])

    lg = rec["lane_group"]
    sel = np.isin(kind[lg], ON_LINKS) & (rec["t_in_s"] < T)
    r = rec[sel]
    # Records grouped by vehicle class, so each class is one contiguous slice.
    cls_all = world.veh_class_arr[r["vid"]] if len(r) else np.empty(0, dtype=int)
    order = np.argsort(cls_all, kind="stable")
    r, cls = r[order], cls_all[order]
    lg = r["lane_group"]
    vid = r["vid"]
    t_in, t_stop, t_dep = r["t_in_s"], r["t_stop_s"], r["t_dep_s"]
    L = length[lg]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(t_stop > t_in, L / (t_stop - t_in), 0.0)
    done = t_dep <= T
    queued = ~done & (t_stop <= T)
    driving = ~done & ~queued

    n_veh = len(world.veh_t_gen)
    grams = np.zeros((len(POLLUTANTS), len(MODES), len(r)))
    by_class: dict[str, np.ndarray] = {}
    bounds = np.searchsorted(cls, np.arange(len(sc.classes) + 1))
    for k, c in enumerate(sc.classes):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if c.emission_class is None or hi == lo:
            continue
        m = modal_class(c.emission_class, c.accel_mps2, c.decel_mps2)
        a, b = c.accel_mps2, c.decel_mps2
        part = slice(lo, hi)
        g = np.zeros((len(POLLUTANTS), len(MODES), hi - lo))
        d_, q_, dr_ = done[part], queued[part], driving[part]
        vv, LL = v[part], L[part]
        if d_.any():
            g[:, :, d_] = modal_grams(m, LL[d_], vv[d_], (t_dep[part] - t_stop[part])[d_], a, b)
        if dr_.any():
            # Cruising so far: a zero-delay pass over the distance driven by T.
            g[:, :, dr_] = modal_grams(
                m, vv[dr_] * (T - t_in[part][dr_]), vv[dr_], np.zeros(int(dr_.sum())), a, b
            )
        if q_.any():
            # Standing in a queue: braked to a stop and idling since, not yet pulled away.
            vq = vv[q_]
            gq = modal_grams(m, LL[q_], vq, np.full(len(vq), 1e12), a, b)
            gq[:, 2] -= along_speed(m.up, vq) / 1000.0  # not yet pulled away
            gq[:, 1] = (
                np.maximum(T - t_stop[part][q_] - vq / (2 * b), 0.0)[None, :]
                * m.idle[:, None]
                / 1000.0
            )
            g[:, :, q_] = gq
        factors = np.array([fleet_factor(c.emission_class, p, fleet) for p in POLLUTANTS])
        g *= factors[:, None, None]
        grams[:, :, part] = g
        by_class[c.name] = g.sum(axis=(1, 2))

    total_by_pollutant = grams.sum(axis=(1, 2))
    per_vehicle = np.stack(
        [
            np.bincount(vid, weights=grams[p].sum(axis=0), minlength=n_veh)
            for p in range(len(POLLUTANTS))
        ]
    )
    dist_m = np.where(done | queued, L, np.where(driving, v * (T - t_in), 0.0))
    km = dist_m.sum() / 1000.0
    co2_modes = grams[0].sum(axis=1)

    # Per link and per intersection (approach links), aggregated with bincount.
    links = _table("link", link_names, lg_link[lg], grams, dist_m, done)
    inters = _table("intersection", node_names, lg_node[lg], grams, dist_m, done)
    hot = sorted(inters, key=lambda x: -x["co2_kg"])[:10]

    # Time series by the minute each pass ends (or the end of the run for unfinished ones).
    t_end = np.where(done, t_dep, T)
    n_bins = max(1, int(np.ceil(T / SERIES_BIN_S)))
    b = np.clip((t_end // SERIES_BIN_S).astype(int), 0, n_bins - 1)
    series: dict[str, np.ndarray] = {"t_s": np.arange(n_bins) * SERIES_BIN_S}
    for p, name in enumerate(POLLUTANTS):
        series[f"{name}_g"] = np.bincount(b, weights=grams[p].sum(axis=0), minlength=n_bins)

    tot = dict(zip(POLLUTANTS, total_by_pollutant, strict=True))
    fuel_l = _fuel_litres(world, grams, cls)
    summary: dict[str, Any] = {
        "emissions_fleet": fleet,
        "co2_kg": _r(tot["co2"] / 1000.0),
        "fuel_kg": _r(tot["fuel"] / 1000.0),
        "fuel_l": _r(fuel_l),
        "nox_g": _r(tot["nox"]),
        "pm_g": _r(tot["pm"]),
        "co_g": _r(tot["co"]),
        "hc_g": _r(tot["hc"]),
        "co2_g_per_km": _r(tot["co2"] / km) if km > 0 else None,
        "co2_share_by_mode": {
            mode: _r(co2_modes[k] / co2_modes.sum()) if co2_modes.sum() > 0 else None
            for k, mode in enumerate(MODES)
        },
        "emissions_by_class": {
            name: {
                "co2_kg": _r(g[0] / 1000.0),
                "fuel_kg": _r(g[1] / 1000.0),
                "nox_g": _r(g[2]),
                "pm_g": _r(g[3]),
                "co_g": _r(g[4]),
                "hc_g": _r(g[5]),
            }
            for name, g in by_class.items()
        },
        "emission_hotspots": [_pick(h, "intersection", "co2_g_per_veh") for h in hot],
        "emission_hotspot_links": [
            _pick(h, "link", "co2_g_per_km") for h in sorted(links, key=lambda x: -x["co2_kg"])[:10]
        ],
    }
    return EmissionResult(summary, per_vehicle, links, inters, series)


def _pick(row: dict[str, Any], key: str, rate: str) -> dict[str, Any]:
    return {k: row[k] for k in (key, "co2_kg", rate, "idle_share", "stop_and_go_share")}


def _table(
    key: str,
    names: list[str],
    group: np.ndarray,
    grams: np.ndarray,
    dist_m: np.ndarray,
    done: np.ndarray,
) -> list[dict[str, Any]]:
    keep = group >= 0
    g_idx = group[keep]
    n = len(names)
    sums = np.zeros((grams.shape[0], grams.shape[1], n))
    for p in range(grams.shape[0]):
        for m in range(grams.shape[1]):
            sums[p, m] = np.bincount(g_idx, weights=grams[p, m][keep], minlength=n)
    km = np.bincount(g_idx, weights=dist_m[keep], minlength=n) / 1000.0
    count = np.bincount(g_idx, weights=done[keep].astype(float), minlength=n)
    return [
        _row(
            {key: name, "vehicles": int(count[k]), "vehicle_km": _r(km[k], 3)},
            sums[:, :, k],
            float(km[k]),
            int(count[k]),
        )
        for k, name in enumerate(names)
    ]


def _row(base: dict[str, Any], g: np.ndarray, km: float, n: int) -> dict[str, Any]:
    """Totals, rates and the mode split of CO2 for one link or intersection."""
    co2 = g[0].sum()
    out = dict(base)
    out.update(
        {
            "co2_kg": _r(co2 / 1000.0, 5),
            "nox_g": _r(g[2].sum()),
            "pm_g": _r(g[3].sum()),
            "co2_g_per_km": _r(co2 / km, 2) if km > 0 else None,
            "co2_g_per_veh": _r(co2 / n, 2) if n > 0 else None,
            "idle_share": _r(g[0, 1] / co2, 4) if co2 > 0 else None,
            "stop_and_go_share": _r(g[0, 2] / co2, 4) if co2 > 0 else None,
        }
    )
    return out


def _fuel_litres(world: World, grams: np.ndarray, cls: np.ndarray) -> float:
    from trafficsim.sim.emissions import CLASS_BY_NAME

    litres = 0.0
    for k, c in enumerate(world.scenario.classes):
        if c.emission_class is None:
            continue
        fuel_g = grams[1, :, cls == k].sum()
        litres += fuel_g / 1000.0 / CLASS_BY_NAME[c.emission_class].fuel_kg_per_l
    return litres
