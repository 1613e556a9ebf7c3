"""Signal heads: simpy processes that run fixed-time plans cycle by cycle.

A head wakes once per cycle, publishes the cycle's effective green windows to the lane
groups of each signal group and lets them schedule their queues. The windows are each
group's own (:meth:`SignalPlan.effective_windows`, from phases or stages); one that starts
in a cycle is published whole, also when its green runs on into the next cycle. A new plan
handed to the head (:meth:`SignalHead.set_plan`) takes effect at the next cycle start, so no
green is ever cut short.

An :class:`ExternalHead` instead shows whatever a field cabinet outside the world decides,
one control step at a time (closed-loop control).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import simpy

from trafficsim.sim.config import SignalPlan, SignalTiming

if TYPE_CHECKING:
    from trafficsim.sim.queues import LaneGroup
    from trafficsim.sim.world import World


_INF = float("inf")


def _after(windows: list[tuple[float, float]], t_s: float) -> list[tuple[float, float]]:
    """``windows`` with what lies before ``t_s`` cut off: a window of a plan's cycle may run
    into the next cycle (a green across the cycle boundary), and after a change of plan the
    new plan's first window of that group may start inside it."""
    if not windows or windows[0][0] >= t_s:
        return windows
    return [(max(s, t_s), e) for s, e in windows if e > t_s]


class SignalDisplay(StrEnum):
    """What a signal group shows."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class _Head:
    """What every head of a signalized node holds: its node, stored plan, timing
    conventions and the lane groups of each signal group."""

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


class SignalHead(_Head):
    """The controller cabinet of one signalized node."""

    def __init__(
        self,
        world: World,
        node: str,
        plan: SignalPlan,
        timing: SignalTiming,
        lane_groups: dict[str, list[LaneGroup]],
    ) -> None:
        super().__init__(world, node, plan, timing, lane_groups)
        self._next_plan: SignalPlan | None = None
        self.plan_history: list[tuple[float, SignalPlan]] = [(0.0, plan)]

    def set_plan(self, plan: SignalPlan) -> None:
        """Run ``plan`` from the next cycle start (its offset is ignored after the first)."""
        missing = set(self.lane_groups) - set(plan.groups)
        if missing:
            raise ValueError(
                f"plan for node {self.node!r} gives no green to signal group(s) "
                f"{sorted(missing)}: every group of the node needs a green"
            )
        self._next_plan = plan

    def process(self, env: simpy.Environment) -> Generator[simpy.Event, None, None]:
        plan = self.plan
        cycle = plan.cycle_s
        # Start the first cycle so that a cycle begins at offset_s (mod cycle).
        start = (plan.offset_s % cycle) - cycle if plan.offset_s % cycle else 0.0
        windows = self._windows(plan)
        # A green running across the cycle boundary was already green when the run began:
        # the previous cycle's windows that reach into the first one count too.
        carried = {
            g: [(start - cycle + s, start - cycle + e) for s, e in wins if e > cycle]
            for g, wins in windows.items()
        }
        published: dict[str, float] = {}
        while True:
            world = self.world
            world.events_processed += 1
            for group, lgs in self.lane_groups.items():
                abs_w = carried.pop(group, [])
                abs_w += [(start + s, start + e) for s, e in windows.get(group, [])]
                abs_w = _after(abs_w, published.get(group, -_INF))
                if abs_w:
                    published[group] = abs_w[-1][1]
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
                windows = self._windows(plan)
                self.plan = plan
                self.plan_history.append((env.now, plan))

    def _windows(self, plan: SignalPlan) -> dict[str, list[tuple[float, float]]]:
        return plan.effective_windows(self.timing.startup_lost_s, self.timing.yellow_end_use_s)

    def timing_over(self, group: str, T: float) -> tuple[float, float]:
        """Time-weighted mean cycle and effective green of ``group`` over [0, T]."""
        hist = self.plan_history
        tm = self.timing
        cyc = g = 0.0
        for i, (t0, plan) in enumerate(hist):
            t1 = hist[i + 1][0] if i + 1 < len(hist) else T
            w = max(0.0, min(t1, T) - t0) / T
            cyc += w * plan.cycle_s
            g += w * plan.effective_green_s(group, tm.startup_lost_s, tm.yellow_end_use_s)
        return cyc, g


@dataclass(frozen=True, slots=True)
class SignalChange:
    """A signal group's display changes at ``t_s`` to ``state``."""

    t_s: float
    group: str
    state: SignalDisplay


class ExternalHead(_Head):
    """A head whose display is decided outside the world, step by step (a field cabinet).

    The cabinet (``sensors.signals``) is the safety authority; the head only turns display
    changes into effective green windows with the HCM conventions the fixed-time head uses:
    effective green starts ``startup_lost_s`` after green and ends ``yellow_end_use_s`` into
    the yellow (or at red, if the yellow is shorter). A green that continues past the end of
    the step is published up to the step end, so lane groups never schedule a departure into
    time the cabinet has not committed to.
    """

    def __init__(
        self,
        world: World,
        node: str,
        plan: SignalPlan,  # the stored plan; the cabinet decides what actually runs
        timing: SignalTiming,
        lane_groups: dict[str, list[LaneGroup]],
    ) -> None:
        super().__init__(world, node, plan, timing, lane_groups)
        self.state: dict[str, SignalDisplay] = dict.fromkeys(lane_groups, SignalDisplay.RED)
        self._cursor: dict[str, float] = {}  # open effective window: published up to here
        self._end: dict[str, float] = {}  # yellow: where effective green will end
        self.changes: list[SignalChange] = []
        self.green_starts: dict[str, int] = dict.fromkeys(lane_groups, 0)
        self.effective_green_total_s: dict[str, float] = dict.fromkeys(lane_groups, 0.0)
        self.committed_s = -float("inf")  # a first step may start before 0 (offsets)

    def _publish(self, group: str, start: float, end: float) -> None:
        if end <= start:
            return
        self.effective_green_total_s[group] += end - start
        for lg in self.lane_groups[group]:
            lg.add_windows([(start, end)])
            self.world.kick(lg)

    def drive(self, changes: list[SignalChange], until_s: float) -> None:
        """Apply display changes in ``[committed, until_s)`` (in time order), then commit
        continuing greens up to ``until_s``."""
        if until_s < self.committed_s:
            raise ValueError(f"node {self.node!r}: cannot commit back to {until_s} s")
        t_prev = self.committed_s
        l1, e = self.timing.startup_lost_s, self.timing.yellow_end_use_s
        for ch in changes:
            if ch.group not in self.state:
                raise ValueError(
                    f"node {self.node!r} has no signal group {ch.group!r}; "
                    f"groups: {sorted(self.state)}"
                )
            if ch.state not in tuple(SignalDisplay):
                states = tuple(d.value for d in SignalDisplay)
                raise ValueError(f"signal state must be one of {states}, got {ch.state!r}")
            if not t_prev <= ch.t_s < until_s:
                raise ValueError(
                    f"node {self.node!r}: change at {ch.t_s} s is outside the step "
                    f"[{t_prev}, {until_s}) or out of order"
                )
            t_prev = ch.t_s
            g, old = ch.group, self.state[ch.group]
            if ch.state == old:
                continue
            self.changes.append(ch)
            self.state[g] = ch.state
            if ch.state == SignalDisplay.GREEN:
                self._cursor[g] = ch.t_s + l1
                self._end.pop(g, None)
                self.green_starts[g] += 1
            elif ch.state == SignalDisplay.YELLOW:
                if old == SignalDisplay.GREEN:
                    self._end[g] = ch.t_s + e
            else:  # red
                cur = self._cursor.pop(g, None)
                end = self._end.pop(g, ch.t_s)
                if cur is not None:
                    self._publish(g, cur, min(end, ch.t_s))
        for g, cur in list(self._cursor.items()):
            stop = min(self._end.get(g, until_s), until_s)
            if stop > cur:
                self._publish(g, cur, stop)
                self._cursor[g] = stop
        self.committed_s = until_s
        self.world.drain()

    def timing_over(self, group: str, T: float) -> tuple[float, float]:
        """Mean cycle (time per green start) and effective green per cycle of ``group``."""
        n = self.green_starts.get(group, 0)
        if n == 0 or T <= 0:
            return 0.0, 0.0
        cycle = T / n
        return cycle, self.effective_green_total_s[group] / n
