"""The cabinet of an intersection whose plan is written in stages: each signal group runs
on its own, under a conflict monitor.

What a group should show comes from the running program: the current stage of a cycle plan
(the stored plan, a commanded one, or the stored plan again after a fallback), or in stage
control the green set of the commanded phase of the table. The cabinet shows it only as far
as the safety rules of signal-group control allow (the intergreen matrix of a group-based
controller, e.g. the German RiLSA's), checked at every change:

- a green lasts at least the minimum green;
- a yellow lasts at least the intersection's yellow; a green that a change of program ends
  with no yellow of its own shows the group's yellow of the stored plan;
- a group turns green only when every group it conflicts with is red, and has been for at
  least the intersection's all-red.

A checked plan, run cycle after cycle, never meets these rules: they act only where one
program gives way to another (a cycle plan at the end of the running cycle, a stage command
at once, the fallback when the backup timer runs out), and there they hold a green, add a
yellow or delay a green, so no change of program can shorten a minimum green, a yellow or an
all-red. The watchdog is the phase cabinet's (NTCIP 1202 backup time): when it runs out the
stored plan starts again from its first stage, at once.
"""

from __future__ import annotations

import math
from collections import deque

from trafficsim.sensors.mqtt.messages import CabinetMode, Display, StageCommand
from trafficsim.sensors.mqtt.messages.timing import StageGreen, stage_greens, stage_starts_s
from trafficsim.sensors.signals.cabinet import CabinetStats, DisplayChange, ModeChange
from trafficsim.sensors.signals.config import IntersectionConfig, PlanRejectedError
from trafficsim.sensors.signals.plans import CyclePlan, parse_command

_EPS = 1e-9
_INF = math.inf


class GroupCabinet:
    """Runs the stored stage plan until told otherwise; see the module docstring."""

    def __init__(self, cfg: IntersectionConfig) -> None:
        if not cfg.stored_stages:
            raise ValueError(f"intersection {cfg.node!r}: a group cabinet needs a stage plan")
        self.cfg = cfg
        self.stats = CabinetStats()
        stored = CyclePlan("stored", (), cfg.stored_offset_s, cfg.stored_stages)
        self._stored = stored
        self.mode: CabinetMode = CabinetMode.FIXED
        self.plan: CyclePlan = stored
        self._pending: CyclePlan | None = None
        self._switch_now = False
        self._target = 0
        self._target_since = -_INF
        self._detour: int | None = None
        self._plan_id = "stored"
        self.last_command_s: float | None = None
        self.backup_s = cfg.backup_s
        self._quiet_at: float | None = None
        self._table = cfg.phase_table
        self._rivals = {g: tuple(h for h in cfg.groups if cfg.conflicts(g, h)) for g in cfg.groups}
        greens = stage_greens(stored.stages)
        shortest = min(gr.end_s - gr.start_s for grs in greens.values() for gr in grs)
        self.min_green_s = min(cfg.limits.min_green_s, shortest)
        """The green the cabinet holds: the limit, or the stored plan's shortest if less."""
        self._yellow = dict(cfg.group_yellow_s)
        cycle = stored.cycle_s
        off = stored.offset_s % cycle
        self.cycle_start = off - cycle if off else 0.0
        self._starts = stage_starts_s(stored.stages)
        self.stage = 0
        self.display: dict[str, Display] = dict.fromkeys(cfg.groups, Display.RED)
        self.since: dict[str, float] = dict.fromkeys(cfg.groups, -_INF)
        """When each group's display last changed (before the start for the display the
        cabinet starts with: the stored plan's cycle was already running)."""
        self._red_at: dict[str, float] = dict.fromkeys(cfg.groups, -_INF)
        self._yellow_until: dict[str, float] = {}
        self._buffer: deque[DisplayChange] = deque()
        self._initial_display(greens, cycle)
        self._t = self.cycle_start
        self.now_s = self.cycle_start
        self.history: list[ModeChange] = [ModeChange(self.cycle_start, self.mode, None)]

    def _initial_display(self, greens: dict[str, list[StageGreen]], cycle: float) -> None:
        """The display at the start of the first cycle, as the stored plan left it: when
        each group turned green, yellow or red in the cycle before."""
        t0 = self.cycle_start
        first = self.plan.stages[0]
        for g, grs in greens.items():
            if g in first.green:
                gr = next(x for x in grs if x.start_s == 0.0 or x.end_s > cycle)
                whole = gr.end_s - gr.start_s >= cycle
                self._show(t0, g, Display.GREEN)
                self.since[g] = -_INF if whole else t0 + (gr.start_s - cycle if gr.start_s else 0.0)
            elif g in first.yellow:
                gr = next(x for x in grs if x.end_s <= cycle < x.end_s + x.yellow_s + _EPS)
                self._show(t0, g, Display.YELLOW)
                self.since[g] = t0 + gr.end_s - cycle
                self._yellow_until[g] = self.since[g] + self.cfg.min_yellow_s
            else:
                back = min((-(x.end_s + x.yellow_s)) % cycle for x in grs)
                self._red_at[g] = t0 - back

    # -- commands ---------------------------------------------------------------------------
    def receive(self, payload: object, now_s: float) -> tuple[bool, str]:
        """Take a command that arrived at ``now_s``; returns (accepted, reason)."""
        try:
            cmd = parse_command(payload, self.cfg)
        except PlanRejectedError as exc:
            self.stats.rejected += 1
            reason = str(exc)
            self.stats.reasons.append(reason)
            return False, reason
        self.stats.accepted += 1
        self.last_command_s = now_s
        self._quiet_at = None  # a fallback not yet started is called off
        if isinstance(cmd, StageCommand):
            entering = self.mode != CabinetMode.STAGE
            if entering:
                self.history.append(ModeChange(now_s, CabinetMode.STAGE, now_s))
            self.mode = CabinetMode.STAGE
            self._pending, self._switch_now = None, False
            if entering or cmd.phase != self._target or self._detour is not None:
                self._target_since = now_s
            self._target, self._detour = cmd.phase, None
            self._plan_id = cmd.plan_id
            return True, "accepted"
        running = self._pending or self.plan
        if self.mode == CabinetMode.CYCLE and cmd.stages == running.stages:
            return True, "accepted (same plan, kept running)"
        self._pending = cmd
        if self.mode == CabinetMode.STAGE:
            self._switch_now = True
            return True, "accepted, runs from now"
        return True, "accepted, runs from the next cycle boundary"

    @property
    def on_fallback(self) -> bool:
        return self.mode == CabinetMode.FALLBACK

    @property
    def plan_id(self) -> str:
        """The command running now: the last stage command's, or the cycle plan's."""
        return self._plan_id if self.mode == CabinetMode.STAGE else self.plan.plan_id

    # -- time -------------------------------------------------------------------------------
    def advance(self, t0: float, t1: float) -> list[DisplayChange]:
        """Run the cabinet over the control step ``[t0, t1)``; return its display changes
        (the first call also returns the initial display, at or before 0)."""
        if t1 < t0 or t0 < self.now_s - 1e-9:
            raise ValueError(f"cabinet {self.cfg.node!r}: steps must move forward")
        self._run_until(t0)
        self._watchdog(t0, t1)
        if self._switch_now and self._pending is not None:
            self._run(self._pending, CabinetMode.CYCLE, t0)
        self._switch_now = False
        self._at(t0)
        self._run_until(t1)
        self.now_s = t1
        out = []
        buf = self._buffer
        while buf and buf[0].t_s < t1:
            out.append(buf.popleft())
        return out

    def _watchdog(self, t0: float, t1: float) -> None:
        """Start the fallback if the backup timer runs out before ``t1`` (at ``t0`` at the
        earliest: commands arrive only at step starts, so the cabinet knows then)."""
        if self.last_command_s is None or self._quiet_at is not None:
            return
        due = self.last_command_s + self.backup_s
        if due >= t1:
            return
        if self.mode in (CabinetMode.CYCLE, CabinetMode.STAGE):
            self._quiet_at = max(due, t0)
        else:
            self._pending = None  # a plan that never started: stay on the stored plan

    def _run_until(self, t_end: float) -> None:
        while True:
            quiet = _INF if self._quiet_at is None else self._quiet_at
            t = min(self._boundary(), quiet, self._deadline())
            if t >= t_end:
                return
            self._at(t)

    def _at(self, t: float) -> None:
        """Everything that happens at ``t``: the program moves on, then the display
        follows it as far as the rules allow."""
        while self._boundary() <= t + _EPS:
            self._next_stage(self._boundary())
        if self._quiet_at is not None and self._quiet_at <= t + _EPS:
            self._quiet_at = None
            self.stats.fallbacks += 1
            self._run(self._stored, CabinetMode.FALLBACK, t)
        self._rest(t)
        self._settle(t)
        self._t = t

    def _boundary(self) -> float:
        """When the running stage ends (never, in stage control)."""
        if self.mode == CabinetMode.STAGE:
            return _INF
        return self.cycle_start + self._starts[self.stage + 1]

    def _next_stage(self, t: float) -> None:
        self.stage += 1
        if self.stage < len(self.plan.stages):
            return
        self.stage = 0
        self.cycle_start = t
        if self._pending is not None:
            self._run(self._pending, CabinetMode.CYCLE, t)

    def _run(self, plan: CyclePlan, mode: CabinetMode, t: float) -> None:
        """Run ``plan`` from its first stage at ``t``."""
        self._pending = None
        if mode != self.mode:
            self.history.append(ModeChange(t, mode, self.last_command_s))
        self.mode, self.plan = mode, plan
        self._starts = stage_starts_s(plan.stages)
        self.stage, self.cycle_start = 0, t
        self._detour = None
        self.stats.plan_switches += 1

    def _wanted(self, g: str) -> Display:
        if self.mode == CabinetMode.STAGE:
            k = self._target if self._detour is None else self._detour
            return Display.GREEN if g in self._table[k] else Display.RED
        st = self.plan.stages[self.stage]
        if g in st.green:
            return Display.GREEN
        return Display.YELLOW if g in st.yellow else Display.RED

    def _rest(self, t: float) -> None:
        """Stage control rests in the commanded phase, never past the maximum green: then
        the next phase of the table gets its minimum green, and the commanded one returns."""
        if self.mode != CabinetMode.STAGE:
            return
        due = self._rest_until()
        if due is None or t < due - _EPS:
            return
        if self._detour is None:
            self._detour = (self._target + 1) % len(self._table)
        else:
            self._detour = None
            self._target_since = t

    def _rest_until(self) -> float | None:
        k = self._target if self._detour is None else self._detour
        shown = self._table[k]
        if any(self.display[g] != Display.GREEN for g in shown):
            return None
        since = max(self._target_since, *(self.since[g] for g in shown))
        hold = self.cfg.limits.max_green_s if self._detour is None else self.min_green_s
        return since + hold

    def _settle(self, t: float) -> None:
        changed = True
        while changed:
            changed = False
            for g in self.cfg.groups:
                shown, wanted = self.display[g], self._wanted(g)
                if shown == Display.GREEN:
                    if wanted == Display.GREEN or t < self.since[g] + self.min_green_s - _EPS:
                        continue
                    y = self.cfg.min_yellow_s if wanted == Display.YELLOW else self._yellow[g]
                    if wanted == Display.YELLOW or y > 0:
                        self._show(t, g, Display.YELLOW)
                        self._yellow_until[g] = t + y
                    else:
                        self._show(t, g, Display.RED)
                elif shown == Display.YELLOW:
                    if wanted == Display.YELLOW or t < self._yellow_until[g] - _EPS:
                        continue
                    self._show(t, g, Display.RED)
                elif wanted == Display.GREEN and self._clear(g, t):
                    self._show(t, g, Display.GREEN)
                else:
                    continue
                changed = True

    def _clear(self, g: str, t: float) -> bool:
        """Every group conflicting with ``g`` is red, and has been for the all-red."""
        all_red = self.cfg.min_all_red_s
        return all(
            self.display[c] == Display.RED and t >= self._red_at[c] + all_red - _EPS
            for c in self._rivals[g]
        )

    def _deadline(self) -> float:
        """The next instant at which a rule that holds a group back lets it go."""
        t, nxt = self._t, _INF
        for g in self.cfg.groups:
            shown, wanted = self.display[g], self._wanted(g)
            if shown == Display.GREEN and wanted != Display.GREEN:
                at = self.since[g] + self.min_green_s
            elif shown == Display.YELLOW and wanted != Display.YELLOW:
                at = self._yellow_until[g]
            elif shown == Display.RED and wanted == Display.GREEN:
                reds = [
                    self._red_at[c] + self.cfg.min_all_red_s
                    for c in self._rivals[g]
                    if self.display[c] == Display.RED
                ]
                at = max(reds, default=_INF)
            else:
                continue
            if t + _EPS < at < nxt:
                nxt = at
        if self.mode == CabinetMode.STAGE:
            due = self._rest_until()
            if due is not None and t + _EPS < due < nxt:
                nxt = due
        return nxt

    def _show(self, t: float, g: str, state: Display) -> None:
        if self.display[g] == state:
            return
        self.display[g] = state
        self.since[g] = t
        if state == Display.RED:
            self._red_at[g] = t
        self._buffer.append(DisplayChange(t, g, state))
