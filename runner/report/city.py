"""From the modelled centre to the city: annual savings city-wide, scaled from the savings
per modelled intersection and peak (an estimate, its assumptions in
:class:`~trafficsim.runner.report.config.CityAssumptions`)."""

from __future__ import annotations

from functools import partial
from typing import Any

from trafficsim.runner.formatting import decimals, interval
from trafficsim.runner.report.cases import CONTROLLERS
from trafficsim.runner.report.config import CityAssumptions
from trafficsim.runner.report.results import Results
from trafficsim.runner.stats import mean_ci

EMISSIONS: tuple[tuple[str, str, float], ...] = (
    ("co2_kg", "t CO2", 1e-3),
    ("nox_g", "t NOx", 1e-6),
    ("pm_g", "t PM", 1e-6),
)
"""A run's emission figure, the unit of its annual saving, and the factor to that unit."""
DELAY = "vehicle-hours of delay"
_COLUMNS = (("t CO2", 0), ("t NOx", 1), ("t PM", 2), (DELAY, 0))
"""The city table's columns: each saving's unit and the decimals it is quoted with."""


def city_savings(res: Results, city: CityAssumptions) -> dict[str, Any]:
    """Annual savings city-wide per controller against ``fixed``, with the 95 % CI of the
    paired per-seed savings (it covers the runs' variation, not the assumptions')."""
    seeds = res.seeds
    n_signals = len(res.scenario.signals)  # the city's count is of signalized ones
    scale = (
        city.fixed_time_intersections
        * city.share_like_modelled
        / n_signals
        * city.peaks_per_day
        * city.working_days_per_year
    )
    runs = {(r["controller"], r["seed"]): r for r in res.cmp["runs"]}
    out: dict[str, Any] = {"peaks_per_year_per_modelled_network": scale}
    for name in CONTROLLERS[1:]:
        rows = {}
        for key, unit, conv in EMISSIONS:
            diff = [(runs[("fixed", s)][key] - runs[(name, s)][key]) * conv * scale for s in seeds]
            m, (lo, hi) = mean_ci(diff)
            rows[unit] = {"mean": m, "ci95": [lo, hi]}
        hours = []
        for s in seeds:
            f, c = runs[("fixed", s)], runs[(name, s)]
            veh = f["throughput_veh_per_h"] * res.scenario.duration_s / 3600.0
            hours.append((f["mean_delay_s"] - c["mean_delay_s"]) * veh / 3600.0 * scale)
        m, (lo, hi) = mean_ci(hours)
        rows[DELAY] = {"mean": m, "ci95": [lo, hi]}
        out[name] = rows
    return out


def city_section(city: CityAssumptions, rows: dict[str, Any], fleet: str) -> list[str]:
    """The estimate in the report: its assumptions, then a row per controller."""
    lines = [
        "## From the centre to the city (extrapolation, clearly an estimate)",
        "",
        f"Assumptions: {city.signalized_intersections} signalized intersections in HCMC, "
        f"{city.fixed_time_intersections} of them on fixed cycles, the ones the savings "
        "against fixed time apply to (HCMC DOT, Jan 2025); "
        f"{city.share_like_modelled:.0%} of those with traffic like the modelled centre "
        f"(assumption); {city.peaks_per_day:g} peaks a day like this one (assumption); "
        f"{city.working_days_per_year} working days a year (assumption); savings per "
        f"intersection as in the model; emissions with the `{fleet}` fleet.",
        "",
        "| controller | " + " | ".join(f"{unit} / year" for unit, _ in _COLUMNS) + " |",
        "|---|" + "---|" * len(_COLUMNS),
    ]
    for name in CONTROLLERS[1:]:
        cells = [
            interval(rows[name][unit]["mean"], rows[name][unit]["ci95"], partial(decimals, nd=nd))
            for unit, nd in _COLUMNS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
