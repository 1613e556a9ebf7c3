"""The world: one run of one scenario with one seed.

``World`` owns the simpy environment, the run's random generators and every piece of run
state; nothing lives at module level, so two worlds never share anything. Time advances only
through :meth:`World.step_to`; the only way to change the world from outside is
:meth:`World.apply_plan`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import simpy

from trafficsim.sim.approaches import build_approach, conflict_streams, wire_feeders
from trafficsim.sim.config import MovementSpec, NodeKind, Scenario, SignalPlan
from trafficsim.sim.dawdling import cruise_speed_mps
from trafficsim.sim.departures import build_departures
from trafficsim.sim.network import LinkState
from trafficsim.sim.queues import LaneGroup, WindowSink
from trafficsim.sim.rerouting import Rerouting
from trafficsim.sim.signals import ExternalHead, SignalChange, SignalHead
from trafficsim.sim.streams import Stream, seed_sequence
from trafficsim.sim.trips import Router, RouteStep
from trafficsim.sim.units import S_PER_H


class LaneGroupKind(StrEnum):
    """Where a lane group's queue stands."""

    ENTRY = "entry"
    """Vehicles waiting to enter a link at its upstream end: at a boundary node, or where a
    trip starts on a link between two intersections."""
    APPROACH = "approach"
    """At a signal's stop line: discharges on its group's green."""
    UNCONTROLLED = "uncontrolled"
    """At the stop line of a node without signals: discharges when there is room."""
    EXIT = "exit"
    """The last link, towards a boundary node: vehicles leave the network. Also the end of
    a trip on a link between two intersections (id ``{link}:end``): routed vehicles leave
    there without queueing at the stop line."""

    @property
    def at_stop_line(self) -> bool:
        return self in (LaneGroupKind.APPROACH, LaneGroupKind.UNCONTROLLED)


ON_LINKS: tuple[str, ...] = tuple(k.value for k in LaneGroupKind if k is not LaneGroupKind.ENTRY)
"""The kinds of lane group that stand on a link of the network (not waiting to enter)."""


@dataclass(frozen=True, slots=True)
class LaneGroupInfo:
    """Static description of a lane group, for metrics and reports."""

    index: int
    id: str
    link: str
    node: str
    group: str | None
    kind: LaneGroupKind
    lanes: int
    sat_flow_pcu_per_h: float
    length_m: float
    groups: tuple[str, ...] = ()
    """Every signal group whose movements use it (several for a shared lane; ``group`` is
    the one with the largest share)."""
    lane_indices: tuple[int, ...] = ()
    """Its lanes on the link (0 rightmost) when the scenario names them; () otherwise."""
    to_links: tuple[str, ...] = ()
    """Where its movements go, when the scenario names lanes; () otherwise."""


class World:
    """A running simulation. Build it, advance it with :meth:`step_to`, then read results."""

    def __init__(self, scenario: Scenario, seed: int, *, external_signals: bool = False) -> None:
        """``external_signals``: every signal head shows what :meth:`drive_signal` tells it
        (a field cabinet decides) instead of running its stored plan."""
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        demand_ss = seed_sequence(seed, Stream.DEMAND)
        od_ss = seed_sequence(seed, Stream.OD)
        turn_ss = seed_sequence(seed, Stream.TURNS)
        self._turn_rng = np.random.Generator(np.random.PCG64(turn_ss))
        self._ubuf: list[float] = []
        self._ui = 0
        self._pending: dict[WindowSink, None] = {}
        self.events_processed = 0
        """Simulation events handled so far (arrivals and signal cycle starts)."""
        self._records: list[tuple[int, int, float, float, float]] = []
        self.rec_append = self._records.append

        self.class_index = {c.name: i for i, c in enumerate(scenario.classes)}
        self.lane_groups: list[LaneGroup] = []
        self.lane_group_info: list[LaneGroupInfo] = []
        self.links: dict[str, LinkState] = {}
        self._build_network()
        self._build_demand(demand_ss, od_ss)
        if self._streams:
            wire_feeders(self, self._entry_link_of)
        for inc in scenario.incidents:
            for lg, info in zip(self.lane_groups, self.lane_group_info, strict=True):
                if info.link == inc.link and info.kind.at_stop_line:
                    lg.incidents.append((inc.start_s, inc.end_s, inc.capacity_factor))
        self.external_signals = external_signals
        self.heads: dict[str, SignalHead | ExternalHead] = {}
        self._build_signals()
        self.env.process(self._arrivals())

    # -- construction ---------------------------------------------------------------------
    def _new_lane_group(
        self,
        link: LinkState | None,
        link_id: str,
        node: str,
        group: str | None,
        kind: LaneGroupKind,
        lanes: int,
        sat_pcu_per_h_per_lane: float,
        length_m: float,
        *,
        always_green: bool,
        cls: type[LaneGroup] = LaneGroup,
        lg_id: str | None = None,
        groups: tuple[str, ...] | None = None,
        lane_indices: tuple[int, ...] = (),
        to_links: tuple[str, ...] = (),
    ) -> LaneGroup:
        idx = len(self.lane_groups)
        sat = sat_pcu_per_h_per_lane * lanes
        lg = cls(
            self,
            idx,
            link,
            node,
            group,
            S_PER_H / sat,
            always_green=always_green,
            is_source=kind is LaneGroupKind.ENTRY,
        )
        gid = (
            f"{link_id}"
            if group is None or kind is not LaneGroupKind.APPROACH
            else f"{link_id}:{group}"
        )
        if kind is LaneGroupKind.ENTRY:
            gid = f"{link_id}:entry"
        if groups is None:
            groups = (group,) if group is not None else ()
        self.lane_groups.append(lg)
        self.lane_group_info.append(
            LaneGroupInfo(
                idx,
                lg_id or gid,
                link_id,
                node,
                group,
                kind,
                lanes,
                sat,
                length_m,
                groups,
                lane_indices,
                to_links,
            )
        )
        return lg

    def _build_network(self) -> None:
        sc = self.scenario
        nodes = {n.id: n for n in sc.nodes}
        for i, spec in enumerate(sc.links):
            tt = [
                spec.length_m
                / cruise_speed_mps(min(spec.free_speed_mps, c.max_speed_mps), c.dawdle_mps)
                for c in sc.classes
            ]
            storage = spec.length_m * spec.lanes / sc.jam_spacing_m_per_pcu
            self.links[spec.id] = LinkState(self, i, spec.id, spec.length_m, storage, tt)
        by_link: dict[str, list[MovementSpec]] = {}
        for m in sc.movements:
            by_link.setdefault(m.from_link, []).append(m)
        self._signal_lgs: dict[str, dict[str, list[WindowSink]]] = {}
        self._streams = conflict_streams(sc.movements)
        for spec in sc.links:
            state = self.links[spec.id]
            node = nodes[spec.to_node]
            if node.kind is NodeKind.BOUNDARY:
                lg = self._new_lane_group(
                    state,
                    spec.id,
                    node.id,
                    None,
                    LaneGroupKind.EXIT,
                    spec.lanes,
                    spec.sat_flow_pcu_per_h_per_lane,
                    spec.length_m,
                    always_green=True,
                )
                state.sink_index = lg.index
                continue
            signal = node.kind is NodeKind.SIGNAL
            kind = LaneGroupKind.APPROACH if signal else LaneGroupKind.UNCONTROLLED
            build_approach(self, state, spec, node, by_link.get(spec.id, []), self._streams, kind)

    def entry_queue(self, link_id: str) -> LaneGroup:
        """The queue of vehicles waiting to enter ``link_id`` at its upstream end (one per
        link, shared by its entry flows and the trips that start on it)."""
        lg = self._sources.get(link_id)
        if lg is None:
            spec = self.scenario.links[self.links[link_id].index]
            lg = self._new_lane_group(
                None,
                spec.id,
                spec.from_node,
                None,
                LaneGroupKind.ENTRY,
                spec.lanes,
                spec.sat_flow_pcu_per_h_per_lane,
                0.0,
                always_green=True,
            )
            self._sources[link_id] = lg
        return lg

    def _build_demand(
        self, demand_ss: np.random.SeedSequence, od_ss: np.random.SeedSequence
    ) -> None:
        self._sources: dict[str, LaneGroup] = {}
        self.route_steps: list[RouteStep] = []
        """Steps of every route in use (``sim.trips``); routed vehicles index into it."""
        dep = build_departures(self, demand_ss, od_ss)
        self.router: Router | None = dep.router
        self.veh_t_gen: np.ndarray = dep.t_gen
        self.veh_class_arr: np.ndarray = dep.cls
        self.veh_class: list[int] = dep.cls.tolist()
        pcu_by_class = [c.pcu for c in self.scenario.classes]
        self.veh_pcu: list[float] = [pcu_by_class[c] for c in self.veh_class]
        self.veh_source: list[int] = dep.source
        self.veh_step: list[int] = dep.step
        """Routed vehicles: index in :attr:`route_steps` of the step at the end of the link
        the vehicle is on (or enters next); -1 for turn-share vehicles."""
        self.veh_trip: list[str] = dep.trip
        """The trip id of each vehicle ("" for turn-share vehicles)."""
        n = len(self.veh_t_gen)
        self.veh_t_in: list[float] = [np.inf] * n
        self.veh_t_out: list[float] = [np.inf] * n
        self._entry_link_of = {lg.index: self.links[name] for name, lg in self._sources.items()}
        self._reroute = Rerouting(self, dep.trips, dep.order, dep.n_turn)

    def _build_signals(self) -> None:
        sc = self.scenario
        for s in sc.signals:
            lgs = self._signal_lgs.get(s.node, {})
            if self.external_signals:
                self.heads[s.node] = ExternalHead(self, s.node, s.plan, sc.timing, lgs)
                continue
            head = SignalHead(self, s.node, s.plan, sc.timing, lgs)
            self.heads[s.node] = head
            self.env.process(head.process(self.env))

    # -- event machinery ------------------------------------------------------------------
    def _arrivals(self) -> Generator[simpy.Event, None, None]:
        env = self.env
        t_gen = self.veh_t_gen.tolist()
        lgs = self.lane_groups
        entry = self._entry_link_of
        src = self.veh_source
        reroute = self._reroute
        for vid, t in enumerate(t_gen):
            while t >= reroute.next_s:  # time-dependent routing only (else next_s is inf)
                if reroute.next_s > env.now:
                    yield env.timeout(reroute.next_s - env.now)
                reroute.route_period(env.now)
            if t > env.now:
                yield env.timeout(t - env.now)
            self.events_processed += 1
            lg = lgs[src[vid]]
            lg.queue.append((t, vid, t, entry[lg.index]))
            self._pending[lg] = None
            self.drain()

    def kick(self, lg: WindowSink) -> None:
        """Ask ``lg`` to (re)schedule its queue before the current event ends."""
        self._pending[lg] = None

    def drain(self) -> None:
        pending = self._pending
        now = self.env.now
        while pending:
            lg, _ = pending.popitem()
            lg.serve(now)

    def uniform(self) -> float:
        """One U(0,1) draw for a turn choice, from a buffered block of the run's stream."""
        if self._ui >= len(self._ubuf):
            self._ubuf = self._turn_rng.random(4096).tolist()
            self._ui = 0
        u = self._ubuf[self._ui]
        self._ui += 1
        return u

    # -- public API -----------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        return float(self.env.now)

    def step_to(self, t_s: float) -> None:
        """Advance to ``t_s``; events scheduled exactly at ``t_s`` belong to the next step."""
        if t_s < self.env.now:
            raise ValueError(f"cannot step back in time: now {self.env.now} s, asked {t_s} s")
        if t_s > self.env.now:
            self.env.run(until=t_s)

    def run(self) -> None:
        """Run to the end of the scenario."""
        self.step_to(self.scenario.duration_s)

    def apply_plan(self, node: str, plan: SignalPlan) -> None:
        """Hand a signal plan to a node's head; it runs from the next cycle start."""
        head = self._head(node)
        if isinstance(head, ExternalHead):
            raise TypeError(f"node {node!r} is driven by its cabinet: use drive_signal")
        head.set_plan(plan)

    def drive_signal(self, node: str, changes: list[SignalChange], until_s: float) -> None:
        """Show a cabinet's display changes for the step ``[now, until_s)`` (external
        signals only); greens that go on past ``until_s`` are committed up to it."""
        head = self._head(node)
        if not isinstance(head, ExternalHead):
            raise TypeError(
                f"node {node!r} runs its stored plan: build the world with "
                "external_signals=True to drive it"
            )
        head.drive(changes, until_s)

    def _head(self, node: str) -> SignalHead | ExternalHead:
        head = self.heads.get(node)
        if head is None:
            raise KeyError(f"node {node!r} has no signal head; signalized: {sorted(self.heads)}")
        return head

    def records(self) -> np.ndarray:
        """Every scheduled pass through a lane group, plus vehicles still queued.

        Structured array with fields ``vid``, ``lane_group``, ``t_in_s`` (entered the link),
        ``t_stop_s`` (reached the stop line) and ``t_dep_s`` (left it; inf if not scheduled).
        Departures may lie after :attr:`now_s` when they were scheduled ahead.
        """
        rows = list(self._records)
        for lg in self.lane_groups:
            for t_stop, vid, t_in, _ in lg.queue:
                rows.append((vid, lg.index, t_in, t_stop, np.inf))
        dtype = [
            ("vid", np.int64),
            ("lane_group", np.int64),
            ("t_in_s", np.float64),
            ("t_stop_s", np.float64),
            ("t_dep_s", np.float64),
        ]
        return np.array(rows, dtype=dtype)
