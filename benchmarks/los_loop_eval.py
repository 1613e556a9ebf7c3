"""The full Los-loop evaluation (T-GCN protocol) of every model, against the targets.

Usage: python benchmarks/los_loop_eval.py [--data ../shared/data/los_loop]

Prints one JSON line per horizon (pooled RMSE and MAE of each model, in mph) and a last line
comparing the default model with the published T-GCN figure and the project's targets
(RMSE <= 4.7 mph at 15 min, <= 6.25 mph at 60 min). Takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from trafficsim.models.datasets import DEFAULT_LOS_LOOP_DIR, load_los_loop
from trafficsim.models.evaluate import PUBLISHED, evaluate
from trafficsim.models.forecasters import DEFAULT_MODEL, MODEL_NAMES

TARGET_RMSE_MPH = {"3": 4.7, "12": 6.25}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_LOS_LOOP_DIR)
    args = parser.parse_args()
    t0 = time.perf_counter()
    r = evaluate(load_los_loop(args.data), list(MODEL_NAMES))
    for h, row in r["horizons"].items():
        print(
            json.dumps(
                {
                    "horizon_steps": int(h),
                    "minutes": int(h) * 5,
                    **{
                        m: {
                            "rmse": round(s["rmse"], 4),
                            "mae": round(s["mae"], 4),
                            "rmse_at_h": round(s["rmse_at_h"], 4),
                        }
                        for m, s in row.items()
                    },
                }
            )
        )
    tgcn = PUBLISHED["T-GCN (Zhao et al. 2019)"][3]["rmse"]
    ours = r["horizons"]["3"][DEFAULT_MODEL]["rmse"]
    print(
        json.dumps(
            {
                "model": DEFAULT_MODEL,
                "rmse_15min": round(ours, 4),
                "rmse_60min": round(r["horizons"]["12"][DEFAULT_MODEL]["rmse"], 4),
                "tgcn_rmse_15min": tgcn,
                "improvement_vs_tgcn_15min": round(1 - ours / tgcn, 4),
                "targets_met": all(
                    r["horizons"][h][DEFAULT_MODEL]["rmse"] <= v for h, v in TARGET_RMSE_MPH.items()
                ),
                "wall_time_s": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
