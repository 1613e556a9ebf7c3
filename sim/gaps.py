"""Gap acceptance: who may go when a movement gives way, its default headways, its closed forms.

A movement that yields (a permitted left turn against opposing traffic, a right turn on red,
a minor stream at an unsignalized priority junction) discharges by the step-function gap
acceptance model that underlies the HCM's two-way-stop capacity (Harders 1968; HCM 6th ed.,
Ch. 20): its head vehicle goes at the earliest time ``t`` at which no conflicting vehicle
passes in ``(t, t + t_c)``, and the vehicles queued behind it follow ``t_f`` apart while
that still holds. A gap of ``g`` seconds between two conflicting vehicles therefore lets
``floor((g - t_c) / t_f) + 1`` vehicles through (none if ``g < t_c``), and with Poisson
conflicting traffic of ``q`` veh/s the long-run capacity of a queued movement is exactly
Harders' ``c = q e^(-q t_c) / (1 - e^(-q t_f))`` (:func:`potential_capacity_veh_per_h`),
which Siegloch's (1973) ``c = (3600 / t_f) e^(-q (t_c - t_f / 2))`` approximates
(:func:`siegloch_capacity_veh_per_h`). ``tests/validation/test_gap_acceptance.py`` checks the
engine against both.

The conflicting vehicles are the ones that really pass: the departures the engine schedules
at the conflicting stop lines (:class:`ConflictStream`). Both stop lines stand for the
conflict area, so the few metres between a stop line and the point where the paths cross
are not modelled. Every vehicle of the conflicting stream counts as one passage whatever its
class, and ``t_f`` scales with the follower's PCU (a motorcycle follows a car in
``0.25 t_f``): HCM's headways are for passenger cars; motorcycle swarms that accept
smaller gaps are not modelled.
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficsim.sim.config import TurnKind
from trafficsim.sim.units import S_PER_H

if TYPE_CHECKING:
    from trafficsim.sim.queues import LaneGroup


@dataclass(frozen=True, slots=True)
class GapParams:
    """Critical headway ``t_c`` and follow-up headway ``t_f`` of a yielding movement."""

    critical_gap_s: float
    follow_up_s: float
    source: str


_TWSC = "HCM 6th ed. (2016), Ch. 20, Exhibits 20-11 and 20-12 (base headways, TWSC)"
# Base critical and follow-up headways for passenger cars at two-way-stop-controlled
# intersections, by movement and major-street cross section (the same values are Exhibits
# 20-17 and 20-18 of the 7th ed., 2022). Two-lane major street: one lane per direction;
# four-lane: two per direction. Heavy-vehicle, grade and T-junction adjustments are left to
# the scenario file (give critical_gap_s / follow_up_s).
_MAJOR_LEFT = GapParams(4.1, 2.2, _TWSC + ": left turn from the major street")
_MAJOR_UTURN = GapParams(6.4, 2.5, _TWSC + ": U-turn from the major street (four-lane, wide)")
_MINOR = {
    (TurnKind.RIGHT, False): GapParams(6.2, 3.3, _TWSC + ": right turn from the minor street"),
    (TurnKind.RIGHT, True): GapParams(
        6.9, 3.3, _TWSC + ": right turn from the minor street, four-lane major"
    ),
    (TurnKind.THROUGH, False): GapParams(6.5, 4.0, _TWSC + ": through from the minor street"),
    (TurnKind.THROUGH, True): GapParams(6.5, 4.0, _TWSC + ": through from the minor street"),
    (TurnKind.LEFT, False): GapParams(7.1, 3.5, _TWSC + ": left turn from the minor street"),
    (TurnKind.LEFT, True): GapParams(
        7.5, 3.5, _TWSC + ": left turn from the minor street, four-lane major"
    ),
    (TurnKind.UTURN, False): _MAJOR_UTURN,
    (TurnKind.UTURN, True): _MAJOR_UTURN,
}

PERMITTED_AT_SIGNAL = GapParams(
    4.5,
    2.5,
    "HCM 6th ed. (2016), Ch. 31, permitted left-turn saturation flow: critical headway "
    "4.5 s, follow-up headway 2.5 s (Eq. 31-100 of the 7th ed. gives 813 veh/h/ln at an "
    "opposing 624 veh/h)",
)
"""A permitted left (or U) turn on green against the opposing flow."""


def default_gap_params(
    turn: TurnKind, *, at_signal: bool, on_red: bool, from_major: bool, four_lane_major: bool
) -> GapParams:
    """Default headways of a yielding movement, by turn kind and where it yields.

    - at a signal, on green: left and U-turns take HCM Ch. 31's permitted-left values;
      other turns, which join or cross a stream as a minor-street vehicle does, and every
      turn on red (a right turn on red stops, then joins the cross street), take the TWSC
      minor-street values of their turn;
    - at an unsignalized node: a left or U-turn from a link with a movement that yields to
      nobody is a major-street turn; every other yielding movement is a minor-street one.
    """
    if turn in (TurnKind.LEFT, TurnKind.UTURN) and (at_signal and not on_red):
        return PERMITTED_AT_SIGNAL
    if from_major and not at_signal:
        if turn is TurnKind.LEFT:
            return _MAJOR_LEFT
        if turn is TurnKind.UTURN:
            return _MAJOR_UTURN
    return _MINOR[(turn, four_lane_major)]


def potential_capacity_veh_per_h(
    conflicting_veh_per_h: float, critical_gap_s: float, follow_up_s: float
) -> float:
    """Capacity of a queued yielding movement against Poisson conflicting traffic (Harders
    1968; HCM 6th ed., Ch. 20, potential capacity): ``q e^(-q t_c) / (1 - e^(-q t_f))``."""
    q = conflicting_veh_per_h / S_PER_H
    if q <= 0.0:
        return S_PER_H / follow_up_s
    return q * math.exp(-q * critical_gap_s) / (1.0 - math.exp(-q * follow_up_s)) * S_PER_H


def siegloch_capacity_veh_per_h(
    conflicting_veh_per_h: float, critical_gap_s: float, follow_up_s: float
) -> float:
    """Siegloch (1973): ``(3600 / t_f) e^(-q (t_c - t_f / 2))``, the linear gap-acceptance
    function's capacity against Poisson conflicting traffic."""
    q = conflicting_veh_per_h / S_PER_H
    return S_PER_H / follow_up_s * math.exp(-q * (critical_gap_s - follow_up_s / 2.0))


def turn_from_geometry(
    a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]
) -> TurnKind | None:
    """The turn from a link ``a -> b`` into a link ``b -> c`` (node positions, metres east
    and north), or None when a link has no length on the map (nodes without positions).

    Within 30 degrees of straight on is through, beyond 150 degrees a U-turn; otherwise
    counter-clockwise is left.
    """
    ux, uy = b[0] - a[0], b[1] - a[1]
    vx, vy = c[0] - b[0], c[1] - b[1]
    if math.hypot(ux, uy) < 1e-9 or math.hypot(vx, vy) < 1e-9:
        return None
    angle = math.degrees(math.atan2(ux * vy - uy * vx, ux * vx + uy * vy))
    if abs(angle) <= 30.0:
        return TurnKind.THROUGH
    if abs(angle) >= 150.0:
        return TurnKind.UTURN
    return TurnKind.LEFT if angle > 0 else TurnKind.RIGHT


class ConflictStream:
    """The passages of one movement that others yield to: the departures its lane groups
    schedule, in time order, and who is waiting on them.

    ``sources`` are the lane groups that carry the movement (a lower bound on their next
    departures tells a yielding vehicle how far ahead the stream is known); ``listeners``
    are the lane groups with a movement that yields to it, asked to look again whenever a
    source schedules a departure. Only passages after the current time are ever asked for,
    so older ones are dropped.
    """

    __slots__ = ("key", "listeners", "sources", "start", "times")

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key
        self.times: list[float] = []
        self.start = 0
        self.sources: list[LaneGroup] = []
        self.listeners: list[LaneGroup] = []

    def add(self, t_s: float, now_s: float) -> None:
        times = self.times
        if not times or t_s >= times[-1]:
            times.append(t_s)
        else:  # another source of the same movement scheduled a later passage first
            insort(times, t_s, lo=self.start)
        if len(times) - self.start > 4096:  # nobody has asked for a while
            self.prune(now_s)

    def next_after(self, t_s: float) -> float:
        """The first passage strictly after ``t_s`` (inf if none is known)."""
        times = self.times
        i = bisect_right(times, t_s, lo=self.start)
        return times[i] if i < len(times) else math.inf

    def prune(self, now_s: float) -> None:
        """Forget passages at or before ``now_s``."""
        times = self.times
        self.start = bisect_right(times, now_s, lo=self.start)
        if self.start > 256:
            del times[: self.start]
            self.start = 0
