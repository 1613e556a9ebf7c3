"""Closed-form traffic theory the simulation is checked against and reports with."""

from __future__ import annotations

import math

# HCM 6th edition, Exhibit 19-8: level of service of a signalized lane group by control
# delay (s/veh); any lane group with v/c > 1 is LOS F.
LOS_DELAY_THRESHOLDS_S: tuple[tuple[str, float], ...] = (
    ("A", 10.0),
    ("B", 20.0),
    ("C", 35.0),
    ("D", 55.0),
    ("E", 80.0),
)


def level_of_service(delay_s: float, v_over_c: float) -> str:
    """HCM level of service A-F from control delay and volume-to-capacity ratio."""
    if not math.isfinite(delay_s) or v_over_c > 1.0:
        return "F"
    for los, limit in LOS_DELAY_THRESHOLDS_S:
        if delay_s <= limit:
            return los
    return "F"


def webster_delay_s(
    cycle_s: float, effective_green_s: float, flow_vps: float, sat_flow_vps: float
) -> float:
    """Webster's (1958) mean delay per vehicle at a fixed-time signal, random arrivals.

    d = c(1-l)^2 / (2(1-l x)) + x^2 / (2q(1-x)) - 0.65 (c/q^2)^(1/3) x^(2+5l),
    with l = g/c and x = q/(s l). Webster, F.V., "Traffic Signal Settings", Road Research
    Technical Paper No. 39, HMSO, London, 1958. Valid for x < 1.
    """
    lam = effective_green_s / cycle_s
    x = flow_vps / (sat_flow_vps * lam)
    if not 0.0 < x < 1.0:
        raise ValueError(f"Webster's formula needs 0 < x < 1, got x = {x:.3f}")
    q = flow_vps
    uniform = cycle_s * (1.0 - lam) ** 2 / (2.0 * (1.0 - lam * x))
    random = x**2 / (2.0 * q * (1.0 - x))
    correction = 0.65 * (cycle_s / q**2) ** (1.0 / 3.0) * x ** (2.0 + 5.0 * lam)
    return float(uniform + random - correction)
