"""Links at run time: travel to the stop line, storage, and spillback.

A link counts the PCU committed to enter it (``entered_pcu``) and to leave it. Entries are
committed when an upstream lane group schedules a departure, which can be a little ahead of
simulated time (a signal head schedules a whole green at once). To never overfill a link, a
vehicle may enter at ``t`` only if *all* committed entries, minus the exits committed at or
before ``t``, leave room for it. Exits not yet scheduled only add room later, so the rule is
safe; a vehicle it holds back registers as a waiter and is retried when an exit is committed.
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING

from trafficsim.sim.lane_estimates import pick_lane_group

if TYPE_CHECKING:
    from trafficsim.sim.queues import LaneGroup
    from trafficsim.sim.world import World

_EPS = 1e-9


class LinkState:
    """Run-time state of one directed link."""

    __slots__ = (
        "choices",
        "entered_pcu",
        "exited_base_pcu",
        "feeders",
        "future_exits",
        "id",
        "index",
        "lane_options",
        "length_m",
        "movement_lgs",
        "sink_index",
        "storage_pcu",
        "tt_by_class",
        "tt_min_s",
        "waiters",
        "world",
    )

    def __init__(
        self,
        world: World,
        index: int,
        link_id: str,
        length_m: float,
        storage_pcu: float,
        tt_by_class: list[float],
    ) -> None:
        self.world = world
        self.index = index
        self.id = link_id
        self.length_m = length_m
        self.storage_pcu = storage_pcu
        self.tt_by_class = tt_by_class
        self.tt_min_s = min(tt_by_class, default=0.0)
        self.entered_pcu = 0.0
        self.exited_base_pcu = 0.0
        # (time_s, pcu) of exits committed for times after the last prune, sorted by time.
        self.future_exits: list[tuple[float, float]] = []
        # Lane groups held back by this link being full (an ordered set).
        self.waiters: dict[LaneGroup, None] = {}
        # Movement choice: list of (cumulative share, lane group, next link or None).
        self.choices: list[tuple[float, LaneGroup, LinkState | None]] = []
        # The lane group(s) of each movement (next link -> lane groups, rightmost first),
        # and the movements that may use several (their vehicles pick one on entry).
        self.movement_lgs: dict[LinkState, tuple[LaneGroup, ...]] = {}
        self.lane_options: dict[LinkState, tuple[LaneGroup, ...]] = {}
        # Lane groups whose departures enter this link (for gap acceptance's horizons).
        self.feeders: list[LaneGroup] = []
        # Index of the lane group that records vehicles leaving the network, or -1.
        self.sink_index = -1

    # -- storage -------------------------------------------------------------------------
    def has_room(self, pcu: float) -> bool:
        """Cheap check: room even if no committed exit had happened yet."""
        return self.entered_pcu - self.exited_base_pcu + pcu <= self.storage_pcu + _EPS

    def earliest_entry(self, t_s: float, pcu: float, now_s: float) -> float | None:
        """Earliest time >= ``t_s`` at which ``pcu`` more fits, or None if not yet known."""
        self._prune(now_s)
        occ = self.entered_pcu - self.exited_base_pcu + pcu
        if occ <= self.storage_pcu + _EPS:
            return t_s
        for time_s, p in self.future_exits:
            occ -= p
            if occ <= self.storage_pcu + _EPS:
                return time_s if time_s > t_s else t_s
        return None

    def commit_exit(self, t_s: float, pcu: float, now_s: float) -> None:
        if t_s <= now_s:
            self.exited_base_pcu += pcu
        else:
            fx = self.future_exits
            if not fx or t_s >= fx[-1][0]:
                fx.append((t_s, pcu))
            else:
                insort(fx, (t_s, pcu))
            if fx[0][0] <= now_s:
                self._prune(now_s)
        if self.waiters:
            world = self.world
            for lg in self.waiters:
                world.kick(lg)
            self.waiters.clear()

    def _prune(self, now_s: float) -> None:
        fx = self.future_exits
        k = 0
        n = len(fx)
        base = self.exited_base_pcu
        while k < n and fx[k][0] <= now_s:
            base += fx[k][1]
            k += 1
        if k:
            self.exited_base_pcu = base
            del fx[:k]

    # -- arrivals --------------------------------------------------------------------------
    def lane_group_for(self, nxt: LinkState, t_stop_s: float) -> LaneGroup:
        """The queue a vehicle of movement (this link, ``nxt``) reaching the stop line at
        ``t_stop_s`` joins: its movement's lane group, or the one of them it expects to
        leave first (``sim.lanes.pick_lane_group``)."""
        opts = self.movement_lgs[nxt]
        if len(opts) == 1:
            return opts[0]
        return pick_lane_group(opts, t_stop_s, self.world.veh_pcu)

    def enter(self, vid: int, t_s: float) -> None:
        """A vehicle enters at ``t_s`` (now or committed ahead): send it to its queue (the
        movement its route names, or one drawn by the turn shares), or, on the last link of
        its trip, out of the network at the link's end."""
        world = self.world
        pcu = world.veh_pcu[vid]
        self.entered_pcu += pcu
        t_stop = t_s + self.tt_by_class[world.veh_class[vid]]
        if self.sink_index >= 0:
            # Exit link: the vehicle drives out at free speed and leaves the network.
            world.rec_append((vid, self.sink_index, t_s, t_stop, t_stop))
            world.veh_t_out[vid] = t_stop
            self.commit_exit(t_stop, pcu, world.env.now)
            return
        k = world.veh_step[vid]
        if k >= 0:
            # A routed vehicle: the movement of its route, one step on.
            lg, nxt = world.route_steps[k]
            world.veh_step[vid] = k + 1
            if nxt is None:
                # Its trip ends at this link's downstream end: no stop line to queue at.
                world.rec_append((vid, lg.index, t_s, t_stop, t_stop))
                world.veh_t_out[vid] = t_stop
                self.commit_exit(t_stop, pcu, world.env.now)
                return
        else:
            choices = self.choices
            if len(choices) == 1:
                _, lg, nxt = choices[0]
            else:
                u = world.uniform()
                for choice in choices:
                    if u < choice[0]:
                        break
                _, lg, nxt = choice
        if self.lane_options and nxt is not None:
            opts = self.lane_options.get(nxt)
            if opts is not None:
                lg = pick_lane_group(opts, t_stop, world.veh_pcu)
        q = lg.queue
        if q and q[-1][0] > t_stop:
            # A faster class overtook on the link: keep the queue ordered by arrival.
            items = list(q)
            insort(items, (t_stop, vid, t_s, nxt), key=lambda it: it[0])
            q.clear()
            q.extend(items)
        else:
            q.append((t_stop, vid, t_s, nxt))
        world.kick(lg)
