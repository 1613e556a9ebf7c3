"""Cycle length and splits from flows: Webster's method and the HCM delay model.

Webster, F.V. (1958) "Traffic Signal Settings", Road Research Technical Paper 39: optimal
cycle C0 = (1.5 L + 5) / (1 - Y) with L the lost time per cycle and Y the sum of the
critical flow ratios; effective greens split in proportion to the critical flow ratios
(equal degree of saturation). HCM 2000 (TRB), equation 16-9 to 16-12: uniform delay
d1 = 0.5 C (1 - g/C)^2 / (1 - min(1, X) g/C) and incremental delay
d2 = 900 T [(X - 1) + sqrt((X - 1)^2 + 8 k I X / (c T))] with k = 0.5 (pretimed),
I = 1 (isolated), T the analysis period in hours: finite for X >= 1, which Webster's
formula is not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MIN_CYCLE_S = 30.0
"""Shortest cycle considered (an assumption: below it, intergreens eat most of the cycle)."""


@dataclass(frozen=True, slots=True)
class PhaseDemand:
    """A phase's critical flow ratio y = flow / saturation flow (both PCU/h)."""

    y: float
    intergreen_s: float


def webster_cycle_s(phases: Sequence[PhaseDemand], lost_per_phase_s: float, max_s: float) -> float:
    lost = sum(p.intergreen_s + lost_per_phase_s for p in phases)
    big_y = sum(p.y for p in phases)
    if big_y >= 0.95:
        return max_s
    return min(max_s, max(MIN_CYCLE_S, (1.5 * lost + 5.0) / (1.0 - big_y)))


def split_greens(
    phases: Sequence[PhaseDemand], cycle_s: float, lost_per_phase_s: float, min_green_s: float
) -> list[float]:
    """Displayed greens for ``cycle_s``: effective greens in proportion to y (equal degree
    of saturation), each displayed green at least ``min_green_s``.

    ``lost_per_phase_s`` is start-up lost time minus the yellow used as green (HCM: 2 s - 2 s
    = 0 by default): displayed green = effective green + it.
    """
    n = len(phases)
    effective = cycle_s - sum(p.intergreen_s for p in phases) - n * lost_per_phase_s
    ys = [max(p.y, 1e-3) for p in phases]
    total = sum(ys)
    greens = [max(min_green_s, effective * y / total + lost_per_phase_s) for y in ys]
    # Take any excess over the cycle from phases above their minimum, proportionally, and
    # never below it: a cycle too short for every minimum green grows instead.
    over = sum(greens) - (cycle_s - sum(p.intergreen_s for p in phases))
    if over > 1e-9:
        slack = [g - min_green_s for g in greens]
        s = sum(slack)
        if s > 0:
            cut = min(over, s)
            greens = [g - cut * sl / s for g, sl in zip(greens, slack, strict=True)]
    return [round(g, 1) for g in greens]


def hcm_delay_s(
    flow_pcu_h: float, sat_pcu_h: float, g_s: float, cycle_s: float, t_h: float = 0.25
) -> float:
    """Control delay per vehicle of one lane group (HCM 2000 uniform + incremental)."""
    if flow_pcu_h <= 0:
        return 0.0
    lam = g_s / cycle_s
    cap = sat_pcu_h * lam
    if cap <= 0:
        return math.inf
    x = flow_pcu_h / cap
    d1 = 0.5 * cycle_s * (1.0 - lam) ** 2 / (1.0 - min(1.0, x) * lam)
    d2 = 900.0 * t_h * ((x - 1.0) + math.sqrt((x - 1.0) ** 2 + 4.0 * x / (cap * t_h)))
    return d1 + d2
