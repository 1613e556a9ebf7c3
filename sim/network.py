"""Links at run time: travel to the stop line, storage, and spillback.

A link is a :class:`~trafficsim.sim.storage.Storage` (how committed entries and exits keep
it from overfilling); a vehicle the rule holds back registers as a waiter and is retried
when an exit is committed. Where the scenario names a link's lanes, each lane group's lanes
are a storage too: a queue on one lane fills that lane, not the link, and holds back the
routed vehicles bound for it (``lane_storage``).
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING

from trafficsim.sim.lane_estimates import pick_lane_group
from trafficsim.sim.storage import EPS, Storage

if TYPE_CHECKING:
    from trafficsim.sim.queues import LaneGroup
    from trafficsim.sim.world import World


class LinkState(Storage):
    """Run-time state of one directed link."""

    __slots__ = (
        "_lane_targets",
        "choices",
        "feeders",
        "id",
        "index",
        "lane_options",
        "lane_storage",
        "length_m",
        "movement_lgs",
        "sink_index",
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
        super().__init__(storage_pcu)
        self.world = world
        self.index = index
        self.id = link_id
        self.length_m = length_m
        self.tt_by_class = tt_by_class
        self.tt_min_s = min(tt_by_class, default=0.0)
        # Lane groups held back by this link being full (an ordered set).
        self.waiters: dict[LaneGroup, None] = {}
        # Movement choice: list of (cumulative share, lane group, next link or None).
        self.choices: list[tuple[float, LaneGroup, LinkState | None]] = []
        # The lane group(s) of each movement (next link -> lane groups, rightmost first),
        # and the movements that may use several (their vehicles pick one on entry).
        self.movement_lgs: dict[LinkState, tuple[LaneGroup, ...]] = {}
        self.lane_options: dict[LinkState, tuple[LaneGroup, ...]] = {}
        # The room of each lane group's own lanes, where the scenario names the lanes of a
        # link with several lane groups (``sim.approaches``); None elsewhere.
        self.lane_storage: dict[LaneGroup, Storage] | None = None
        # The lane storages a routed vehicle may join, by the next link of its route.
        self._lane_targets: dict[LinkState, tuple[Storage, ...]] = {}
        # Lane groups whose departures enter this link (for gap acceptance's horizons).
        self.feeders: list[LaneGroup] = []
        # Index of the lane group that records vehicles leaving the network, or -1.
        self.sink_index = -1

    # -- storage -------------------------------------------------------------------------
    def has_room_for(self, vid: int, pcu: float) -> bool:
        """Room on the link and, for a routed vehicle, on the lanes it is bound for."""
        if self.entered_pcu - self.exited_base_pcu + pcu > self.storage_pcu + EPS:
            return False
        if self.lane_storage is None:
            return True
        lanes = self._lanes_of(vid)
        return lanes is None or any(st.has_room(pcu) for st in lanes)

    def earliest_entry_for(self, vid: int, t_s: float, pcu: float, now_s: float) -> float | None:
        """:meth:`earliest_entry` on the link and on the lanes ``vid`` is bound for."""
        te = self.earliest_entry(t_s, pcu, now_s)
        if te is None or self.lane_storage is None:
            return te
        lanes = self._lanes_of(vid)
        if lanes is None:
            return te
        best: float | None = None
        for st in lanes:
            tl = st.earliest_entry(te, pcu, now_s)
            if tl is not None and (best is None or tl < best):
                best = tl
        return best

    def _lanes_of(self, vid: int) -> tuple[Storage, ...] | None:
        """The lane storages a routed vehicle entering this link may join (None: not
        routed, or its trip ends on this link)."""
        world = self.world
        k = world.veh_step[vid]
        if k < 0 or self.lane_storage is None:
            return None
        lg, nxt = world.route_steps[k]
        if nxt is None:
            return None
        found = self._lane_targets.get(nxt)
        if found is None:
            opts = self.lane_options.get(nxt, (lg,))
            found = tuple(self.lane_storage[o] for o in opts if o in self.lane_storage)
            self._lane_targets[nxt] = found
        return found or None

    def commit_exit(
        self, t_s: float, pcu: float, now_s: float, lg: LaneGroup | None = None
    ) -> None:
        """``pcu`` leaves the link at ``t_s`` (from lane group ``lg``'s stop line)."""
        self.add_exit(t_s, pcu, now_s)
        if self.lane_storage is not None and lg is not None:
            st = self.lane_storage.get(lg)
            if st is not None:
                st.add_exit(t_s, pcu, now_s)
        if self.waiters:
            world = self.world
            for w in self.waiters:
                world.kick(w)
            self.waiters.clear()

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
                if self.lane_storage is not None:
                    # Only lanes with room, when there are some: a driver does not join
                    # a lane whose queue reaches back to the link's start.
                    ls, now = self.lane_storage, world.env.now
                    roomy = tuple(o for o in opts if ls[o].earliest_entry(t_s, pcu, now) == t_s)
                    opts = roomy or opts
                lg = pick_lane_group(opts, t_stop, world.veh_pcu)
        if self.lane_storage is not None:
            st = self.lane_storage.get(lg)
            if st is not None:
                st.entered_pcu += pcu
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
