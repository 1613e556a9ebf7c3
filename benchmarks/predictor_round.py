"""Live prediction cost: one round (every target and horizon) for 1,000 devices.

Usage: python benchmarks/predictor_round.py [--devices 1000] [--rounds 20]

Trains the default model on a synthetic panel of ``--devices`` loops (a daily profile plus
noise, 60 s periods, a ring of neighbours; training time is printed but is not the point),
then times ``Predictor.predict`` for all devices, targets (speed, occupancy, flow) and horizons
(5, 15, 30, 60 min) in one batch, the way the live service calls it each period. Prints one
JSON line: median and worst round in ms (target: under 100 ms).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from trafficsim.models.datasets import Panel
from trafficsim.models.features import feature_names
from trafficsim.models.persistence import ModelBundle
from trafficsim.models.service import Predictor
from trafficsim.models.training import train_panels


def synthetic(n: int, periods: int, scale: float, rng: np.random.Generator) -> Panel:
    t = np.arange(periods)[:, None]
    daily = np.sin(2 * np.pi * (t + 420) / 1440)
    values = scale * (1 + 0.3 * daily) + rng.normal(0, 0.05 * scale, size=(periods, n))
    adj = np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    return Panel(
        "synthetic", values, adj, tuple(f"loop-{k:04d}" for k in range(n)), 60.0, 0, "-", 421
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--periods", type=int, default=400)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    panels = {
        "speed": synthetic(args.devices, args.periods, 40.0, rng),
        "occupancy": synthetic(args.devices, args.periods, 0.2, rng),
        "flow": synthetic(args.devices, args.periods, 900.0, rng),
    }
    t0 = time.perf_counter()
    trained = train_panels(panels, max_iter=100)
    train_s = time.perf_counter() - t0
    bundle = ModelBundle(trained.estimators, trained.metadata, trained.extras())
    if bundle.metadata.feature_names != feature_names(trained.series):
        raise SystemExit("feature names of the trained model differ from the service's")
    pred = Predictor(bundle)
    for row in range(args.periods - 12, args.periods):
        for k, dev in enumerate(pred.devices):
            pred.add(
                {
                    "deviceId": dev,
                    "simTimeSeconds": (row + 1) * 60.0,
                    "periodSeconds": 60.0,
                    "averageVehicleSpeed": float(panels["speed"].values[row, k]),
                    "occupancy": float(panels["occupancy"].values[row, k]),
                    "intensity": float(panels["flow"].values[row, k]) / 60.0,
                }
            )
    times = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        out = pred.predict(args.periods * 60.0)
        times.append((time.perf_counter() - t0) * 1000.0)
    n_pred = sum(len(v) for per in out.values() for v in per.values())
    print(
        json.dumps(
            {
                "devices": args.devices,
                "predictions_per_round": n_pred,
                "round_ms_median": round(float(np.median(times)), 2),
                "round_ms_max": round(float(np.max(times)), 2),
                "train_s": round(train_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
