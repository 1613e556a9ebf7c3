"""One intersection's controller cabinet: a phase state machine that cannot be talked into
an unsafe display.

Every phase change goes through the same sequence, fixed at the moment it is decided: groups
leaving green show yellow for the outgoing phase's yellow time, then red; groups entering
green wait for the yellow and the all-red to pass. Commands change only *which* phase comes
next and *when* the current green ends, and never below its minimum green, so a command can
never shorten a yellow, an all-red or a minimum green, and phases (checked against the
conflict matrix on arrival) are the only sets of groups ever green together.

The watchdog is NTCIP 1202's backup timer (``unitBackupTime``): every accepted command
restarts it, and when it runs out (the centre went quiet) the cabinet reverts to its
stored plan. It does so at once, not at the next cycle boundary: the green showing ends
when the timer runs out, or at its minimum green if it started less than that before, the
intergreen runs in full, and the stored plan follows. Its backup time
(:attr:`IntersectionConfig.backup_s`) is short enough that this is done within one stored
cycle of the last command. Every change of mode is kept in :attr:`Cabinet.history`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from trafficsim.sensors.mqtt.messages import CabinetMode, Display, PhaseTiming, StageCommand
from trafficsim.sensors.signals.config import IntersectionConfig
from trafficsim.sensors.signals.plans import CyclePlan, PlanRejectedError, parse_command


@dataclass(frozen=True, slots=True)
class DisplayChange:
    """A signal group's display becomes ``state`` at ``t_s``."""

    t_s: float
    group: str
    state: Display


@dataclass(frozen=True, slots=True)
class ModeChange:
    """The cabinet runs ``mode`` from ``t_s`` (for a switch of program, the end of the
    outgoing green); ``last_command_s`` is when it last accepted a command (None: never)."""

    t_s: float
    mode: CabinetMode
    last_command_s: float | None

    @property
    def central(self) -> bool:
        """Under the centre's control (cycle plan or stage commands)."""
        return self.mode in (CabinetMode.CYCLE, CabinetMode.STAGE)


@dataclass
class CabinetStats:
    accepted: int = 0
    rejected: int = 0
    fallbacks: int = 0
    plan_switches: int = 0
    reasons: list[str] = field(default_factory=list)


class Cabinet:
    """Runs the stored plan until told otherwise; see the module docstring for the rules."""

    def __init__(self, cfg: IntersectionConfig) -> None:
        self.cfg = cfg
        self.stats = CabinetStats()
        stored = CyclePlan("stored", cfg.stored, cfg.stored_offset_s)
        self._stored = stored
        self.mode: CabinetMode = CabinetMode.FIXED
        self.plan: CyclePlan = stored
        self.phases: tuple[PhaseTiming, ...] = stored.phases
        self.idx = 0
        self._pending: tuple[CabinetMode, CyclePlan] | None = None
        self._target: int | None = None
        self._plan_id = "stored"
        self.last_command_s: float | None = None
        """When the cabinet last accepted a command (the backup timer's restart)."""
        self.backup_s = cfg.backup_s
        self._quiet_at: float | None = None
        """When the backup timer ran out, while the fallback it starts is under way."""
        # Start the first cycle so that a cycle begins at the offset (mod cycle), as the
        # fixed-time head of the simulator does: the display at 0 is mid-cycle.
        cycle = stored.cycle_s
        off = stored.offset_s % cycle
        self.green_start = off - cycle if off else 0.0
        self.display: dict[str, Display] = dict.fromkeys(cfg.groups, Display.RED)
        self._buffer: deque[DisplayChange] = deque()
        self._switch_t = 0.0
        self._show(self.green_start, self.phases[0].groups, Display.GREEN)
        self.now_s = self.green_start
        self.history: list[ModeChange] = [ModeChange(self.green_start, self.mode, None)]
        """Every change of mode, from the start: when the centre took control, when the
        cabinet fell back and when control came back."""

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
        if self._quiet_at is not None:  # a fallback not yet done is called off
            self._quiet_at = None
            self._pending = None
        if isinstance(cmd, StageCommand):
            if self.mode != CabinetMode.STAGE:
                self.history.append(ModeChange(now_s, CabinetMode.STAGE, now_s))
            self.mode = CabinetMode.STAGE
            self._pending = None
            self._target = cmd.phase
            self._plan_id = cmd.plan_id
            return True, "accepted"
        running = self._pending[1] if self._pending else self.plan
        if self.mode == CabinetMode.CYCLE and cmd.phases == running.phases:
            return True, "accepted (same plan, kept running)"
        self._pending = (CabinetMode.CYCLE, cmd)
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
        self._watchdog(t1)
        while True:
            if self.green_start >= t1:
                break  # in an intergreen that lasts past the step
            end = self._green_end(max(t0, self.green_start))
            if end >= t1:
                break
            self._change_phase(end)
        self.now_s = t1
        out = []
        buf = self._buffer
        while buf and buf[0].t_s < t1:
            out.append(buf.popleft())
        return out

    def _watchdog(self, t1: float) -> None:
        """Start the fallback if the backup timer runs out before ``t1``.

        Commands arrive only at step starts (:meth:`receive` comes before :meth:`advance`),
        so the cabinet knows at ``t0`` whether its timer runs out within the step, and
        when."""
        if self.last_command_s is None or self._quiet_at is not None:
            return
        due = self.last_command_s + self.backup_s
        if due >= t1:
            return
        central = self.mode in (CabinetMode.CYCLE, CabinetMode.STAGE)
        if central:
            self._pending = (CabinetMode.FALLBACK, self._stored)
            self._quiet_at = due
        elif self._pending is not None:
            self._pending = None  # a plan that never started: stay on the stored plan

    def _green_end(self, decided_at: float) -> float:
        """When the current green ends, as known at ``decided_at`` (a step start)."""
        lim = self.cfg.limits
        ph = self.phases[self.idx]
        min_end = self.green_start + lim.min_green_s
        if self.mode != CabinetMode.STAGE:
            end = self.green_start + ph.green_s
        elif self._pending is not None and self._quiet_at is None:  # stage to cycle plan
            return max(decided_at, min_end)
        elif self._target is not None and self._target != self.cfg.table_index(ph.groups):
            end = max(decided_at, min_end)
        else:
            # Rest in the commanded phase until told otherwise, never past maximum green.
            end = self.green_start + lim.max_green_s
        if self._quiet_at is not None:
            # Falling back: the green ends when the timer ran out, never below its minimum.
            end = min(end, max(decided_at, self._quiet_at, min_end))
        return end

    def _change_phase(self, t_end: float) -> None:
        cur = self.phases[self.idx]
        self._switch_t = t_end
        phases, idx = self._next(cur)
        nxt = phases[idx]
        leaving = sorted(cur.group_set - nxt.group_set)
        entering = sorted(nxt.group_set - cur.group_set)
        y = cur.yellow_s if leaving else 0.0
        ar = cur.all_red_s if leaving else 0.0
        if y > 0:
            self._show(t_end, leaving, Display.YELLOW)
        self._show(t_end + y, leaving, Display.RED)
        self._show(t_end + y + ar, entering, Display.GREEN)
        self.phases, self.idx = phases, idx
        self.green_start = t_end + y + ar

    def _next(self, cur: PhaseTiming) -> tuple[tuple[PhaseTiming, ...], int]:
        n = len(self.phases)
        if self.mode == CabinetMode.STAGE:
            if self._pending is not None:  # fallback or a cycle plan: leave stage mode now
                return self._switch(cur)
            # Stage commands index the stored phase table, whatever plan ran before.
            table = self.cfg.stored
            here = self.cfg.table_index(cur.groups)
            if self._target is not None and self._target != here:
                return table, self._target
            return table, ((here if here is not None else -1) + 1) % len(table)
        if self._pending is not None and (self.idx == n - 1 or self._quiet_at is not None):
            return self._switch(cur)
        return self.phases, (self.idx + 1) % n

    def _switch(self, cur: PhaseTiming) -> tuple[tuple[PhaseTiming, ...], int]:
        if self._pending is None:
            raise RuntimeError("no plan to switch to")
        mode, plan = self._pending
        self._pending = None
        self._quiet_at = None
        if mode != self.mode:
            self.history.append(ModeChange(self._switch_t, mode, self.last_command_s))
        self.mode, self.plan = mode, plan
        self.stats.plan_switches += 1
        if mode == CabinetMode.FALLBACK:
            self.stats.fallbacks += 1
            self._target = None
        idx = 1 if len(plan.phases) > 1 and plan.phases[0].groups == cur.groups else 0
        return plan.phases, idx

    def _show(self, t: float, groups: Iterable[str], state: Display) -> None:
        for g in sorted(groups):
            if self.display[g] != state:
                self.display[g] = state
                self._buffer.append(DisplayChange(t, g, state))
