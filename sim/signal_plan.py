"""Fixed-time signal plans: each signal group's green, yellow and red inside the cycle.

A plan is written in one of two forms, both frozen values:

- **phases** (:class:`Phase`): groups green together for ``green_s``, then ``yellow_s`` of
  yellow and ``all_red_s`` of all-red for all of them; the classic phase-based plan. A group
  green in two consecutive phases with an intergreen between them shows it (its green ends
  and starts again); with no intergreen between them its green runs on.
- **stages** (:class:`Stage`): SUMO's ``<tlLogic>`` form. Each stage lasts ``duration_s``
  and names the groups green and the groups yellow in it, every other group red. A group
  has its own intervals: in the Cologne programs a left turn stays green through the
  through movement's yellow. A green that runs through the last stage into the first runs
  across the cycle boundary.

Either form becomes the same thing, each group's :class:`GreenInterval` s within one cycle,
which is what the signal heads (effective green windows) and the checks use.
"""

from __future__ import annotations

from dataclasses import dataclass

_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a fixed-time plan: which groups get green, and for how long.

    ``yellow_s + all_red_s`` is the intergreen that follows the green.
    """

    groups: tuple[str, ...]
    green_s: float
    yellow_s: float
    all_red_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.green_s + self.yellow_s + self.all_red_s


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage of a per-group plan: for ``duration_s`` the groups in ``green`` show green,
    those in ``yellow`` yellow and every other group red (a phase of SUMO's tlLogic)."""

    duration_s: float
    green: tuple[str, ...] = ()
    yellow: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GreenInterval:
    """One green of a group in the cycle (s from the cycle start), then its yellow.

    ``end_s`` passes the cycle length when the green runs on into the next cycle; such an
    interval belongs to the cycle in which it starts."""

    start_s: float
    end_s: float
    yellow_s: float


@dataclass(frozen=True, slots=True)
class SignalPlan:
    """A fixed-time plan, in phases or in stages (exactly one of them); the cycle repeats
    from ``offset_s``."""

    phases: tuple[Phase, ...] = ()
    offset_s: float = 0.0
    stages: tuple[Stage, ...] = ()

    def __post_init__(self) -> None:
        if bool(self.phases) == bool(self.stages):
            raise ValueError("a SignalPlan has either phases or stages (exactly one of them)")

    @property
    def cycle_s(self) -> float:
        if self.phases:
            return sum(p.duration_s for p in self.phases)
        return sum(s.duration_s for s in self.stages)

    @property
    def groups(self) -> tuple[str, ...]:
        """Every group the plan gives a green, in order of first appearance."""
        seen: dict[str, None] = {}
        for phase in self.phases:
            for g in phase.groups:
                seen[g] = None
        for stage in self.stages:
            for g in stage.green:
                seen[g] = None
        return tuple(seen)

    def always_green(self) -> frozenset[str]:
        """Groups green in every stage: never red, so never a start-up lost time."""
        if not self.stages:
            return frozenset()
        common = set(self.stages[0].green)
        for stage in self.stages[1:]:
            common &= set(stage.green)
        return frozenset(common)

    def group_intervals(self) -> dict[str, tuple[GreenInterval, ...]]:
        """Each group's greens within one cycle, in order of their start."""
        if self.phases:
            return self._phase_intervals()
        return {g: self._stage_intervals(g) for g in self.groups}

    def _phase_intervals(self) -> dict[str, tuple[GreenInterval, ...]]:
        # A group green in consecutive phases with no intergreen between them keeps its
        # green through the boundary, so its intervals are merged; the yellow that ends
        # the merged green is that of the phase it ends in.
        out: dict[str, list[GreenInterval]] = {g: [] for g in self.groups}
        t = 0.0
        for phase in self.phases:
            for g in phase.groups:
                iv = out[g]
                if iv and abs(iv[-1].end_s - t) < _EPS:
                    iv[-1] = GreenInterval(iv[-1].start_s, t + phase.green_s, phase.yellow_s)
                else:
                    iv.append(GreenInterval(t, t + phase.green_s, phase.yellow_s))
            t += phase.duration_s
        return {g: tuple(iv) for g, iv in out.items()}

    def stage_starts_s(self) -> tuple[float, ...]:
        """Start of each stage from the cycle start, and the cycle length last."""
        t = 0.0
        out = [t]
        for s in self.stages:
            t += s.duration_s
            out.append(t)
        return tuple(out)

    def _stage_intervals(self, group: str) -> tuple[GreenInterval, ...]:
        stages = self.stages
        n = len(stages)
        b = self.stage_starts_s()
        cycle = b[-1]
        green = [group in s.green for s in stages]
        if all(green):
            return (GreenInterval(0.0, cycle, 0.0),)
        yellow = [group in s.yellow and not green[k] for k, s in enumerate(stages)]
        out = []
        for k in range(n):
            if not green[k] or green[k - 1]:
                continue  # not the first stage of a green
            j = k  # the green runs to the end of stage j (mod n), then yellow to stage y
            while green[(j + 1) % n]:
                j += 1
            y = j
            while yellow[(y + 1) % n] and (y + 1) % n != k:
                y += 1
            end = b[j + 1] if j < n else cycle + b[j + 1 - n]
            yellow_end = b[y + 1] if y < n else cycle + b[y + 1 - n]
            out.append(GreenInterval(b[k], end, yellow_end - end))
        return tuple(out)

    def green_intervals(self) -> dict[str, list[tuple[float, float]]]:
        """Displayed green of each group within one cycle, as (start, end) from cycle start."""
        return {g: [(i.start_s, i.end_s) for i in iv] for g, iv in self.group_intervals().items()}

    def effective_windows(
        self, startup_lost_s: float, end_use_s: float
    ) -> dict[str, list[tuple[float, float]]]:
        """Effective green windows of each group within one cycle (relative times, s).

        HCM 6th ed. (Ch. 19): effective green starts ``startup_lost_s`` after the green and
        ends ``end_use_s`` into the yellow (at red if the yellow is shorter). A window may
        end after the cycle (a green or yellow running into the next cycle); a group green
        in every stage has one window, the whole cycle, with no start-up loss."""
        always = self.always_green()
        out: dict[str, list[tuple[float, float]]] = {}
        for g, ivs in self.group_intervals().items():
            if g in always:
                out[g] = [(0.0, self.cycle_s)]
                continue
            wins = []
            for iv in ivs:
                s = iv.start_s + startup_lost_s
                e = iv.end_s + min(end_use_s, iv.yellow_s)
                if e > s:
                    wins.append((s, e))
            out[g] = wins
        return out

    def effective_green_s(self, group: str, startup_lost_s: float, end_use_s: float) -> float:
        """Effective green per cycle of a group (HCM: green + used yellow - start-up loss)."""
        if group in self.always_green():
            return self.cycle_s
        total = 0.0
        for iv in self.group_intervals().get(group, ()):
            total += max(
                0.0, (iv.end_s + min(end_use_s, iv.yellow_s)) - (iv.start_s + startup_lost_s)
            )
        return total

    def as_stages(self) -> tuple[Stage, ...]:
        """The plan as stages: its own, or each phase as a green, a yellow and an all-red
        stage (those of zero length left out), which show every group what the phase shows
        it. (One difference: a phase plan restarts a green at the cycle start even when the
        last phase shows the group too with no intergreen; in stages that green runs on.)"""
        if self.stages:
            return self.stages
        out = []
        for p in self.phases:
            out.append(Stage(p.green_s, green=p.groups))
            if p.yellow_s > 0:
                out.append(Stage(p.yellow_s, yellow=p.groups))
            if p.all_red_s > 0:
                out.append(Stage(p.all_red_s))
        return tuple(out)
