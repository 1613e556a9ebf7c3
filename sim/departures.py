"""Every vehicle of a run, drawn and ordered before the run starts.

Entry flows (``[[demand]]``, turn-share vehicles) draw from their ``Stream.DEMAND``
children exactly as they always have, so a scenario without trips gets the same vehicles
as before trips existed; the routed vehicles (trips, then OD draws from ``Stream.OD``) are
appended, and all are sorted by departure time (stable, so equal times keep this order).
The world keeps the result as flat per-vehicle lists indexed by vehicle id, which is what
the event loop reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trafficsim.sim.demand import arrival_times, draw_classes
from trafficsim.sim.routes import MovementGraph
from trafficsim.sim.trips import DrawnTrips, Router, draw_trips

if TYPE_CHECKING:
    from trafficsim.sim.world import World


@dataclass(frozen=True, slots=True)
class Departures:
    """Per-vehicle values in vehicle-id order (by scheduled departure)."""

    t_gen: np.ndarray
    """Scheduled departure (s)."""
    cls: np.ndarray
    source: list[int]
    """Lane group index of the queue where the vehicle waits to enter its first link."""
    step: list[int]
    """Routed vehicles: index in ``World.route_steps`` of their first step, -1 for
    turn-share vehicles and for trips routed later (time-dependent routing)."""
    trip: list[str]
    """Trip id ("" for turn-share vehicles)."""
    trips: DrawnTrips | None
    order: np.ndarray
    """Vehicle id -> position in draw order (turn-share streams first, then trips)."""
    n_turn: int
    """How many vehicles are turn-share vehicles (the first ones in draw order)."""
    router: Router | None


def build_departures(
    world: World, demand_ss: np.random.SeedSequence, od_ss: np.random.SeedSequence
) -> Departures:
    sc = world.scenario
    mixes = {m.name: m for m in sc.mixes}
    children = demand_ss.spawn(len(sc.demands))
    times, classes, src, steps = [], [], [], []
    for d, child in zip(sc.demands, children, strict=True):
        rng = np.random.Generator(np.random.PCG64(child))
        t = arrival_times(d, sc.duration_s, rng)
        c = draw_classes(len(t), mixes[d.mix], world.class_index, rng)
        lg = world.entry_queue(d.entry_link)
        times.append(t)
        classes.append(c)
        src.append(np.full(len(t), lg.index, dtype=np.int64))
        steps.append(np.full(len(t), -1, dtype=np.int64))
    n_turn = sum(len(t) for t in times)
    router: Router | None = None
    trips: DrawnTrips | None = None
    if sc.trips or sc.ods:
        graph = MovementGraph(sc.links, sc.movements)
        router = Router(world, graph)
        trips = draw_trips(sc, graph, world.class_index, od_ss)
        first_src = [world.entry_queue(graph.ids[i]).index for i in trips.first.tolist()]
        offsets = [router.offset(r) for r in trips.routes]
        for link in set(trips.last.tolist()):
            router.end_lane_group(link)
        times.append(trips.t_s)
        classes.append(trips.cls)
        src.append(np.array(first_src, dtype=np.int64))
        steps.append(
            np.array([offsets[r] if r >= 0 else -1 for r in trips.route.tolist()], dtype=np.int64)
        )
    if not times:
        empty = np.empty(0, dtype=np.int64)
        return Departures(np.empty(0), empty, [], [], [], None, empty, 0, None)
    t_all = np.concatenate(times)
    order = np.argsort(t_all, kind="stable")
    names = [""] * n_turn + (trips.names if trips is not None else [])
    return Departures(
        t_gen=t_all[order],
        cls=np.concatenate(classes)[order].astype(np.int64),
        source=np.concatenate(src)[order].tolist(),
        step=np.concatenate(steps)[order].tolist(),
        trip=[names[i] for i in order.tolist()],
        trips=trips,
        order=order,
        n_turn=n_turn,
        router=router,
    )
