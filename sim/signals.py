"""Signal heads: simpy processes that run fixed-time plans cycle by cycle.

A head wakes once per cycle, publishes the cycle's effective green windows to the lane
groups of each signal group and lets them schedule their queues. A new plan handed to the
head (:meth:`SignalHead.set_plan`) takes effect at the next cycle start, which is a phase
boundary, so no green is ever cut short.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

from sim.config import SignalPlan, SignalTiming

if TYPE_CHECKING:
    from sim.queues import LaneGroup
    from sim.world import World


class SignalHead:
    """The controller cabinet of one signalized node."""

    def __init__(
        self,
        world: World,
        node: str,
        plan: SignalPlan,
        timing: SignalTiming,
        lane_groups: dict[str, list[LaneGroup]],
    ) -> None:
        self.world = world
        self.node = node
        self.plan = plan
        self.timing = timing
        self.lane_groups = lane_groups
        self._next_plan: SignalPlan | None = None
        self.plan_history: list[tuple[float, SignalPlan]] = [(0.0, plan)]

    def set_plan(self, plan: SignalPlan) -> None:
        """Run ``plan`` from the next cycle start (its offset is ignored after the first)."""
        missing = set(self.lane_groups) - set(plan.groups)
        if missing:
            raise ValueError(
                f"plan for node {self.node!r} gives no green to signal group(s) "
                f"{sorted(missing)}: every group of the node needs a phase"
            )
        self._next_plan = plan

    def process(self, env: simpy.Environment) -> Generator[simpy.Event, None, None]:
        plan = self.plan
        cycle = plan.cycle_s
        # Start the first cycle so that a cycle begins at offset_s (mod cycle).
        start = (plan.offset_s % cycle) - cycle if plan.offset_s % cycle else 0.0
        while True:
            windows = plan.effective_windows(
                self.timing.startup_lost_s, self.timing.yellow_end_use_s
            )
            world = self.world
            world.events_processed += 1
            for group, lgs in self.lane_groups.items():
                abs_w = [(start + s, start + e) for s, e in windows.get(group, [])]
                for lg in lgs:
                    lg.add_windows(abs_w)
                    world.kick(lg)
            world.drain()
            start += cycle
            yield env.timeout(start - env.now)
            if self._next_plan is not None:
                plan = self._next_plan
                self._next_plan = None
                cycle = plan.cycle_s
                self.plan = plan
                self.plan_history.append((env.now, plan))
