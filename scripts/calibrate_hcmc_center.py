"""Calibrate ``hcmc-center`` to the speeds HCMC reports for its centre.

Usage: python scripts/calibrate_hcmc_center.py [--seeds 2] [--rounds 2]

Two reported figures fix two unsourced parameters (HCMC DOT, bus GPS, Dec 2016; HCMC_FACTS
row 7): the off-peak speed, 20.9 km/h, fixes the free speed between signals
(``speed_kmh``), run at an off-peak demand of 60 % of the peak level (ASSUMPTION); the AM
peak speed (19 km/h in that statistic, 20.7 in another; target 19.5) fixes the demand
level (``demand_scale``). The measure is the
network's space-mean speed under today's fixed-time plans over 06:30-09:00
(``network_speed_kmh`` in summary.json), averaged over seeds. Each is found by bisection,
alternating for ``--rounds`` rounds; every step is printed, then the figures matched as one
JSON line and the ``--set`` line to use (the built-in's defaults are the values found).
Near saturation speed falls off a cliff (gridlock from spillback at a few seeds): the
per-seed speeds show how far the calibrated point is from it.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable

from trafficsim.sim import World, compute, load_scenario

OFF_PEAK_KMH = 20.9
AM_PEAK_KMH = 19.5
"""The middle of the reported AM peak figures (19 and 20.7 km/h) and of the 18-21 km/h range;
the model's speed falls off a cliff just below 19 km/h (gridlock at some seeds), so aiming at
19.0 itself would put the baseline on the edge of it."""
REPORTED_RANGE_KMH = (18.0, 21.0)
OFF_PEAK_SHARE = 0.6


def speeds(speed_kmh: float, scale: float, seeds: list[int]) -> list[float]:
    out = []
    for seed in seeds:
        sc = load_scenario("hcmc-center", {"demand_scale": scale, "speed_kmh": speed_kmh})
        world = World(sc, seed)
        world.run()
        out.append(float(compute(world).summary["network_speed_kmh"]))
    return out


def bisect(
    name: str, lo: float, hi: float, f: Callable[[float], list[float]], target: float, tol: float
) -> float:
    """``f`` decreasing in x for demand, increasing for free speed: handled by the sign."""
    f_lo = statistics.fmean(f(lo))
    f_hi = statistics.fmean(f(hi))
    increasing = f_hi > f_lo
    best = (lo, f_lo) if abs(f_lo - target) < abs(f_hi - target) else (hi, f_hi)
    for _ in range(12):
        mid = round((lo + hi) / 2.0, 4)
        v = f(mid)
        m = statistics.fmean(v)
        print(f"  {name} = {mid:.4f} -> {m:.2f} km/h {[round(x, 2) for x in v]}")
        if abs(m - target) < abs(best[1] - target):
            best = (mid, m)
        if abs(m - target) <= tol:
            break
        if (m < target) == increasing:
            lo = mid
        else:
            hi = mid
    return best[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tolerance", type=float, default=0.15)
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    speed, scale = 30.0, 1.0
    for r in range(args.rounds):
        print(f"round {r + 1}: free speed for the off-peak {OFF_PEAK_KMH} km/h")
        speed = bisect(
            "speed_kmh",
            20.0,
            50.0,
            lambda s, scale=scale: speeds(s, scale * OFF_PEAK_SHARE, seeds),
            OFF_PEAK_KMH,
            args.tolerance,
        )
        print(f"round {r + 1}: demand for the AM peak {AM_PEAK_KMH} km/h")
        scale = bisect(
            "demand_scale",
            0.5,
            1.45,
            lambda x, speed=speed: speeds(speed, x, seeds),
            AM_PEAK_KMH,
            args.tolerance,
        )
    peak = speeds(speed, scale, seeds)
    off = speeds(speed, scale * OFF_PEAK_SHARE, seeds)
    print(
        json.dumps(
            {
                "speed_kmh": speed,
                "demand_scale": scale,
                "am_peak_network_speed_kmh": [round(x, 2) for x in peak],
                "off_peak_network_speed_kmh": [round(x, 2) for x in off],
                "reported_am_peak_kmh": AM_PEAK_KMH,
                "reported_off_peak_kmh": OFF_PEAK_KMH,
                "am_peak_in_reported_range": all(
                    REPORTED_RANGE_KMH[0] <= x <= REPORTED_RANGE_KMH[1] for x in peak
                ),
            }
        )
    )
    print(f"use: --set speed_kmh={speed} --set demand_scale={scale}")


if __name__ == "__main__":
    main()
