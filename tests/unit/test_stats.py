"""The comparison's statistics against hand computations: the Student t table, a mean and
its 95 % interval, and reductions paired by seed on a few hand-made runs."""

from __future__ import annotations

import math
from typing import Any

import pytest

from trafficsim.runner.formatting import decimals, interval, reduction, significant
from trafficsim.runner.stats import (
    METRICS,
    comparison,
    error_bars,
    mean_ci,
    paired_reductions,
    summarise,
    t_quantile_975,
)


def test_t_quantile_is_the_table_to_30_degrees_of_freedom_then_near_normal() -> None:
    # Two-sided 95 %: t(0.975; df) from any statistics table.
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(2) == 4.303
    assert t_quantile_975(9) == 2.262
    assert t_quantile_975(30) == 2.042
    assert math.isnan(t_quantile_975(0))
    # Beyond the table 1.96 + 2.4 / df: t(0.975; 60) = 2.000, t(0.975; 120) = 1.980.
    assert t_quantile_975(60) == pytest.approx(2.000, abs=1e-3)
    assert t_quantile_975(120) == pytest.approx(1.980, abs=1e-3)
    quantiles = [t_quantile_975(df) for df in range(1, 200)]
    assert quantiles == sorted(quantiles, reverse=True)  # falls towards 1.96 throughout
    assert quantiles[-1] > 1.96


def test_mean_ci_is_the_mean_plus_minus_t_times_the_standard_error() -> None:
    # 1, 2, 3, 4: mean 2.5, sample variance 5/3, standard error sqrt(5/3 / 4),
    # t(0.975; 3) = 3.182, so the half-width is 3.182 * 0.645497 = 2.053972.
    m, (lo, hi) = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert m == 2.5
    assert lo == pytest.approx(2.5 - 2.053972, abs=1e-6)
    assert hi == pytest.approx(2.5 + 2.053972, abs=1e-6)


def test_one_value_has_a_mean_but_no_interval() -> None:
    m, (lo, hi) = mean_ci([7.0])
    assert m == 7.0 and math.isnan(lo) and math.isnan(hi)


def _row(controller: str, seed: int, delay: float, throughput: float) -> dict[str, Any]:
    """A run with every metric at 1.0 but mean delay and throughput."""
    row: dict[str, Any] = {key: 1.0 for key, _ in METRICS}
    row |= {"controller": controller, "seed": seed, "mean_delay_s": delay}
    row["throughput_veh_per_h"] = throughput
    return row


ROWS = [
    _row("fixed", 0, 10.0, 100.0),
    _row("fixed", 1, 20.0, 100.0),
    _row("x", 0, 8.0, 110.0),
    _row("x", 1, 17.0, 120.0),
]


def test_reduction_is_paired_by_seed_in_percent_of_the_baseline_mean() -> None:
    red = paired_reductions(ROWS, [0, 1], "fixed")
    assert set(red) == {"x"}
    # Delay: per seed (10 - 8) / 15 and (20 - 17) / 15, i.e. 13.333 % and 20 %: mean
    # 16.667 %, standard deviation 4.714, half-width 12.706 * 4.714 / sqrt(2) = 42.353.
    delay = red["x"]["mean_delay_s"]
    assert delay["pct"] == pytest.approx(16.6667, abs=1e-4)
    assert delay["ci95_pct"][0] == pytest.approx(16.6667 - 42.3533, abs=1e-3)
    assert delay["ci95_pct"][1] == pytest.approx(16.6667 + 42.3533, abs=1e-3)
    # Throughput counts the other way round: 10 % and 20 % more is a 15 % reduction.
    assert red["x"]["throughput_veh_per_h"]["pct"] == pytest.approx(15.0)
    # Equal runs: no reduction and no spread.
    assert red["x"]["co2_kg"] == {"pct": 0.0, "ci95_pct": [0.0, 0.0]}


def test_no_baseline_no_reductions() -> None:
    assert paired_reductions(ROWS, [0, 1], "actuated") == {}


def test_summary_holds_means_reductions_and_the_sorted_runs() -> None:
    rows = [ROWS[3], ROWS[0], ROWS[2], ROWS[1]]
    cmp = summarise("toy", [0, 1], rows)
    assert list(cmp) == [
        "scenario", "metrics", "seeds", "controllers", "reduction_vs_fixed", "runs"
    ]  # fmt: skip
    assert cmp["controllers"]["x"]["mean_delay_s"]["mean"] == 12.5
    assert cmp["reduction_vs_fixed"] == paired_reductions(ROWS, [0, 1], "fixed")
    assert [(r["controller"], r["seed"]) for r in cmp["runs"]] == [
        ("fixed", 0), ("fixed", 1), ("x", 0), ("x", 1)
    ]  # fmt: skip
    # A run's report details are kept aside, never in the public summary.
    detailed = [{**r, "detail": {"seed": r["seed"]}} for r in ROWS]
    with_details = comparison("toy", [0, 1], detailed)
    assert with_details["_details"][("x", 1)] == {"seed": 1}
    assert all("detail" not in r for r in with_details["runs"])


def test_error_bars_are_the_distances_to_the_interval() -> None:
    stats = [{"pct": 10.0, "ci95_pct": [4.0, 13.0]}, {"pct": None, "ci95_pct": [None, None]}]
    y, err = error_bars(stats)
    assert y == [10.0, 0.0]
    assert err == [[6.0, 0.0], [3.0, 0.0]]


def test_numbers_read_the_same_in_every_table() -> None:
    assert decimals(1234.567) == "1,234.6"
    assert decimals(1234.567, 0) == "1,235"
    assert decimals(None) == decimals(math.nan) == "n/a"
    assert significant(12.3456) == "12.35"
    assert significant(12345.6) == "12,346"
    assert interval(2.5, [0.26, 4.74]) == "2.5 [0.3, 4.7]"
    assert reduction({"pct": 16.6667, "ci95_pct": [-25.69, None]}) == "16.7 % [-25.7, n/a]"
