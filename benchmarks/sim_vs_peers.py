"""The built-in grid in trafficsim, Eclipse SUMO and UXsim: wall time and traffic figures.

Usage (peers from the ``bench`` extra: ``pip install '.[bench]'``):

    python benchmarks/sim_vs_peers.py [--size 10] [--duration 3600] [--seed 0]
                                      [--engines trafficsim sumo uxsim uxsim-cpp]

Every engine gets the same scenario, built from trafficsim's own ``grid`` (cars only): the same
nodes and coordinates, 300 m two-lane links at 50 km/h, straight-through routes, the same
60 s two-phase plans (27 s green + 3 s yellow, offsets 0) and the same demand per entry. Each
engine runs in its own process; the script prints one JSON line per engine (process wall
time, the simulation's own time, vehicles completed, mean travel time and delay) and a last
line with the wall-time ratios against trafficsim.

How each peer is set up, and why the figures differ:
- SUMO (microscopic, Krauss car following, 1 s steps): the scenario exported by
  ``trafficsim export sumo`` (``sim/interop/sumo_export.py``): netconvert builds the network
  from the grid's nodes and links with our plans as its static programs, and the demand is
  drawn as vehicles with Poisson arrivals, like ours; passenger cars as in SUMO's defaults.
  Travel time and delay include the insertion delay (``departDelay``), as ours include the
  wait to enter. SUMO vehicles also cross the junction area and accelerate realistically.
- UXsim (mesoscopic kinematic-wave model, one vehicle per agent: ``deltan=1``): signals as
  phases [27, 3, 27, 3] (the 3 s are all-red: UXsim has no yellow, and our effective green is
  27 s); jam density 1/7.5 per metre and lane and outflow capacity 1800 veh/h per lane to
  match our storage and saturation flow. UXsim's arrivals are evenly spaced, not Poisson, and
  its vehicles choose routes (dynamic user optimum), which here are the straight ones.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

GREEN_S, YELLOW_S = 27.0, 3.0


def _scenario(size: int, duration_s: float) -> Any:
    from trafficsim.sim import load_scenario

    return load_scenario(
        "grid", {"size": size, "mix": "cars", "duration_s": duration_s, "arrivals": "poisson"}
    )


def _routes(sc: Any) -> list[tuple[list[str], float]]:
    """Each entry's straight-through route (link ids) and its flow (veh/h)."""
    nxt = {m.from_link: m.to_link for m in sc.movements}
    out = []
    for d in sc.demands:
        route = [d.entry_link]
        while route[-1] in nxt:
            route.append(nxt[route[-1]])
        out.append((route, d.profile[0][1]))
    return out


# -- trafficsim ---------------------------------------------------------------------------
def run_trafficsim(size: int, duration_s: float, seed: int, _work: Path) -> dict[str, Any]:
    from trafficsim.sim import World, compute

    t0 = time.perf_counter()
    world = World(_scenario(size, duration_s), seed)
    world.run()
    s = compute(world).summary
    return {
        "sim_wall_s": time.perf_counter() - t0,
        "vehicles_completed": s["vehicles_completed"],
        "mean_travel_time_s": s["mean_travel_time_s"],
        "mean_delay_s": s["mean_delay_s"],
    }


# -- SUMO -----------------------------------------------------------------------------------
def _sumo_bin(name: str) -> str:
    import sumo

    path = Path(sumo.SUMO_HOME) / "bin" / name
    if not path.exists():
        raise SystemExit(f"{name} not found in the eclipse-sumo package at {path}")
    return str(path)


def run_sumo(size: int, duration_s: float, seed: int, work: Path) -> dict[str, Any]:
    from trafficsim.sim.interop.sumo_export import export_sumo

    sc = _scenario(size, duration_s)
    t_prep = time.perf_counter()
    # The scenario as SUMO files: netconvert's network with the grid's own plans, and the
    # demand drawn as vehicles with their routes (Poisson arrivals, like ours).
    *_, cfg = export_sumo(sc, work, seed=seed)
    prep_s = time.perf_counter() - t_prep
    t0 = time.perf_counter()
    subprocess.run(
        [
            _sumo_bin("sumo"),
            "-c",
            str(cfg),
            "--seed",
            str(seed),
            "--tripinfo-output",
            str(work / "trips.xml"),
            "--tripinfo-output.write-unfinished",
            "false",
            "--no-step-log",
            "true",
            "--no-warnings",
            "true",
            "--duration-log.disable",
            "true",
        ],
        check=True,
        capture_output=True,
    )
    sim_s = time.perf_counter() - t0
    trips = ET.parse(work / "trips.xml").getroot().findall("tripinfo")  # noqa: S314
    travel = [float(t.get("duration")) + float(t.get("departDelay")) for t in trips]
    delay = [float(t.get("timeLoss")) + float(t.get("departDelay")) for t in trips]
    return {
        "sim_wall_s": sim_s,
        "prepare_s": prep_s,
        "vehicles_completed": len(trips),
        "mean_travel_time_s": sum(travel) / len(travel) if travel else None,
        "mean_delay_s": sum(delay) / len(delay) if delay else None,
    }


# -- UXsim ----------------------------------------------------------------------------------
def _run_uxsim(size: int, duration_s: float, seed: int, *, cpp: bool) -> dict[str, Any]:
    from uxsim import World

    sc = _scenario(size, duration_s)
    t0 = time.perf_counter()
    w = World(
        name="grid",
        deltan=1,
        tmax=duration_s,
        random_seed=seed,
        print_mode=0,
        save_mode=0,
        show_mode=0,
        show_progress=0,
        cpp=cpp,
    )
    for n in sc.nodes:
        signal = [GREEN_S, YELLOW_S, GREEN_S, YELLOW_S] if n.kind.value == "signal" else [0]
        w.addNode(n.id, n.x_m, n.y_m, signal=signal)
    by_id = {n.id: n for n in sc.nodes}
    for ln in sc.links:
        a, b = by_id[ln.from_node], by_id[ln.to_node]
        ns = abs(b.y_m - a.y_m) > abs(b.x_m - a.x_m)
        w.addLink(
            ln.id,
            ln.from_node,
            ln.to_node,
            length=ln.length_m,
            free_flow_speed=ln.free_speed_mps,
            number_of_lanes=ln.lanes,
            jam_density_per_lane=1.0 / 7.5,
            capacity_out=ln.sat_flow_pcu_per_h_per_lane * ln.lanes / 3600.0,
            signal_group=[0] if ns else [2],
        )
    links = {ln.id: ln for ln in sc.links}
    for route, flow in _routes(sc):
        w.adddemand(
            links[route[0]].from_node, links[route[-1]].to_node, 0, duration_s, flow / 3600.0
        )
    w.exec_simulation()
    w.analyzer.basic_analysis()
    an = w.analyzer
    return {
        "sim_wall_s": time.perf_counter() - t0,
        "vehicles_completed": int(an.trip_completed),
        "mean_travel_time_s": float(an.average_travel_time),
        "mean_delay_s": float(an.average_delay),
    }


def run_uxsim(size: int, duration_s: float, seed: int, _work: Path) -> dict[str, Any]:
    return _run_uxsim(size, duration_s, seed, cpp=False)


def run_uxsim_cpp(size: int, duration_s: float, seed: int, _work: Path) -> dict[str, Any]:
    return _run_uxsim(size, duration_s, seed, cpp=True)


ENGINES = {
    "trafficsim": run_trafficsim,
    "sumo": run_sumo,
    "uxsim": run_uxsim,
    "uxsim-cpp": run_uxsim_cpp,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10)
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    parser.add_argument("--one", choices=list(ENGINES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        work = Path(tempfile.mkdtemp(prefix=f"bench-{args.one}-"))
        try:
            row = ENGINES[args.one](args.size, args.duration, args.seed, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(row))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    walls: dict[str, float] = {}
    for engine in args.engines:
        t0 = time.perf_counter()
        p = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                engine,
                "--size",
                str(args.size),
                "--duration",
                str(args.duration),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            print(json.dumps({"engine": engine, "error": p.stderr.strip().splitlines()[-1:]}))
            continue
        row = json.loads(p.stdout.strip().splitlines()[-1])
        walls[engine] = wall
        out = {"engine": engine, "size": args.size, "process_wall_s": round(wall, 3)}
        out.update({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})
        print(json.dumps(out), flush=True)
    if "trafficsim" in walls:
        base = walls["trafficsim"]
        print(
            json.dumps(
                {
                    "wall_time_ratio_vs_trafficsim": {
                        e: round(w / base, 1) for e, w in walls.items() if e != "trafficsim"
                    }
                }
            )
        )


if __name__ == "__main__":
    main()
