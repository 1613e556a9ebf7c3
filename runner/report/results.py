"""What the report's figures and text are made of: the sweep's results, summarised once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trafficsim.runner.report.cases import Case
from trafficsim.runner.report.details import Details
from trafficsim.sim import Scenario


@dataclass(frozen=True)
class Results:
    scenario: Scenario
    seeds: list[int]
    cmp: dict[str, Any]
    """Every controller on every seed, as in ``comparison.json``."""
    vs_retimed: dict[str, dict[str, Any]]
    """The adaptive controllers' reductions against ``fixed-retimed``, paired by seed."""
    details: Details
    """The per-run figures of :func:`~trafficsim.runner.report.details.run_detail`."""
    cases: list[Case]
    sens_seeds: list[int]
    """The seeds of the sensitivity cases (the first of ``seeds``)."""
    as_modelled: dict[str, Any]
    """The comparison of the as-modelled runs on ``sens_seeds``: the cases' reference."""
    sensitivity: dict[str, dict[str, Any]]
    """Each case's comparison, by the case's label."""

    def fixed_detail(self, key: str) -> Any:
        """``key`` of the fixed-time run on the first seed: the network's layout and fleet,
        and the one run the report quotes by itself."""
        return self.details[("fixed", self.seeds[0])][key]
