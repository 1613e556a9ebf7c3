"""What the report runs: the controllers on the as-modelled scenario, and the sensitivity
cases, each the scenario with one input changed (demand, detector coverage, fault rates,
the predictor)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from trafficsim.runner.report.config import Sensitivity
from trafficsim.sim import Scenario

RETIMED = "fixed-retimed"
"""Today's fixed-time plans retimed by Webster's method to the peak hour's counts."""
CONTROLLERS = ["fixed", RETIMED, "actuated", "max-pressure", "predictive"]
ADAPTIVE = CONTROLLERS[2:]


@dataclass(frozen=True)
class Case:
    group: str
    """``demand``, ``detectors``, ``faults`` or ``predictor``."""
    label: str
    level: float
    """The case's value on its axis of the sensitivity figure (NaN: no axis)."""
    scenario: Scenario
    predictor_model: Path | None
    sensors_only: bool
    """Only the sensors or the predictor change: fixed-time traffic is the same as modelled
    (sensors draw from a random stream of their own and fixed time reads none), so the
    as-modelled fixed-time runs are the baseline and are not run again."""


def sensitivity_cases(
    scenario: Scenario, plan: Sensitivity, predictor_model: Path | None
) -> list[Case]:
    """A case per value of each swept input, and the predictor switched off when the
    as-modelled runs have one."""
    cases = [
        Case("demand", f"demand {100 * (f - 1):+.0f} %", f, scale_demand(scenario, f),
             predictor_model, sensors_only=False)
        for f in plan.demand_factors
    ]  # fmt: skip
    cases += [
        Case("detectors", f"detectors at {share:.0%} of the intersections", share,
             instrumented(scenario, share), predictor_model, sensors_only=True)
        for share in plan.instrumented_shares
    ]  # fmt: skip
    cases += [
        Case("faults", f"sensor fault rates x{f:g}", f, more_faults(scenario, f),
             predictor_model, sensors_only=True)
        for f in plan.fault_factors
    ]  # fmt: skip
    if predictor_model is not None:
        cases.append(Case("predictor", "predictor switched off", math.nan, scenario, None, True))
    return cases


def scale_demand(sc: Scenario, factor: float) -> Scenario:
    """Every demand profile times ``factor``."""
    demands = tuple(
        dataclasses.replace(d, profile=tuple((t, q * factor) for t, q in d.profile))
        for d in sc.demands
    )
    return dataclasses.replace(sc, demands=demands)


def instrumented(sc: Scenario, share: float) -> Scenario:
    """Loops and cameras at ``share`` of the signalized intersections, spread evenly over
    their sorted ids (0.5: every other one); the controllers leave the others on their
    stored plans."""
    from trafficsim.sensors.deployment import device_id_for

    if not 0.0 < share <= 1.0:
        raise ValueError(f"instrumented share must be in (0, 1], got {share}")
    signals = sorted(s.node for s in sc.signals)
    k = max(1, round(share * len(signals)))
    keep = {signals[int(i * len(signals) / k)] for i in range(k)}
    to_node = {ln.id: ln.to_node for ln in sc.links}
    groups = sorted(
        {f"{m.from_link}:{m.signal_group}" for m in sc.movements
         if m.signal_group is not None and to_node[m.from_link] in keep}
    )  # fmt: skip
    sensors = {
        **dict(sc.sensors),
        "default_deployment": False,
        "loops": [{"id": device_id_for("loop", g), "lane_group": g} for g in groups],
        "cameras": [{"id": device_id_for("cam", g), "lane_group": g} for g in groups],
    }
    return dataclasses.replace(sc, sensors=sensors)


def more_faults(sc: Scenario, factor: float) -> Scenario:
    """Every device's lost-reading, stuck and offline rates ``factor`` times the defaults
    (noise and bias unchanged)."""
    from trafficsim.sensors.deployment import FaultSpec

    base = FaultSpec()
    faults = {
        "drop": min(1.0, base.drop * factor),
        "stuck": min(1.0, base.stuck * factor),
        "offline": min(1.0, base.offline * factor),
    }
    return dataclasses.replace(sc, sensors={**dict(sc.sensors), "faults": faults})
