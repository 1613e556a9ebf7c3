"""Ground-truth metrics of a run, computed in bulk (numpy) from the pass records.

Every vehicle's passage through a lane group is one record (entered link, reached the stop
line, left). Delay, stops, idling, queues and flows all follow from those records, so the
event loop only appends tuples and the analysis is vectorised afterwards.

Definitions:
- delay: time lost against driving the same route at free speed, including any wait to
  enter the network (control delay in HCM terms, vertical-queue model);
- stop: a wait at a stop line long enough to brake to a standstill and pull away
  (``d >= v/(2a) + v/(2b)``); idle time is the rest of that wait;
- queue: vehicles that have reached the stop line and are waiting to leave it;
- approach figures count vehicles that reached the stop line by the end of the run; mean
  delay is over those that also left it (vehicles still queued at the end are excluded);
- ``sumo_delay``: delay as SUMO and RESCO count it (time loss plus departure delay over
  every scheduled vehicle, unfinished ones up to the end), see :mod:`sim.sumo_delay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trafficsim.sim.dawdling import drive_loss_s
from trafficsim.sim.emission_metrics import EmissionResult, compute_emissions
from trafficsim.sim.emissions import POLLUTANTS, Fleet
from trafficsim.sim.sumo_delay import sumo_delay
from trafficsim.sim.theory import level_of_service
from trafficsim.sim.units import M_PER_KM, S_PER_H, mps_to_kmh
from trafficsim.sim.world import ON_LINKS

if TYPE_CHECKING:
    from trafficsim.sim.world import World


@dataclass(frozen=True, slots=True)
class RunMetrics:
    """What a run produced: a JSON-ready summary and tables for files and plots."""

    summary: dict[str, Any]
    vehicles: dict[str, np.ndarray]
    queues: dict[str, np.ndarray]
    network: dict[str, np.ndarray]
    emissions: EmissionResult | None = None


def _r(x: float, nd: int = 4) -> float | None:
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None


def compute(
    world: World, wall_time_s: float | None = None, *, fleet: Fleet | str | None = None
) -> RunMetrics:
    """Metrics of ``world`` at its current time; emissions with ``fleet`` (default: the
    scenario's)."""
    T = world.now_s
    sc = world.scenario
    rec = world.records()
    info = world.lane_group_info
    n_lg = len(info)
    kind = np.array([i.kind for i in info]) if info else np.empty(0, dtype=str)
    length = np.array([i.length_m for i in info]) if info else np.empty(0)

    lg = rec["lane_group"]
    vid = rec["vid"]
    t_in, t_stop, t_dep = rec["t_in_s"], rec["t_stop_s"], rec["t_dep_s"]
    done = t_dep <= T
    d = t_dep - t_stop

    n_veh = len(world.veh_t_gen)
    cls = world.veh_class_arr
    t_gen = world.veh_t_gen
    t_vin = np.array(world.veh_t_in, dtype=float)
    t_out = np.array(world.veh_t_out, dtype=float)
    generated = t_gen < T
    entered = t_vin <= T
    completed = t_out <= T

    # Stops and idling at stop lines (not at network entries, which are outside).
    classes = sc.classes
    accel = np.array([c.accel_mps2 for c in classes])[cls[vid]] if n_veh else np.empty(0)
    decel = np.array([c.decel_mps2 for c in classes])[cls[vid]] if n_veh else np.empty(0)
    is_link = np.isin(kind[lg], ON_LINKS) if len(rec) else np.zeros(0, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(is_link, length[lg] / (t_stop - t_in), 0.0)
    loss = np.where(is_link, speed / (2 * accel) + speed / (2 * decel), np.inf)
    stopped = done & is_link & (d >= loss - 1e-9)
    with np.errstate(invalid="ignore"):
        idle = np.where(stopped, d - loss, 0.0)

    # Delay: the waits at stop lines, and the time dawdling drivers lose on the links.
    dawdled = drive_loss_s(world, rec, is_link, T)
    lost = d + dawdled
    veh_delay = np.bincount(vid[done], weights=lost[done], minlength=n_veh)
    veh_stops = np.bincount(vid, weights=stopped.astype(float), minlength=n_veh)
    veh_idle = np.bincount(vid, weights=idle, minlength=n_veh)
    dist_full = done & is_link
    veh_dist = np.bincount(vid[dist_full], weights=length[lg[dist_full]], minlength=n_veh)

    # Distance driven by T, including the part of links in progress.
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((T - t_in) / (t_stop - t_in), 0.0, 1.0)
    frac = np.where(t_stop <= T, 1.0, np.where(t_in < T, frac, 0.0))
    total_dist_m = float(np.sum(np.where(is_link, length[lg] * frac, 0.0)))

    travel = t_out[completed] - t_gen[completed]
    # Space-mean speed of the network: distance driven by T over the time vehicles spent in
    # the network by T (waits at the entries excluded), what a probe fleet on the roads
    # measures; unlike the mean over completed trips it falls when the network jams.
    inside_s = float(np.sum(np.clip(np.minimum(t_out, T) - t_vin, 0.0, None)[entered]))
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "source": sc.source,
        "parameters": dict(sc.parameters),
        "seed": world.seed,
        "start_time": sc.start_time.isoformat(),
        "sim_duration_s": _r(T),
        "wall_time_s": None if wall_time_s is None else round(wall_time_s, 3),
        "vehicles_generated": int(generated.sum()),
        "vehicles_entered": int(entered.sum()),
        "vehicles_completed": int(completed.sum()),
        "vehicles_in_network": int((entered & ~completed).sum()),
        "vehicles_waiting_to_enter": int((generated & ~entered).sum()),
        "mean_travel_time_s": _r(travel.mean()) if len(travel) else None,
        "mean_delay_s": _r(veh_delay[completed].mean()) if completed.any() else None,
        "mean_stops": _r(veh_stops[completed].mean()) if completed.any() else None,
        "mean_idle_s": _r(veh_idle[completed].mean()) if completed.any() else None,
        "total_distance_km": _r(total_dist_m / M_PER_KM, 3),
        "mean_speed_kmh": (
            _r(mps_to_kmh(veh_dist[completed].sum() / travel.sum()), 3)
            if len(travel) and travel.sum() > 0
            else None
        ),
        "network_speed_kmh": (_r(mps_to_kmh(total_dist_m / inside_s), 3) if inside_s > 0 else None),
        "by_class": {
            c.name: {
                "vehicles_completed": int((completed & (cls == k)).sum()),
                "mean_delay_s": _r(veh_delay[completed & (cls == k)].mean())
                if (completed & (cls == k)).any()
                else None,
            }
            for k, c in enumerate(classes)
        },
    }

    # Approaches (signalized lane groups) and queue series.
    sample_t = np.arange(0.0, T + 1e-9, sc.sample_period_s)
    order = np.argsort(lg, kind="stable")
    bounds = np.searchsorted(lg[order], np.arange(n_lg + 1))
    pcu_arr = np.array([c.pcu for c in classes])
    approaches = []
    q_ids, q_series = [], []
    for k, li in enumerate(info):
        if not li.kind.at_stop_line:
            continue
        sel = order[bounds[k] : bounds[k + 1]]
        ts, td = t_stop[sel], t_dep[sel]
        arrived = ts <= T
        left = td <= T
        waited = arrived & (td > ts)
        starts = np.sort(ts[waited])
        ends = np.sort(np.minimum(td[waited], T))
        q_ids.append(li.id)
        q_series.append(
            np.searchsorted(starts, sample_t, side="right")
            - np.searchsorted(ends, sample_t, side="right")
        )
        max_q, mean_q = _queue_stats(starts, ends, T)
        n_arr = int(arrived.sum())
        flow = n_arr / T * S_PER_H if T > 0 else 0.0
        mean_pcu = float(pcu_arr[cls[vid[sel][arrived]]].mean()) if n_arr else 1.0
        sat_veh = li.sat_flow_pcu_per_h / mean_pcu
        cycle_s, g_s = _timing(world, li.node, li.group, T)
        capacity = sat_veh * g_s / cycle_s if cycle_s > 0 else sat_veh
        vc = flow / capacity if capacity > 0 else float("inf")
        delay = float(d[sel][left].mean()) if left.any() else float("nan")
        approaches.append(
            {
                "id": li.id,
                "intersection": li.node,
                "link": li.link,
                "signal_group": li.group,
                "lanes": li.lanes,
                "vehicles_arrived": n_arr,
                "vehicles_served": int(left.sum()),
                "arrival_flow_veh_per_h": _r(flow, 2),
                "saturation_flow_veh_per_h": _r(sat_veh, 2),
                "saturation_flow_pcu_per_h": _r(li.sat_flow_pcu_per_h, 2),
                "cycle_s": _r(cycle_s, 3),
                "effective_green_s": _r(g_s, 3),
                "capacity_veh_per_h": _r(capacity, 2),
                "v_over_c": _r(vc),
                "mean_delay_s": _r(delay, 3),
                "los": level_of_service(delay, vc) if left.any() else None,
                "max_queue_veh": int(max_q),
                "mean_queue_veh": _r(mean_q, 3),
            }
        )
    summary["approaches"] = approaches
    summary["sumo_delay"], sumo_columns = sumo_delay(world, rec, T, is_link, dawdled)
    em = compute_emissions(world, rec, Fleet(fleet or sc.fleet))
    summary.update({k: v for k, v in em.summary.items() if k not in ("emissions_by_class",)})
    for name, values in em.summary["emissions_by_class"].items():
        summary["by_class"][name].update(values)

    in_times = np.sort(t_vin[entered])
    out_times = np.sort(t_out[completed])
    gen_times = np.sort(t_gen[generated])
    network = {
        "t_s": sample_t,
        "vehicles_in_network": np.searchsorted(in_times, sample_t, side="right")
        - np.searchsorted(out_times, sample_t, side="right"),
        "vehicles_waiting_to_enter": np.searchsorted(gen_times, sample_t, side="right")
        - np.searchsorted(in_times, sample_t, side="right"),
        "vehicles_completed": np.searchsorted(out_times, sample_t, side="right"),
    }
    queues = {
        "t_s": sample_t,
        "ids": np.array(q_ids, dtype=object),
        "queue_veh": np.array(q_series).reshape(len(q_ids), len(sample_t)),
    }
    with np.errstate(invalid="ignore"):
        vehicles = {
            "vid": np.arange(n_veh),
            "class": np.array([c.name for c in classes], dtype=object)[cls]
            if n_veh
            else np.empty(0, dtype=object),
            "t_gen_s": t_gen,
            "t_enter_s": np.where(entered, t_vin, np.nan),
            "t_exit_s": np.where(completed, t_out, np.nan),
            "travel_time_s": np.where(completed, t_out - t_gen, np.nan),
            "delay_s": np.where(completed, veh_delay, np.nan),
            "stops": np.where(completed, veh_stops, np.nan),
            "idle_s": np.where(completed, veh_idle, np.nan),
            "distance_m": np.where(completed, veh_dist, np.nan),
            "trip": np.array(world.veh_trip, dtype=object),
            **sumo_columns,
        }
        for k, name in enumerate(POLLUTANTS):
            vehicles[f"{name}_g"] = np.where(completed, em.per_vehicle_g[k], np.nan)
    return RunMetrics(
        summary=summary, vehicles=vehicles, queues=queues, network=network, emissions=em
    )


def _queue_stats(starts: np.ndarray, ends: np.ndarray, T: float) -> tuple[int, float]:
    """Peak and time-mean of a queue given sorted join and leave times."""
    if len(starts) == 0 or T <= 0:
        return 0, 0.0
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    # Leaves before joins at the same instant, so a zero-length wait never counts.
    o = np.lexsort((steps, times))
    times, level = times[o], np.cumsum(steps[o])
    peak = int(level.max())
    widths = np.diff(np.append(times, T))
    mean = float(np.sum(level * np.clip(widths, 0.0, None)) / T)
    return peak, mean


def _timing(world: World, node: str, group: str | None, T: float) -> tuple[float, float]:
    """Time-weighted mean cycle and effective green of a group over [0, T]."""
    head = world.heads.get(node)
    if head is None or group is None or T <= 0:
        return 0.0, 0.0
    return head.timing_over(group, T)


def link_peak_occupancy_pcu(world: World) -> dict[str, float]:
    """Highest PCU each link held at any instant, from the pass records (a check, not a
    metric: it must never exceed the link's storage)."""
    rec = world.records()
    info = world.lane_group_info
    link_of = np.array([i.link if i.kind in ON_LINKS else "" for i in info], dtype=object)
    pcu = np.array([c.pcu for c in world.scenario.classes])[world.veh_class_arr[rec["vid"]]]
    out: dict[str, float] = {}
    links = link_of[rec["lane_group"]]
    for name in world.links:
        sel = links == name
        t = np.concatenate([rec["t_in_s"][sel], rec["t_dep_s"][sel]])
        w = np.concatenate([pcu[sel], -pcu[sel]])
        o = np.lexsort((w, t))
        out[name] = float(np.cumsum(w[o]).max()) if len(t) else 0.0
    return out
