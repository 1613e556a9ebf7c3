"""How the vehicles of one movement may leave a lane group that is shared or gives way:
the green windows of its signal group there (:class:`WindowTrack`) and its
:class:`MovementRule`. The queue that applies them is ``sim.lanes.MixedLaneGroup``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from trafficsim.sim.queues import GreenWindows

if TYPE_CHECKING:
    from trafficsim.sim.gaps import ConflictStream
    from trafficsim.sim.lanes import MixedLaneGroup

_INF = math.inf

SNEAKERS_PER_GREEN = 2
"""Permitted left turners that clear at the end of each green after waiting in the
intersection for a gap that never came: HCM 6th ed. (2016), Ch. 31, permitted left-turn
capacity, n_s = 2 sneakers per cycle."""


class WindowTrack(GreenWindows):
    """The effective green windows of one signal group at one :class:`MixedLaneGroup`."""

    __slots__ = ("owner",)

    def __init__(self, owner: MixedLaneGroup, *, always_green: bool) -> None:
        super().__init__(always_green=always_green)
        self.owner = owner

    def serve(self, now_s: float) -> None:
        self.owner.serve(now_s)

    def locate(self, t_s: float) -> int:
        """Index of the first window that ends after ``t_s``, or -1 beyond the known ones."""
        wins = self.windows
        n = len(wins)
        wi = self.wi
        while wi < n and t_s >= wins[wi][1]:
            wi += 1
        self.wi = wi
        return wi if wi < n else -1

    def carry(self, wi: int, end_s: float) -> None:
        """A departure in window ``wi`` keeps the line busy until ``end_s``: push the
        start of the following windows past it (exact saturation flow, as in LaneGroup)."""
        wins = self.windows
        over = end_s - wins[wi][1]
        j = wi + 1
        while over > 0.0 and j < len(wins):
            s2, e2 = wins[j]
            if s2 + over < e2:
                wins[j] = (s2 + over, e2)
                over = 0.0
            else:
                over -= e2 - s2
                wins[j] = (e2, e2)
                j += 1
        if over > 0.0:
            self.carry_s = over


class MovementRule:
    """How vehicles of one movement leave a :class:`MixedLaneGroup`."""

    __slots__ = (
        "critical_gap_s",
        "follow_up_per_pcu_s",
        "on_red",
        "publish",
        "sneak_count",
        "sneak_end_s",
        "sneakers",
        "streams",
        "track",
    )

    def __init__(
        self,
        track: WindowTrack | None,
        streams: tuple[ConflictStream, ...],
        critical_gap_s: float,
        follow_up_per_pcu_s: float,
        *,
        on_red: bool,
        publish: ConflictStream | None,
    ) -> None:
        self.track = track  # None: no signal, always allowed
        self.streams = streams  # yields to these
        self.critical_gap_s = critical_gap_s
        self.follow_up_per_pcu_s = follow_up_per_pcu_s
        self.on_red = on_red  # may go on red after yielding
        self.publish = publish  # its departures, for those who yield to it
        # Permitted on green against opposing traffic: up to this many vehicles that reached
        # the line during a green but found no gap clear at its end (sneakers).
        self.sneakers = SNEAKERS_PER_GREEN if track is not None and streams and not on_red else 0
        self.sneak_end_s = -_INF  # end of the green whose sneakers are being counted
        self.sneak_count = 0
