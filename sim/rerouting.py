"""Routing of trips given by their ends: once at free flow, or period by period.

``routing = "free-flow"`` (the default): every trip given by ``from`` + ``to`` (and every OD
trip) takes the route of least free-flow time for its class, fixed before the run starts.

``routing = "time-dependent"``: the run is cut into periods of ``reroute_period_s``. Trips
departing in the first period are routed at free flow; at the start of each later period,
the trips departing in it are routed on the free-flow link times plus, for each movement,
the mean wait measured at its stop line during the period before (the vehicles that left
it, and those still waiting, with their wait so far). This is a one-shot, en-route-free
assignment in the manner of SUMO's ``--device.rerouting`` with a period but without
rerouting vehicles already on their way: a vehicle keeps the route it departed with.
Routes depend only on the run's state, so the same seed still gives the same result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from trafficsim.sim.config import Routing

if TYPE_CHECKING:
    from trafficsim.sim.trips import DrawnTrips
    from trafficsim.sim.world import World

_INF = float("inf")


class Rerouting:
    """Assigns the routes of by-ends trips; :attr:`next_s` is the next period start."""

    def __init__(
        self, world: World, trips: DrawnTrips | None, order: np.ndarray, n_turn: int
    ) -> None:
        self.world = world
        self.next_s = _INF
        self._k = 0
        self._todo: list[tuple[int, int, int, int]] = []  # (vid, class, first, last)
        self._i = 0
        if trips is None:
            return
        inv = np.empty(len(order), dtype=np.int64)
        inv[order] = np.arange(len(order))
        by_ends = np.flatnonzero(trips.route < 0)
        vids = inv[by_ends + n_turn]
        sort = np.argsort(vids, kind="stable")
        self._todo = list(
            zip(
                vids[sort].tolist(),
                trips.cls[by_ends][sort].tolist(),
                trips.first[by_ends][sort].tolist(),
                trips.last[by_ends][sort].tolist(),
                strict=True,
            )
        )
        sc = world.scenario
        if sc.routing is Routing.FREE_FLOW:
            self._assign(_INF, None)
            return
        self.period_s = sc.reroute_period_s
        self._assign(self.period_s, None)
        self.next_s = self.period_s if self._i < len(self._todo) else _INF

    def _assign(self, until_s: float, waits: list[float] | None) -> None:
        """Route the trips departing before ``until_s`` (and not yet routed)."""
        world = self.world
        router = world.router
        if router is None:
            raise RuntimeError("routing trips in a world without trips")
        t_gen = world.veh_t_gen
        steps = world.veh_step
        todo = self._todo
        i = self._i
        while i < len(todo) and t_gen[todo[i][0]] < until_s:
            vid, cls, a, b = todo[i]
            steps[vid] = router.offset(router.shortest(cls, a, b, waits))
            i += 1
        self._i = i
        router.forget()

    def route_period(self, now_s: float) -> None:
        """At a period start: route the trips departing in this period on the waits
        measured in the one before."""
        router = self.world.router
        if router is None:
            raise RuntimeError("routing trips in a world without trips")
        waits = router.measured_waits_s(now_s)
        self._k += 1
        self._assign((self._k + 1) * self.period_s, waits)
        self.next_s = (self._k + 1) * self.period_s if self._i < len(self._todo) else _INF
