"""Simulation speed and memory on the built-in grid, one fresh process per case.

Usage: python benchmarks/sim_speed.py [--sizes 4 10] [--duration 3600] [--seed 0]
                                      [--demand turn-shares|routed|both]

Prints one JSON line per grid size: whole-process wall time (interpreter start, imports,
build, run, metrics), the simulation loop's own time, vehicles, simulation events per
second, vehicle-links (passes through a link) per wall second and peak resident memory.
Each case runs in its own process pinned to one core, so peak memory is that case's alone.
``run_cpu_s`` is the loop's processor time, which a machine busy with other work disturbs
far less than the wall times.

``--demand routed`` times the same traffic as routed trips: the grid's turn-share vehicles
are run once untimed (for three times the duration, so they all finish), and every one
becomes a ``[[trips]]`` entry with the links it drove; the timed world then runs those
trips. Its import and build times include the untimed pre-run's import and the trips'
checking, and its peak memory the pre-run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trafficsim.sim import Scenario


def _routed_grid(size: int, duration_s: float, seed: int) -> Scenario:
    """The grid whose demand is its own turn-share vehicles' routes, as trips."""
    from trafficsim.sim import World, load_scenario
    from trafficsim.sim.catalog import scenario_data
    from trafficsim.sim.scenario_io import scenario_from_dict
    from trafficsim.sim.trips import completed_trips

    params = {"size": size, "duration_s": duration_s}
    pre = World(load_scenario("grid", params), seed)
    pre.step_to(3 * duration_s)
    data, source = scenario_data("grid", params)
    del data["demand"]
    data["trips"] = completed_trips(pre)
    return scenario_from_dict(data, source)


def one_case(size: int, duration_s: float, seed: int, demand: str) -> dict[str, object]:
    t0 = time.perf_counter()
    from trafficsim.sim import World, compute, load_scenario

    t_import = time.perf_counter()
    if demand == "routed":
        scenario = _routed_grid(size, duration_s, seed)
        t_import = time.perf_counter()
    else:
        scenario = load_scenario("grid", {"size": size, "duration_s": duration_s})
    world = World(scenario, seed)
    t_build = time.perf_counter()
    cpu0 = time.process_time()
    world.run()
    cpu_run = time.process_time() - cpu0
    t_run = time.perf_counter()
    result = compute(world)
    t_metrics = time.perf_counter()
    rec = world.records()
    kinds = [i.kind for i in world.lane_group_info]
    passes = sum(
        1
        for lg, t_dep in zip(rec["lane_group"].tolist(), rec["t_dep_s"].tolist(), strict=True)
        if kinds[lg] != "entry" and t_dep <= world.now_s
    )
    s = result.summary
    return {
        "case": f"grid{size}" + ("-routed" if demand == "routed" else ""),
        "size": size,
        "demand": demand,
        "sim_duration_s": duration_s,
        "vehicles_generated": s["vehicles_generated"],
        "vehicles_completed": s["vehicles_completed"],
        "vehicle_links": passes,
        "events": world.events_processed,
        "import_s": round(t_import - t0, 3),
        "build_s": round(t_build - t_import, 3),
        "run_s": round(t_run - t_build, 3),
        "run_cpu_s": round(cpu_run, 3),
        "metrics_s": round(t_metrics - t_run, 3),
        "wall_time_s": round(t_metrics - t0, 3),
        "events_per_s": round(world.events_processed / (t_run - t_build)),
        "vehicle_links_per_s": round(passes / (t_metrics - t_build)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 10])
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--demand", choices=("turn-shares", "routed", "both"), default="turn-shares"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(json.dumps(one_case(args.one, args.duration, args.seed, args.demand)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    kinds = ("turn-shares", "routed") if args.demand == "both" else (args.demand,)
    for size in args.sizes:
        for demand in kinds:
            t0 = time.perf_counter()
            p = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    str(size),
                    "--duration",
                    str(args.duration),
                    "--seed",
                    str(args.seed),
                    "--demand",
                    demand,
                ],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            row = json.loads(p.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = round(time.perf_counter() - t0, 3)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
