"""Where each signal controller stands: grid with unbalanced peak demand, closed loop.

Usage: python benchmarks/controllers.py [--size 4] [--duration 3600] [--seeds 8]
       [--workers 2] [--predictor MODEL_DIR] [--out bench-controllers]

Scenario: the built-in grid (300 m links, 2 lanes, 50 km/h, HCMC mix, stored 27/27 s
plans), north-south entries at 3700 veh/h (v/c about 0.9 under the stored plans),
east-west at half of it (``cross_flow_ratio=0.5``), which the stored plans do not match.
Every controller runs on the same seeds (common random numbers, in memory, on Dask).
Prints the comparison table (means, 95 % CIs, reductions vs fixed paired by seed), one
JSON line with the project's targets (predictive: delay -25 %, CO2 -10 %, and less delay than
max-pressure) and writes comparison.json, comparison.md and comparison.png into --out.

``fixed-retimed`` is the stored plans retimed by Webster's method to the grid's own demand
(``trafficsim scenarios --show grid --design-flows``): the textbook retiming, shown
beside the others and in the JSON line as the predictive controller's reduction against it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from trafficsim.runner.compare import markdown_table, write_comparison
from trafficsim.runner.design_flows import counted_design_flows
from trafficsim.runner.stats import comparison, paired_reductions
from trafficsim.runner.sweep import Job, run_jobs
from trafficsim.sim import load_scenario

CONTROLLERS = ["fixed", "fixed-retimed", "actuated", "max-pressure", "predictive"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4)
    ap.add_argument("--duration", type=float, default=3600.0)
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--flow", type=float, default=3700.0)
    ap.add_argument("--predictor", type=Path)
    ap.add_argument("--out", type=Path, default=Path("bench-controllers"))
    args = ap.parse_args()
    sc = load_scenario(
        "grid",
        {
            "size": args.size,
            "duration_s": args.duration,
            "entry_flow_veh_per_h": args.flow,
            "cross_flow_ratio": 0.5,
        },
    )
    t0 = time.perf_counter()
    seeds = list(range(args.seeds))
    retimed = tuple(counted_design_flows(sc).items())
    jobs = [
        Job(sc, "fixed", s, params=retimed, name=c)
        if c == "fixed-retimed"
        else Job(sc, c, s, predictor_model=args.predictor if c == "predictive" else None)
        for c in CONTROLLERS
        for s in seeds
    ]
    cmp = comparison(sc.name, seeds, run_jobs(jobs, workers=args.workers))
    vs_retimed = paired_reductions(cmp["runs"], seeds, "fixed-retimed")["predictive"]
    wall = time.perf_counter() - t0
    write_comparison(cmp, args.out)
    print(markdown_table(cmp))
    red = cmp["reduction_vs_fixed"]
    ctl = cmp["controllers"]
    print(
        json.dumps(
            {
                "scenario": f"grid size={args.size} flow={args.flow:g} cross=0.5",
                "duration_s": args.duration,
                "seeds": args.seeds,
                "predictor_model": str(args.predictor) if args.predictor else None,
                "wall_s": round(wall, 1),
                "predictive_delay_reduction_pct": red["predictive"]["mean_delay_s"]["pct"],
                "predictive_co2_reduction_pct": red["predictive"]["co2_kg"]["pct"],
                "target_delay_25pct": red["predictive"]["mean_delay_s"]["pct"] >= 25.0,
                "target_co2_10pct": red["predictive"]["co2_kg"]["pct"] >= 10.0,
                "predictive_beats_max_pressure": ctl["predictive"]["mean_delay_s"]["mean"]
                < ctl["max-pressure"]["mean_delay_s"]["mean"],
                "predictive_vs_retimed_delay_reduction_pct": vs_retimed["mean_delay_s"]["pct"],
                "predictive_vs_retimed_co2_reduction_pct": vs_retimed["co2_kg"]["pct"],
            }
        )
    )


if __name__ == "__main__":
    main()
