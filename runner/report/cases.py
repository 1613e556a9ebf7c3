"""What the report runs: the controllers on the as-modelled scenario, and the sensitivity
cases, each with one input changed (the scenario's demand, the deployment's detector
coverage or fault rates, the predictor)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from trafficsim.runner.report.config import Sensitivity
from trafficsim.sensors.deployment_spec import DeploymentSpec
from trafficsim.sim import Scenario, load_scenario

RETIMED = "fixed-retimed"
"""Today's fixed-time plans retimed by Webster's method to the peak hour's counts."""
CONTROLLERS: tuple[str, ...] = ("fixed", RETIMED, "actuated", "max-pressure", "predictive")
ADAPTIVE = CONTROLLERS[2:]


@dataclass(frozen=True)
class Case:
    group: str
    """``demand``, ``detectors``, ``faults``, ``model`` (another model of the city: its
    saturation flow, or the speeds its demand was calibrated to) or ``predictor``."""
    label: str
    level: float
    """The case's value on its axis of the sensitivity figure (NaN: no axis)."""
    scenario: Scenario
    predictor_model: Path | None
    sensors_only: bool
    """Only the sensors or the predictor change: fixed-time traffic is the same as modelled
    (sensors draw from a random stream of their own and fixed time reads none), so the
    as-modelled fixed-time runs are the baseline and are not run again."""
    deployment: DeploymentSpec | None = None
    """The field devices when the case changes them (None: the scenario's ``[sensors]``)."""


def sensitivity_cases(
    scenario: Scenario, plan: Sensitivity, predictor_model: Path | None
) -> list[Case]:
    """A case per value of each swept input, and the predictor switched off when the
    as-modelled runs have one."""
    spec = DeploymentSpec.of(scenario)
    cases = [
        Case("demand", f"demand {100 * (f - 1):+.0f} %", f, scale_demand(scenario, f),
             predictor_model, sensors_only=False)
        for f in plan.demand_factors
    ]  # fmt: skip
    cases += [
        Case("detectors", f"detectors at {share:.0%} of the intersections", share,
             scenario, predictor_model, sensors_only=True,
             deployment=spec.covering(share, scenario))
        for share in plan.instrumented_shares
    ]  # fmt: skip
    cases += [
        Case("faults", f"sensor fault rates x{f:g}", f, scenario, predictor_model,
             sensors_only=True, deployment=spec.with_fault_factor(f))
        for f in plan.fault_factors
    ]  # fmt: skip
    params = dict(scenario.parameters)
    built_in = scenario.source == f"built-in scenario {scenario.name!r}"
    for label, over in plan.model_variants:
        if built_in and all(k in params for k, _ in over):
            variant = load_scenario(
                scenario.name, {**params, "duration_s": scenario.duration_s, **dict(over)}
            )
            cases.append(Case("model", label, math.nan, variant, predictor_model, False))
    if predictor_model is not None:
        cases.append(Case("predictor", "predictor switched off", math.nan, scenario, None, True))
    return cases


def scale_demand(sc: Scenario, factor: float) -> Scenario:
    """Every entry and OD flow profile times ``factor`` (explicit trips stay as they are)."""
    demands = tuple(
        dataclasses.replace(d, profile=tuple((t, q * factor) for t, q in d.profile))
        for d in sc.demands
    )
    ods = tuple(
        dataclasses.replace(d, profile=tuple((t, q * factor) for t, q in d.profile)) for d in sc.ods
    )
    return dataclasses.replace(sc, demands=demands, ods=ods)
