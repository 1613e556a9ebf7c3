"""What a cabinet knows of its intersection: signal groups, phase table, conflicts, limits.

A phase is the wire's :class:`~trafficsim.sensors.mqtt.messages.PhaseTiming`: the cabinet
runs exactly what a command carries, once checked."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from trafficsim.sensors.mqtt.messages import PhaseTiming, StageTiming
from trafficsim.sensors.mqtt.messages.timing import (
    longest_reds_s,
    stage_greens,
    stage_reds_s,
    stage_starts_s,
)


class PlanRejectedError(ValueError):
    """A command the cabinet refused; ``str()`` is the reason published on the ack topic."""


@dataclass(frozen=True, slots=True)
class CabinetLimits:
    """Safety limits a cabinet enforces on every command.

    Sources: minimum green 5 s is the lowest value the FHWA Signal Timing Manual (2nd ed.,
    NCHRP Report 812, 2015, table 5-3) lists for a through phase with no pedestrians; a 180 s
    maximum cycle is the manual's practical upper bound for very congested intersections.
    Maximum yellow 6 s and maximum all-red 6 s: the MUTCD (2009 ed., section 4D.26) guidance
    that a yellow change interval last 3 to 6 s and a red clearance interval not exceed 6 s
    (ITE's kinematic yellow formula gives 3-6 s over urban approach speeds); Vietnam's
    QCVN 41:2019/BGTVT gives no duration that we found. Yellow and all-red minimums are the
    intersection's own (its stored plan), never lower; where the stored plan itself runs a
    longer yellow, all-red or red than these maximums, its own value is the bound.

    ``max_red_s`` (120 s) is a starvation bound and a design choice (no standard gives a
    vehicle maximum red): no group of a cycle plan may wait longer than the longest green
    the cabinet gives any one group (``max_green_s``), so the centre cannot starve one
    approach by giving another everything. It does not bound stage control, whose rests
    ``max_green_s`` bounds.

    ``max_stages`` (32) bounds a plan written in stages: a phase becomes at most a green, a
    yellow and an all-red stage, so eight phases are 24 stages, and SUMO's programs add a
    stage where one group's yellow overlaps another's green (6 to 8 stages in the RESCO
    networks' Cologne and Ingolstadt programs); a design choice like ``max_phases``.

    ``fallback_s`` is the longest backup time (NTCIP 1202 ``unitBackupTime``: a cabinet
    that hears no valid command for it reverts to its stored plan); a cabinet uses less where
    its stored cycle is short, see :func:`backup_time_s`. 120 s is an assumption (two
    typical cycles).
    """

    min_green_s: float = 5.0
    max_green_s: float = 120.0
    max_cycle_s: float = 180.0
    max_phases: int = 8
    fallback_s: float = 120.0
    max_yellow_s: float = 6.0
    max_all_red_s: float = 6.0
    max_red_s: float = 120.0
    max_stages: int = 32

    def __post_init__(self) -> None:
        for name in (
            "min_green_s",
            "max_green_s",
            "max_cycle_s",
            "fallback_s",
            "max_yellow_s",
            "max_all_red_s",
            "max_red_s",
        ):
            v = getattr(self, name)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"CabinetLimits.{name} must be a positive number, got {v!r}")
        if self.max_green_s < self.min_green_s:
            raise ValueError("CabinetLimits.max_green_s must be at least min_green_s")
        if self.max_phases < 1 or self.max_stages < 1:
            raise ValueError("CabinetLimits.max_phases and max_stages must be at least 1")


def backup_time_s(
    stored_cycle_s: float, limits: CabinetLimits, longest_intergreen_s: float
) -> float:
    """How long a cabinet waits without a valid command before it falls back.

    The fallback must be done, the last commanded green ended, within one stored cycle of
    the last command: after the backup time runs out the green showing may still need its
    minimum green, or an intergreen (at most ``longest_intergreen_s``) and the next green's
    minimum, so the backup time is the stored cycle less those, and never more than
    ``limits.fallback_s``. For stored cycles shorter than twice that transition (34 s with
    the default limits) the bound cannot hold; half a cycle is the floor, so controllers
    can still keep the watchdog fed."""
    within = stored_cycle_s - limits.min_green_s - longest_intergreen_s
    return min(limits.fallback_s, max(within, 0.5 * stored_cycle_s))


@dataclass(frozen=True, slots=True)
class IntersectionConfig:
    """A cabinet's configuration: stored plan, phase table and conflict matrix.

    Two signal groups may be green together only if some phase (or stage) of the stored
    plan shows them together (a conservative conflict matrix: the engineer who made the
    stored plan vouched for exactly those pairs), unless the scenario states its conflicts:
    then every pair not stated is compatible. The phase table a stage command indexes is
    the stored plan's phases, or the distinct green sets of its stages.

    A stored plan is in phases (``stored``) or in stages (``stored_stages``, run by a
    :class:`~trafficsim.sensors.signals.group_cabinet.GroupCabinet`); for stages the
    minimum yellow is the shortest yellow of the plan and the minimum all-red the shortest
    time it leaves between a group's yellow and the next green of a group it conflicts
    with (0 in SUMO's programs), and the maximum all-red its longest run of all-red stages;
    as for phases, the stored plan is the bound.
    """

    node: str
    groups: tuple[str, ...]
    stored: tuple[PhaseTiming, ...]
    stored_offset_s: float = 0.0
    limits: CabinetLimits = field(default_factory=CabinetLimits)
    compatible: frozenset[frozenset[str]] = frozenset()
    min_yellow_s: float = 0.0
    min_all_red_s: float = 0.0
    max_yellow_s: float = math.inf
    max_all_red_s: float = math.inf
    max_red_s: float = math.inf
    backup_s: float = math.inf
    """The watchdog: no valid command for this long and the cabinet falls back."""
    stored_stages: tuple[StageTiming, ...] = ()
    group_yellow_s: tuple[tuple[str, float], ...] = ()
    """Stage plans: each group's yellow (its longest in the stored plan), which the cabinet
    shows when a change of plan ends a green that the new plan does not follow by one."""

    @classmethod
    def from_stored(
        cls,
        node: str,
        phases: tuple[PhaseTiming, ...],
        offset_s: float = 0.0,
        limits: CabinetLimits | None = None,
        conflicts: Iterable[tuple[str, str]] | None = None,
    ) -> IntersectionConfig:
        if not phases:
            raise ValueError(f"intersection {node!r}: the stored plan has no phases")
        lim = limits or CabinetLimits()
        max_yellow = max(lim.max_yellow_s, *(p.yellow_s for p in phases))
        max_all_red = max(lim.max_all_red_s, *(p.all_red_s for p in phases))
        cycle = sum(p.duration_s for p in phases)
        groups = tuple(dict.fromkeys(g for p in phases for g in sorted(p.groups)))
        shown = [p.group_set for p in phases]
        return cls(
            node=node,
            groups=groups,
            stored=phases,
            stored_offset_s=offset_s,
            limits=lim,
            compatible=_compatible(groups, shown, conflicts),
            min_yellow_s=min(p.yellow_s for p in phases),
            min_all_red_s=min(p.all_red_s for p in phases),
            max_yellow_s=max_yellow,
            max_all_red_s=max_all_red,
            max_red_s=max(lim.max_red_s, *longest_reds_s(phases).values()),
            backup_s=backup_time_s(cycle, lim, max_yellow + max_all_red),
        )

    @classmethod
    def from_stored_stages(
        cls,
        node: str,
        stages: tuple[StageTiming, ...],
        offset_s: float = 0.0,
        limits: CabinetLimits | None = None,
        conflicts: Iterable[tuple[str, str]] | None = None,
    ) -> IntersectionConfig:
        """The configuration of a cabinet whose stored plan is written in stages."""
        if not stages:
            raise ValueError(f"intersection {node!r}: the stored plan has no stages")
        lim = limits or CabinetLimits()
        greens = stage_greens(stages)
        groups = tuple(dict.fromkeys(g for st in stages for g in sorted(st.green)))
        compatible = _compatible(groups, [frozenset(st.green) for st in stages], conflicts)
        cycle = stage_starts_s(stages)[-1]
        yellows = {g: max(gr.yellow_s for gr in greens[g]) for g in groups}
        shown_yellows = [gr.yellow_s for g in groups for gr in greens[g] if gr.yellow_s > 0]
        all_reds = []  # after each yellow, the wait for the next conflicting green
        for a in groups:
            rivals = [b for b in groups if b != a and frozenset((a, b)) not in compatible]
            for gr in greens[a]:
                red_from = gr.end_s + gr.yellow_s
                waits = [(o.start_s - red_from) % cycle for b in rivals for o in greens[b]]
                if waits and gr.end_s - gr.start_s < cycle:
                    all_reds.append(min(waits))
        max_yellow = max(lim.max_yellow_s, *yellows.values())
        max_all_red = max(lim.max_all_red_s, _longest_all_red_s(stages))
        return cls(
            node=node,
            groups=groups,
            stored=(),
            stored_offset_s=offset_s,
            limits=lim,
            compatible=compatible,
            min_yellow_s=min(shown_yellows, default=0.0),
            min_all_red_s=min(all_reds, default=0.0),
            max_yellow_s=max_yellow,
            max_all_red_s=max_all_red,
            max_red_s=max(lim.max_red_s, *stage_reds_s(stages).values()),
            backup_s=backup_time_s(cycle, lim, max_yellow + max_all_red),
            stored_stages=stages,
            group_yellow_s=tuple(sorted(yellows.items())),
        )

    @property
    def stored_cycle_s(self) -> float:
        if self.stored_stages:
            return stage_starts_s(self.stored_stages)[-1]
        return sum(p.duration_s for p in self.stored)

    @property
    def phase_table(self) -> tuple[frozenset[str], ...]:
        """What stage commands index: the stored phases' groups, or the distinct non-empty
        green sets of the stored stages in order."""
        if not self.stored_stages:
            return tuple(p.group_set for p in self.stored)
        sets = (frozenset(st.green) for st in self.stored_stages if st.green)
        return tuple(dict.fromkeys(sets))

    def conflicts(self, a: str, b: str) -> bool:
        return a != b and frozenset((a, b)) not in self.compatible

    def table_index(self, groups: Iterable[str]) -> int | None:
        """Index of the phase of the table showing exactly ``groups``, if any."""
        wanted = frozenset(groups)
        for k, shown in enumerate(self.phase_table):
            if shown == wanted:
                return k
        return None


def _longest_all_red_s(stages: tuple[StageTiming, ...]) -> float:
    """The longest run of stages in which every group is red (across the cycle boundary)."""
    dark = [not st.green and not st.yellow for st in stages]
    if all(dark):
        return sum(st.duration_s for st in stages)
    longest = run = 0.0
    for st, d in zip(stages + stages, dark + dark, strict=True):
        run = run + st.duration_s if d else 0.0
        longest = max(longest, run)
    return longest


def _compatible(
    groups: tuple[str, ...],
    shown: list[frozenset[str]],
    conflicts: Iterable[tuple[str, str]] | None,
) -> frozenset[frozenset[str]]:
    """Pairs of groups that may be green together: those some phase or stage shows
    together, or, with the conflicts stated, every pair not stated."""
    if conflicts is None:
        return frozenset(
            frozenset(pair) for s in shown for pair in itertools.combinations(sorted(s), 2)
        )
    stated = {frozenset(pair) for pair in conflicts}
    pairs = (frozenset(pair) for pair in itertools.combinations(groups, 2))
    return frozenset(pair for pair in pairs if pair not in stated)
