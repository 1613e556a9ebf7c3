"""Routed vehicles at run time: the scenario's trips and OD draws, and their routes.

A routed vehicle carries a cursor into one flat list of route steps, ``World.route_steps``:
step ``k`` is ``(lane group, next link)`` for the link the vehicle is on, so at each link's
end the vehicle takes the lane group of the movement (this link -> next link of its route)
with one list look-up, as cheap as a turn-share draw. The last step of a route is
``(trip-end lane group, None)``: the trip ends at the link's downstream end, where the
vehicle leaves without queueing at a stop line (a route ending at a boundary node leaves
through the link's exit as every vehicle does). Routes shared by many vehicles share their
steps.

OD flows are drawn up front from the run's ``Stream.OD`` generators (one child per
``[[od]]``), like entry flows, so the draws never depend on event order. Routing by ends is
done by :class:`Router`: at load for free-flow routing; period by period, on the waits
measured at each stop line, for time-dependent routing (see ``docs/scenario-format.md``).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trafficsim.sim.demand import arrival_times, draw_classes
from trafficsim.sim.routes import MovementGraph

if TYPE_CHECKING:
    from trafficsim.sim.config import Scenario
    from trafficsim.sim.network import LinkState
    from trafficsim.sim.queues import LaneGroup
    from trafficsim.sim.world import World

RouteStep = tuple["LaneGroup", "LinkState | None"]
"""(lane group at the end of the current link, next link), or (trip end, None)."""


@dataclass(frozen=True, slots=True)
class DrawnTrips:
    """The routed vehicles of a run, in scenario order (the world sorts them by time).

    ``route[i]`` indexes ``routes`` (link indices), or is -1 for a trip routed by its ends
    ``first[i]`` -> ``last[i]``.
    """

    t_s: np.ndarray
    cls: np.ndarray
    first: np.ndarray
    last: np.ndarray
    route: np.ndarray
    names: list[str]
    routes: list[tuple[int, ...]]


def draw_trips(
    scenario: Scenario,
    graph: MovementGraph,
    class_index: dict[str, int],
    od_ss: np.random.SeedSequence,
) -> DrawnTrips:
    """The explicit trips departing in the run, then every OD flow's draws."""
    duration_s = scenario.duration_s
    index = graph.index
    routes: list[tuple[int, ...]] = []
    route_of: dict[tuple[int, ...], int] = {}
    t, cls, first, last, route, names = [], [], [], [], [], []
    for trip in scenario.trips:
        if trip.depart_s >= duration_s:
            continue
        t.append(trip.depart_s)
        cls.append(class_index[trip.vehicle_class])
        first.append(index[trip.from_link])
        last.append(index[trip.to_link])
        names.append(trip.id)
        if trip.links is None:
            route.append(-1)
        else:
            key = tuple(index[x] for x in trip.links)
            k = route_of.setdefault(key, len(routes))
            if k == len(routes):
                routes.append(key)
            route.append(k)
    parts_t = [np.array(t, dtype=float)]
    parts_c = [np.array(cls, dtype=np.int64)]
    parts_a = [np.array(first, dtype=np.int64)]
    parts_b = [np.array(last, dtype=np.int64)]
    parts_r = [np.array(route, dtype=np.int64)]
    zones = {z.id: z for z in scenario.zones}
    mixes = {m.name: m for m in scenario.mixes}
    for i, (od, child) in enumerate(zip(scenario.ods, od_ss.spawn(len(scenario.ods)), strict=True)):
        rng = np.random.Generator(np.random.PCG64(child))
        times = arrival_times(od, duration_s, rng)
        n = len(times)
        c = draw_classes(n, mixes[od.mix], class_index, rng)
        a, b = zones[od.from_zone], zones[od.to_zone]
        start = np.array([index[x] for x in a.links])[rng.choice(len(a.links), n, p=a.weights)]
        end = np.array([index[x] for x in b.links])[rng.choice(len(b.links), n, p=b.weights)]
        parts_t.append(times)
        parts_c.append(c)
        parts_a.append(start)
        parts_b.append(end)
        parts_r.append(np.full(n, -1, dtype=np.int64))
        names.extend(f"od{i}.{j}" for j in range(n))
    return DrawnTrips(
        t_s=np.concatenate(parts_t),
        cls=np.concatenate(parts_c).astype(np.int64),
        first=np.concatenate(parts_a).astype(np.int64),
        last=np.concatenate(parts_b).astype(np.int64),
        route=np.concatenate(parts_r),
        names=names,
        routes=routes,
    )


class Router:
    """Turns routes into steps, and routes trips by their ends (free flow or measured)."""

    def __init__(self, world: World, graph: MovementGraph) -> None:
        self.world = world
        self.graph = graph
        sc = world.scenario
        self.states = [world.links[lid] for lid in graph.ids]
        # The lane group of each movement (arc k is movement k of the scenario).
        by_pair: dict[tuple[str, str], LaneGroup] = {}
        for state in self.states:
            for choice in state.choices:
                nxt = choice[2]
                if nxt is not None:
                    by_pair.setdefault((state.id, nxt.id), choice[1])
        self.arc_lg = [by_pair[(m.from_link, m.to_link)] for m in sc.movements]
        self.lg_of: dict[tuple[int, int], LaneGroup] = {}
        for u, arcs in enumerate(graph.arcs):
            for v, k in arcs:
                self.lg_of.setdefault((u, v), self.arc_lg[k])
        self.link_cost = [
            [state.tt_by_class[c] for state in self.states] for c in range(len(sc.classes))
        ]
        self._end_lg: dict[int, LaneGroup] = {}
        self._offset: dict[tuple[int, ...], int] = {}
        self._trees: dict[tuple[int, int], list[int]] = {}
        self._record_cursor = 0

    # -- steps ----------------------------------------------------------------------------
    def end_lane_group(self, link: int) -> LaneGroup:
        """Where a trip ending on ``link`` is recorded: the link's exit if it leads to a
        boundary node, else a trip-end lane group ``{link}:end`` made on first use."""
        lg = self._end_lg.get(link)
        if lg is not None:
            return lg
        world = self.world
        state = self.states[link]
        if state.sink_index >= 0:
            lg = world.lane_groups[state.sink_index]
        else:
            from trafficsim.sim.world import LaneGroupKind

            spec = world.scenario.links[link]
            lg = world._new_lane_group(
                state,
                spec.id,
                spec.to_node,
                None,
                LaneGroupKind.EXIT,
                spec.lanes,
                spec.sat_flow_pcu_per_h_per_lane,
                spec.length_m,
                always_green=True,
            )
            info = world.lane_group_info[lg.index]
            world.lane_group_info[lg.index] = dataclasses.replace(info, id=f"{spec.id}:end")
        self._end_lg[link] = lg
        return lg

    def offset(self, route: tuple[int, ...]) -> int:
        """Index in ``World.route_steps`` of the first step of ``route`` (added once)."""
        k = self._offset.get(route)
        if k is not None:
            return k
        steps = self.world.route_steps
        k = len(steps)
        for u, v in itertools.pairwise(route):
            steps.append((self.lg_of[(u, v)], self.states[v]))
        steps.append((self.end_lane_group(route[-1]), None))
        self._offset[route] = k
        return k

    # -- routing by ends ------------------------------------------------------------------
    def shortest(
        self, cls: int, a: int, b: int, arc_cost_s: list[float] | None = None
    ) -> tuple[int, ...]:
        """Least-cost route of a class-``cls`` vehicle from link ``a`` to ``b``; trees are
        cached until :meth:`forget` (each period of time-dependent routing)."""
        tree = self._trees.get((cls, a))
        if tree is None:
            tree = self.graph.shortest_tree(a, self.link_cost[cls], arc_cost_s)
            self._trees[(cls, a)] = tree
        route = self.graph.path(tree, a, b)
        if route is None:  # the scenario reader refuses unconnected trips
            raise AssertionError(f"no route from link {a} to {b}")
        return route

    def forget(self) -> None:
        self._trees.clear()

    def measured_waits_s(self, now_s: float) -> list[float]:
        """Mean wait at each movement's stop line since the last call: over the vehicles
        whose departure from it was scheduled in that time, and the vehicles still queued
        there now (counted with their wait so far, so a jammed stop line that lets nobody
        through does not look free). 0 where nobody passed or waits."""
        world = self.world
        n = len(world.lane_groups)
        total = [0.0] * n
        count = [0] * n
        recs = world._records
        for _vid, k, _t_in, t_stop, t_dep in recs[self._record_cursor :]:
            total[k] += t_dep - t_stop
            count[k] += 1
        self._record_cursor = len(recs)
        for group in {id(x): x for x in self.arc_lg}.values():
            for t_stop, _vid, _t_in, _nxt in group.queue:
                if t_stop < now_s:
                    total[group.index] += now_s - t_stop
                    count[group.index] += 1
        return [total[g.index] / count[g.index] if count[g.index] else 0.0 for g in self.arc_lg]


def driven_links(world: World) -> dict[int, tuple[str, ...]]:
    """The links each vehicle has entered so far, in order, by vehicle id (from the pass
    records): the route a turn-share vehicle drew, or a routed vehicle's route so far."""
    from trafficsim.sim.world import LaneGroupKind

    info = world.lane_group_info
    on_link = [i.kind is not LaneGroupKind.ENTRY for i in info]
    rows = sorted((r[0], r[2], r[3], r[1]) for r in world._records if on_link[r[1]])
    out: dict[int, list[str]] = {}
    for vid, _t_in, _t_stop, lg in rows:
        out.setdefault(vid, []).append(info[lg].link)
    return {vid: tuple(links) for vid, links in out.items()}


def completed_trips(world: World) -> list[dict[str, object]]:
    """Every vehicle that finished its trip, as a ``[[trips]]`` table (id ``v{vid}``, its
    scheduled departure, class and the links it drove): a run's turn-share demand turned
    into routed demand that drives the same way."""
    now = world.now_s
    classes = world.scenario.classes
    links = driven_links(world)
    return [
        {
            "id": f"v{vid}",
            "depart_s": float(world.veh_t_gen[vid]),
            "class": classes[world.veh_class[vid]].name,
            "links": list(links[vid]),
        }
        for vid in range(len(world.veh_t_gen))
        if world.veh_t_out[vid] <= now
    ]
