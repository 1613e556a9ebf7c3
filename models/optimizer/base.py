"""What every controller of the centre shares: its view of the network, command numbering
and heartbeats, the Webster timing of a stored phase sequence, and what it refuses.
"""

from __future__ import annotations

import dataclasses
import math
from enum import StrEnum
from typing import Any, ClassVar

from trafficsim.models.optimizer.view import Intersection, NetworkView
from trafficsim.models.optimizer.webster import (
    PhaseDemand,
    split_greens,
    webster_cycle_s,
)
from trafficsim.sensors.mqtt.messages import (
    CycleCommand,
    PhaseTiming,
    StageCommand,
    StageTiming,
)
from trafficsim.sensors.mqtt.messages.timing import longest_reds_s
from trafficsim.sensors.mqtt.topics import Topics

Command = tuple[str, dict[str, Any]]


class ControllerName(StrEnum):
    """The signal controllers of the centre."""

    FIXED = "fixed"
    ACTUATED = "actuated"
    MAX_PRESSURE = "max-pressure"
    PREDICTIVE = "predictive"


class Controller:
    """Base: keeps the view, numbers commands and sends heartbeats.

    A cabinet falls back to its stored plan when it hears nothing valid for its fallback
    time, so every controller repeats its current command at least every half of it.
    """

    name: ClassVar[str] = "controller"
    """The plan ids' prefix; a :class:`ControllerName` for the controllers of the centre."""
    min_green_s: float = 5.0
    """The controller's own minimum green; the cabinet's (published) applies if larger."""
    max_cycle_s: float = 180.0
    """The longest cycle a plan of this controller may have (the cabinet's if smaller)."""

    def __init__(self, root: str = "hcmc") -> None:
        self.root = root
        self.topics = Topics(root)
        self.view = NetworkView(root)
        self._last_sent: dict[str, tuple[float, Any]] = {}
        self._seq = 0
        self.refused: dict[str, str] = {}
        """Intersections left on their stored plan, with the reason (see :meth:`refusal`)."""

    def observe(self, topic: str, payload: dict[str, Any]) -> None:
        self.view.observe(topic, payload)

    def decide(self, t_s: float) -> list[Command]:
        raise NotImplementedError

    def refusal(self, node: str, *, in_stages: bool) -> str | None:
        """Why this controller cannot control intersection ``node`` (None: it can);
        ``in_stages``: its stored plan is written in stages. It leaves such an intersection
        on its stored plan and says why in :attr:`refused`."""
        return None

    def _controls(self, inter: Intersection) -> bool:
        reason = self.refusal(inter.node, in_stages=bool(inter.meta.stored_stages))
        if reason is None:
            return True
        self.refused[inter.node] = reason
        return False

    # -- helpers ----------------------------------------------------------------------------
    def _heartbeat_due(self, inter: Intersection, t_s: float, key: Any) -> bool:
        last = self._last_sent.get(inter.node)
        return last is None or last[1] != key or t_s - last[0] >= 0.5 * inter.meta.fallback_s

    def _next_plan_id(self, inter: Intersection, t_s: float, key: Any) -> str:
        self._seq += 1
        self._last_sent[inter.node] = (t_s, key)
        return f"{self.name}-{self._seq}"

    def _stage(self, inter: Intersection, t_s: float, phase: int) -> list[Command]:
        key = ("stage", phase)
        if not self._heartbeat_due(inter, t_s, key):
            return []
        cmd = StageCommand(inter.node, self._next_plan_id(inter, t_s, key), phase, t_s)
        return [(self.topics.signal(inter.node, "plan"), cmd.to_payload())]

    @staticmethod
    def _plan_key(phases: list[PhaseTiming]) -> tuple[Any, ...]:
        """What makes two cycle plans the same command (for heartbeats)."""
        return ("cycle", tuple((p.groups, p.green_s) for p in phases))

    def _cycle(self, inter: Intersection, t_s: float, phases: list[PhaseTiming]) -> Command:
        plan_id = self._next_plan_id(inter, t_s, self._plan_key(phases))
        cmd = CycleCommand(inter.node, plan_id, tuple(phases), t_s)
        return self.topics.signal(inter.node, "plan"), cmd.to_payload()

    def _stages(self, inter: Intersection, t_s: float, stages: tuple[StageTiming, ...]) -> Command:
        plan_id = self._next_plan_id(inter, t_s, ("stages", stages))
        cmd = CycleCommand(inter.node, plan_id, (), t_s, stages)
        return self.topics.signal(inter.node, "plan"), cmd.to_payload()

    @staticmethod
    def _intergreen(inter: Intersection, k: int) -> tuple[float, float]:
        st = inter.meta.stored_phases[k]
        return st.yellow_s, st.all_red_s

    def _timed_plan(
        self, inter: Intersection, flows_pcu_h: dict[str, float], cycle_s: float | None = None
    ) -> tuple[list[PhaseTiming], float]:
        """Webster timing of the stored phase sequence for ``flows``; returns the phases and
        the cycle (``cycle_s`` forces a cycle instead of Webster's optimum)."""
        demands = []
        for k, groups in enumerate(inter.phases):
            y = max(flows_pcu_h.get(g, 0.0) / inter.groups[g].sat_flow_pcu_per_h for g in groups)
            yellow, all_red = self._intergreen(inter, k)
            demands.append(PhaseDemand(y, yellow + all_red))
        lost = inter.meta.startup_lost_s - inter.meta.yellow_end_use_s
        cap = min(inter.meta.max_cycle_s, self.max_cycle_s)
        cycle = cycle_s or webster_cycle_s(demands, lost, cap)
        greens = split_greens(demands, cycle, lost, max(inter.meta.min_green_s, self.min_green_s))
        greens = [min(g, inter.meta.max_green_s) for g in greens]
        phases = []
        for k, (groups, g) in enumerate(zip(inter.phases, greens, strict=True)):
            yellow, all_red = self._intergreen(inter, k)
            phases.append(PhaseTiming(tuple(sorted(groups)), g, yellow, all_red))
        min_green = max(inter.meta.min_green_s, self.min_green_s)
        phases = within_max_red(phases, inter.meta.max_red_s, min_green)
        return phases, sum(p.green_s + p.yellow_s + p.all_red_s for p in phases)


def within_max_red(
    phases: list[PhaseTiming], max_red_s: float, min_green_s: float
) -> list[PhaseTiming]:
    """``phases`` with the greens of the other phases cut (never below ``min_green_s``,
    to 0.1 s) wherever a group would be red longer than the cabinet's ``max_red_s``: a plan
    that starves a group is one the cabinet refuses."""
    for _ in range(len(phases)):
        reds = longest_reds_s(phases)
        worst = max(sorted(reds), key=lambda g: reds[g])
        excess = reds[worst] - max_red_s
        if excess <= 1e-9:
            break
        others = [k for k, p in enumerate(phases) if worst not in p.group_set]
        slack = {k: max(0.0, phases[k].green_s - min_green_s) for k in others}
        total = sum(slack.values())
        if total <= 0:
            break
        cut = min(excess, total)
        phases = list(phases)
        for k in others:
            green = phases[k].green_s - cut * slack[k] / total
            phases[k] = dataclasses.replace(phases[k], green_s=math.floor(green * 10 + 1e-6) / 10)
    return phases
