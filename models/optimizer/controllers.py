"""The four controllers of the comparison. Parameters and their sources are in each class;
docs/controllers.md says how they behave and why.

All of them answer a clock tick with commands; none reads anything but messages. Their
common base is :mod:`models.optimizer.base`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from trafficsim.models.optimizer.base import (
    Command,
    Controller,
    ControllerName,
    within_max_red,
)
from trafficsim.models.optimizer.view import GroupInfo, Intersection
from trafficsim.models.optimizer.webster import MIN_CYCLE_S, hcm_delay_s
from trafficsim.sensors.mqtt.messages import PhaseTiming

__all__ = [
    "CONTROLLERS",
    "Actuated",
    "Command",
    "Controller",
    "ControllerName",
    "FixedTime",
    "MaxPressure",
    "Predictive",
    "make_controller",
    "within_max_red",
]


class FixedTime(Controller):
    """Today's practice: one fixed-time plan per intersection, re-sent as a heartbeat.

    With ``design_flows`` ({intersection: {group: veh/h}}, intersection ``"*"`` for all
    others) the plan is timed by Webster's method on those flows (equal degree of
    saturation); without, the cabinet's stored plan is what the city runs today and is kept
    as it is. ``pcu_per_veh`` converts design flows to PCU (the HCMC mix of the built-in
    scenarios averages about 0.45 PCU per vehicle: 85 % motorcycles at 0.3, see
    docs/sources.md).
    """

    name = ControllerName.FIXED

    def __init__(
        self,
        root: str = "hcmc",
        design_flows: dict[str, dict[str, float]] | None = None,
        pcu_per_veh: float = 1.0,
    ) -> None:
        super().__init__(root)
        self.design_flows = design_flows or {}
        self.pcu_per_veh = pcu_per_veh

    def refusal(self, node: str, *, in_stages: bool) -> str | None:
        flows = self.design_flows.get(node, self.design_flows.get("*"))
        if flows and in_stages:
            return (
                "design flows time a plan in phases by Webster's method, and this "
                "intersection's plan is written in stages (each group its own green); run "
                "it without design flows (the stored plan) or write its plan in phases"
            )
        return None

    def decide(self, t_s: float) -> list[Command]:
        out = []
        for node, inter in sorted(self.view.intersections.items()):
            if not self._controls(inter):
                continue
            stored = inter.meta.stored_stages
            if stored:  # the stored plan in stages, as it is
                if self._heartbeat_due(inter, t_s, ("stages", stored)):
                    out.append(self._stages(inter, t_s, stored))
                continue
            flows = self.design_flows.get(node, self.design_flows.get("*"))
            if flows:
                pcu = {g: q * self.pcu_per_veh for g, q in flows.items()}
                phases, _ = self._timed_plan(inter, pcu)
            else:
                phases = list(inter.meta.stored_phases)
            if self._heartbeat_due(inter, t_s, self._plan_key(phases)):
                out.append(self._cycle(inter, t_s, phases))
        return out


class Actuated(Controller):
    """Vehicle-actuated control from the loops: minimum green, extension while vehicles keep
    coming (gap-out), maximum green, and service only of phases with a call.

    A standing queue seen by the cameras also holds the green (queue-clearance extension).
    Defaults: passage (gap) time 2 s and maximum green 45 s are within the ranges of the FHWA
    Signal Timing Manual (2nd ed., 2015, ch. 5: passage time 2-4 s;
    maximum green 30-60 s for arterial through phases). The gap is measured at the loops'
    reporting resolution (their period), so deploy loops with a short period (2 s).
    """

    name = ControllerName.ACTUATED

    def __init__(
        self,
        root: str = "hcmc",
        min_green_s: float = 7.0,
        max_green_s: float = 45.0,
        gap_s: float = 2.0,
    ) -> None:
        super().__init__(root)
        self.min_green_s = min_green_s
        self.max_green_s = max_green_s
        self.gap_s = gap_s

    def decide(self, t_s: float) -> list[Command]:
        out: list[Command] = []
        for _node, inter in sorted(self.view.intersections.items()):
            k = inter.phase
            if k is None or not self.view.instrumented(inter):
                continue  # intergreen, or no detectors: nothing to decide
            elapsed = t_s - inter.green_since_s
            target = k
            if elapsed >= max(self.min_green_s, inter.meta.min_green_s):
                groups = [inter.groups[g] for g in inter.phases[k]]
                # Gap-out: no vehicle on the loops for the passage time and no standing
                # queue at the stop line (the loops sit upstream of it, so a queue shorter
                # than their distance is only seen by the camera).
                gapped = min(self.view.gap_s(g, t_s) for g in groups) >= self.gap_s and not any(
                    self.view.queue_veh(g) > 0 for g in groups
                )
                maxed = elapsed >= min(self.max_green_s, inter.meta.max_green_s)
                if gapped or maxed:
                    n = len(inter.phases)
                    for step in range(1, n):
                        j = (k + step) % n
                        if any(self.view.demand(inter.groups[g]) for g in inter.phases[j]):
                            target = j
                            break
            out.extend(self._stage(inter, t_s, target))
        return out


class MaxPressure(Controller):
    """Varaiya's max-pressure control (Varaiya 2013, "Max pressure control of a network of
    signalized intersections", Transportation Research C 36): every decision interval, show
    the phase whose movements have the largest pressure, sum of saturation flow x (queue on
    the approach - queue on the links it feeds), with queues from the cameras in PCU.

    A phase keeps at least ``min_green_s`` (10 s, an assumption: with 3 s of yellow per
    change, shorter phases lose too much capacity to intergreens; cf. Kouvelas et al. 2014,
    who add minimum phase times for the same reason); the decision interval is 10 s (an
    assumption: 5 s switched so often that results swung widely from seed to seed).
    """

    name = ControllerName.MAX_PRESSURE

    def __init__(
        self, root: str = "hcmc", interval_s: float = 10.0, min_green_s: float = 10.0
    ) -> None:
        super().__init__(root)
        self.interval_s = interval_s
        self.min_green_s = min_green_s
        self._next: dict[str, float] = {}
        self._target: dict[str, int] = {}

    def pressure(self, inter: Intersection, k: int) -> float:
        v = self.view
        total = 0.0
        for name in inter.phases[k]:
            g = inter.groups[name]
            pcu = v.pcu_per_veh(g)
            total += (
                g.sat_flow_pcu_per_h / 3600.0 * pcu * (v.queue_veh(g) - v.downstream_queue_veh(g))
            )
        return total

    def decide(self, t_s: float) -> list[Command]:
        out: list[Command] = []
        for node, inter in sorted(self.view.intersections.items()):
            k = inter.phase
            if k is None or not self.view.instrumented(inter):
                continue
            if t_s < self._next.get(node, -math.inf):
                out.extend(self._stage(inter, t_s, self._target.get(node, k)))  # heartbeat
                continue
            self._next[node] = t_s + self.interval_s - 1e-6
            target = k
            if t_s - inter.green_since_s >= max(self.min_green_s, inter.meta.min_green_s):
                pressures = [self.pressure(inter, j) for j in range(len(inter.phases))]
                best = max(range(len(pressures)), key=lambda j: (pressures[j], j == k))
                if pressures[best] > pressures[k]:
                    target = best
            self._target[node] = target
            out.extend(self._stage(inter, t_s, target))
        return out


class Predictive(Controller):
    """Cycle-by-cycle plans that minimise predicted delay.

    Every ``replan_s`` it predicts each group's demand for the coming cycles: the
    predictor's flow forecast for the group's loops where one has been published (before
    this tick), otherwise the measured flow smoothed over 5 minutes; plus the standing queue
    from the cameras, to be cleared within ``clear_s``. It then searches cycle lengths from
    30 s to the maximum in 5 s steps, splits each by Webster's equal degree of saturation,
    and keeps the plan with the least total HCM delay (uniform + incremental; see
    :mod:`models.optimizer.webster`). The cabinet runs it from its next cycle boundary.
    """

    name = ControllerName.PREDICTIVE

    def __init__(
        self,
        root: str = "hcmc",
        replan_s: float = 60.0,
        clear_s: float = 300.0,
        max_cycle_s: float = 150.0,
        use_forecasts: bool = True,
    ) -> None:
        super().__init__(root)
        self.replan_s = replan_s
        self.clear_s = clear_s
        self.max_cycle_s = max_cycle_s
        self.use_forecasts = use_forecasts
        self._next = -math.inf
        self._plans: dict[str, list[PhaseTiming]] = {}

    def demand_pcu_h(self, g: GroupInfo, t_s: float) -> tuple[float, float]:
        """(arrival flow, flow needed to clear the standing queue) in PCU/h."""
        v = self.view
        pcu = v.pcu_per_veh(g)
        q = v.flow_veh_per_h(g, before_s=t_s if self.use_forecasts else None) * pcu
        return q, v.queue_veh(g) * pcu * 3600.0 / self.clear_s

    def refusal(self, node: str, *, in_stages: bool) -> str | None:
        if in_stages:
            return (
                "the predictive controller times plans in phases (Webster's splits, HCM "
                "delay), and this intersection's plan is written in stages (each group its "
                "own green); control it with fixed, actuated or max-pressure, or write its "
                "plan in phases"
            )
        return None

    def decide(self, t_s: float) -> list[Command]:
        if t_s < self._next:
            return self._heartbeats(t_s)
        self._next = t_s + self.replan_s - 1e-6
        out = []
        for _node, inter in sorted(self.view.intersections.items()):
            if not self.view.instrumented(inter) or not self._controls(inter):
                continue
            demand = {g: self.demand_pcu_h(info, t_s) for g, info in inter.groups.items()}
            need = {g: q + extra for g, (q, extra) in demand.items()}
            best: tuple[float, list[PhaseTiming]] | None = None
            top = min(inter.meta.max_cycle_s, self.max_cycle_s)
            c = MIN_CYCLE_S
            while c <= top + 1e-9:
                phases, cycle = self._timed_plan(inter, need, c)
                cost = 0.0
                lost = inter.meta.startup_lost_s - inter.meta.yellow_end_use_s
                for p in phases:
                    for g in p.groups:
                        q = need[g]
                        sat = inter.groups[g].sat_flow_pcu_per_h
                        cost += q * hcm_delay_s(q, sat, p.green_s - lost, cycle)
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, phases)
                c += 5.0
            if best is not None:
                self._plans[inter.node] = best[1]
                out.append(self._cycle(inter, t_s, best[1]))
        return out

    def _heartbeats(self, t_s: float) -> list[Command]:
        """Between replans, the current plans again where a cabinet's backup timer needs it
        (the cabinet keeps running the same plan)."""
        out = []
        for node, phases in sorted(self._plans.items()):
            inter = self.view.intersections[node]
            if self._heartbeat_due(inter, t_s, self._plan_key(phases)):
                out.append(self._cycle(inter, t_s, phases))
        return out


CONTROLLERS: Mapping[ControllerName, type[Controller]] = MappingProxyType(
    {ControllerName(c.name): c for c in (FixedTime, Actuated, MaxPressure, Predictive)}
)


def make_controller(name: str, root: str = "hcmc", **params: Any) -> Controller:
    try:
        cls = CONTROLLERS[ControllerName(name)]
    except ValueError:
        raise ValueError(
            f"unknown controller {name!r}; choose one of {', '.join(CONTROLLERS)}"
        ) from None
    return cls(root, **params)
