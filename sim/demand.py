"""Arrival processes at entry links, drawn up front from the run's generator.

Drawing a whole demand stream at once (times and classes as arrays) is both faster and
easier to reproduce than drawing inside simulation events: the draws do not depend on the
order in which events happen to fire.
"""

from __future__ import annotations

import numpy as np

from trafficsim.sim.config import ArrivalProcess, DemandSpec, Mix, OdSpec
from trafficsim.sim.units import per_h_to_per_s


def arrival_times(
    spec: DemandSpec | OdSpec, duration_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Arrival times (s, sorted) of one demand stream (an entry or an OD flow) over
    ``[0, duration_s)``.

    Poisson arrivals with a piecewise-constant rate are drawn piece by piece: a Poisson
    count per piece, then that many uniform times within it (an exact non-homogeneous
    Poisson process). Uniform arrivals are evenly spaced, the first half a headway in.
    """
    parts: list[np.ndarray] = []
    starts = [p[0] for p in spec.profile] + [duration_s]
    for (t0, flow_veh_per_h), t1 in zip(spec.profile, starts[1:], strict=True):
        t1 = min(t1, duration_s)
        if t1 <= t0 or flow_veh_per_h <= 0.0:
            continue
        rate_vps = per_h_to_per_s(flow_veh_per_h)
        if spec.arrivals is ArrivalProcess.POISSON:
            n = int(rng.poisson(rate_vps * (t1 - t0)))
            parts.append(np.sort(rng.uniform(t0, t1, size=n)))
        else:
            headway_s = 1.0 / rate_vps
            parts.append(np.arange(t0 + 0.5 * headway_s, t1, headway_s))
    if not parts:
        return np.empty(0)
    return np.concatenate(parts)


def draw_classes(
    n: int, mix: Mix, class_index: dict[str, int], rng: np.random.Generator
) -> np.ndarray:
    """Class index of each of ``n`` vehicles, drawn by the mix's shares by count."""
    idx = np.array([class_index[name] for name, _ in mix.shares], dtype=np.int64)
    p = np.array([share for _, share in mix.shares], dtype=float)
    p = p / p.sum()
    return idx[rng.choice(len(idx), size=n, p=p)]
