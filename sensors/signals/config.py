"""What a cabinet knows of its intersection: signal groups, phase table, conflicts, limits.

A phase is the wire's :class:`~trafficsim.sensors.mqtt.messages.PhaseTiming`: the cabinet
runs exactly what a command carries, once checked."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from trafficsim.sensors.mqtt.messages import PhaseTiming


@dataclass(frozen=True, slots=True)
class CabinetLimits:
    """Safety limits a cabinet enforces on every command.

    Sources: minimum green 5 s is the lowest value the FHWA Signal Timing Manual (2nd ed.,
    NCHRP Report 812, 2015, table 5-3) lists for a through phase with no pedestrians; a 180 s
    maximum cycle is the manual's practical upper bound for very congested intersections;
    a 120 s fallback is an assumption (two typical cycles without word from the centre).
    Yellow and all-red minimums are the intersection's own (its stored plan), never lower.
    """

    min_green_s: float = 5.0
    max_green_s: float = 120.0
    max_cycle_s: float = 180.0
    max_phases: int = 8
    fallback_s: float = 120.0

    def __post_init__(self) -> None:
        for name in ("min_green_s", "max_green_s", "max_cycle_s", "fallback_s"):
            v = getattr(self, name)
            if not math.isfinite(v) or v <= 0:
                raise ValueError(f"CabinetLimits.{name} must be a positive number, got {v!r}")
        if self.max_green_s < self.min_green_s:
            raise ValueError("CabinetLimits.max_green_s must be at least min_green_s")


@dataclass(frozen=True, slots=True)
class IntersectionConfig:
    """A cabinet's configuration: stored plan, phase table and conflict matrix.

    Two signal groups may be green together only if some phase of the stored plan shows them
    together (a conservative conflict matrix: the engineer who made the stored plan vouched
    for exactly those pairs). The phase table a stage command indexes is the stored plan's.
    """

    node: str
    groups: tuple[str, ...]
    stored: tuple[PhaseTiming, ...]
    stored_offset_s: float = 0.0
    limits: CabinetLimits = field(default_factory=CabinetLimits)
    compatible: frozenset[frozenset[str]] = frozenset()
    min_yellow_s: float = 0.0
    min_all_red_s: float = 0.0

    @classmethod
    def from_stored(
        cls,
        node: str,
        phases: tuple[PhaseTiming, ...],
        offset_s: float = 0.0,
        limits: CabinetLimits | None = None,
    ) -> IntersectionConfig:
        if not phases:
            raise ValueError(f"intersection {node!r}: the stored plan has no phases")
        groups = tuple(dict.fromkeys(g for p in phases for g in sorted(p.groups)))
        pairs = frozenset(
            frozenset(pair) for p in phases for pair in itertools.combinations(sorted(p.groups), 2)
        )
        return cls(
            node=node,
            groups=groups,
            stored=phases,
            stored_offset_s=offset_s,
            limits=limits or CabinetLimits(),
            compatible=pairs,
            min_yellow_s=min(p.yellow_s for p in phases),
            min_all_red_s=min(p.all_red_s for p in phases),
        )

    def conflicts(self, a: str, b: str) -> bool:
        return a != b and frozenset((a, b)) not in self.compatible

    def table_index(self, groups: Iterable[str]) -> int | None:
        """Index of the stored phase showing exactly ``groups``, if any."""
        wanted = frozenset(groups)
        for k, p in enumerate(self.stored):
            if p.group_set == wanted:
                return k
        return None
