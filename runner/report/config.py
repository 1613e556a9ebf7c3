"""What the impact report assumes and varies: plain settings, cheap to import (the CLI
builds its options from these defaults)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CityAssumptions:
    """How the modelled centre scales to the city. Sources and status per field."""

    signalized_intersections: int = 1070
    """HCMC DOT, Jan 2025 (HCMC_FACTS row 6)."""
    fixed_time_intersections: int = 843
    """Of them, those on pre-programmed fixed cycles, the baseline the savings are against
    (the other 227 are connected to the central system; HCMC_FACTS row 6)."""
    share_like_modelled: float = 0.5
    """ASSUMPTION: share of the city's signals with traffic like the modelled centre's."""
    peaks_per_day: float = 2.0
    """ASSUMPTION: an evening peak like the morning one (DOT speeds: AM 19, PM 18 km/h)."""
    working_days_per_year: int = 250
    """ASSUMPTION: peaks on working days only."""


@dataclass(frozen=True, slots=True)
class Sensitivity:
    """The sensitivity study: each case changes one input of the as-modelled runs and
    compares ``predictive`` with ``fixed`` on the first ``seeds`` seeds."""

    demand_factors: tuple[float, ...] = (0.8, 0.9, 1.1, 1.2)
    """Every demand profile times this (+-20 % brackets the calibration; +-10 % shows the shape)."""
    instrumented_shares: tuple[float, ...] = (0.25, 0.5, 0.75)
    """Share of the signalized intersections with loops and cameras (1.0 = as modelled)."""
    fault_factors: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0)
    """Every device's lost-reading, stuck and offline rates times this (1.0 = as modelled)."""
    seeds: int = 3
    model_variants: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = (
        ("width-based saturation flow (S0 = 600 PCU/h per m), same demand",
         (("sat_flow", "width"),)),
    )  # fmt: skip
    """Built-in parameters of another model of the city, applied to a built-in that has
    them: the width-based saturation flow of motorcycle-dominant traffic (HCMC_FACTS row
    23) with the demand as calibrated under the lane-based one."""
