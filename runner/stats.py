"""The statistics of a comparison: means with 95 % confidence intervals, and reductions
against a baseline paired by seed.

Every controller runs on the same seeds (the same demand and sensor noise per seed), so the
difference to the baseline is paired by seed: the confidence interval of a reduction is that
of the mean of per-seed differences (Student t, n - 1 degrees of freedom), which is far
narrower than comparing two independent means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

METRICS: tuple[tuple[str, str], ...] = (
    ("mean_delay_s", "mean delay (s/veh)"),
    ("mean_travel_time_s", "mean travel time (s)"),
    ("mean_stops", "stops per vehicle"),
    ("mean_queue_veh", "mean queued vehicles (network)"),
    ("throughput_veh_per_h", "vehicles completed per hour"),
    ("co2_kg", "CO2 (kg)"),
    ("nox_g", "NOx (g)"),
    ("pm_g", "PM (g)"),
)
"""The figures every run reports and every comparison summarises, with their labels."""
HIGHER_IS_BETTER = frozenset({"throughput_veh_per_h"})
"""Metrics whose reduction is counted the other way round (more is better)."""

Runs = dict[str, dict[int, dict[str, Any]]]
"""Run rows by controller, then by seed."""


def t_quantile_975(df: int) -> float:
    """Two-sided 95 % Student t quantile (exact table to 30 degrees of freedom)."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
             2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]  # fmt: skip
    if df < 1:
        return math.nan
    return table[df - 1] if df <= 30 else 1.96 + 2.4 / df


def mean_ci(xs: Sequence[float]) -> tuple[float, tuple[float, float]]:
    """The mean and its 95 % confidence interval (NaN bounds below two values: no spread
    to estimate)."""
    a = np.asarray(xs, dtype=float)
    m = float(a.mean())
    if len(a) < 2:
        return m, (math.nan, math.nan)
    half = t_quantile_975(len(a) - 1) * float(a.std(ddof=1)) / math.sqrt(len(a))
    return m, (m - half, m + half)


def by_controller(rows: Sequence[dict[str, Any]]) -> Runs:
    """The rows of a sweep by controller and seed, so runs pair up by seed."""
    by: Runs = {}
    for r in rows:
        by.setdefault(r["controller"], {})[r["seed"]] = r
    return by


def summarise(scenario: str, seeds: list[int], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``comparison.json``: means with 95 % CIs, and paired reductions vs ``fixed``."""
    out: dict[str, Any] = {
        "scenario": scenario,
        "metrics": dict(METRICS),
        "seeds": seeds,
        "controllers": {},
        "reduction_vs_fixed": {},
        "runs": sorted(rows, key=lambda r: (r["controller"], r["seed"])),
    }
    for name, runs in by_controller(rows).items():
        out["controllers"][name] = {}
        for key, _ in METRICS:
            m, (lo, hi) = mean_ci([runs[s][key] for s in seeds])
            out["controllers"][name][key] = {"mean": rounded(m), "ci95": [rounded(lo), rounded(hi)]}
    out["reduction_vs_fixed"] = paired_reductions(rows, seeds, "fixed")
    return out


def paired_reductions(
    rows: list[dict[str, Any]], seeds: list[int], baseline: str
) -> dict[str, dict[str, Any]]:
    """Every other run's reduction against ``baseline`` in % of the baseline's mean, with
    the 95 % CI of the per-seed differences (positive = better than the baseline)."""
    by = by_controller(rows)
    base = by.get(baseline)
    out: dict[str, dict[str, Any]] = {}
    if base is None:
        return out
    for name, runs in by.items():
        if name == baseline:
            continue
        red: dict[str, Any] = {}
        for key, _ in METRICS:
            b = np.array([base[s][key] for s in seeds], dtype=float)
            x = np.array([runs[s][key] for s in seeds], dtype=float)
            sign = -1.0 if key in HIGHER_IS_BETTER else 1.0
            diff = sign * (b - x) / b.mean() * 100.0 if b.mean() else np.zeros_like(b)
            m, (lo, hi) = mean_ci(diff.tolist())
            red[key] = {"pct": rounded(m), "ci95_pct": [rounded(lo), rounded(hi)]}
        out[name] = red
    return out


def comparison(scenario: str, seeds: list[int], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """:func:`summarise`, with the runs' report details (if any) under ``_details``."""
    details = {(r["controller"], r["seed"]): r.pop("detail") for r in rows if "detail" in r}
    cmp = summarise(scenario, seeds, rows)
    if details:
        cmp["_details"] = details  # for the report; never written to comparison.json
    return cmp


def public(cmp: dict[str, Any]) -> dict[str, Any]:
    """A comparison without what is kept for the report alone (keys starting ``_``)."""
    return {k: v for k, v in cmp.items() if not k.startswith("_")}


def error_bars(
    stats: Sequence[dict[str, Any]], value: str = "pct", ci: str = "ci95_pct"
) -> tuple[list[float], list[list[float]]]:
    """Statistics as bars: their values (none counts as 0) and the distances of their
    95 % CIs below and above, the ``yerr`` matplotlib draws (a missing bound: no bar)."""
    y = [s[value] or 0.0 for s in stats]
    below = [v - (v if s[ci][0] is None else s[ci][0]) for s, v in zip(stats, y, strict=True)]
    above = [(v if s[ci][1] is None else s[ci][1]) - v for s, v in zip(stats, y, strict=True)]
    return y, [below, above]


def rounded(x: float) -> float | None:
    """Four decimals for JSON; None where there is no number (JSON has no NaN)."""
    return None if not math.isfinite(x) else round(x, 4)
