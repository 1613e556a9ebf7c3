"""Lane groups: the queue of one approach's movements and its discharge at the stop line.

Vehicles reach the stop line ``length / speed`` after entering the link (a vertical queue:
travel at free speed, then wait at the line), and leave in arrival order. The head vehicle
leaves at the earliest time that is (1) not before it arrives, (2) one saturation headway
after the vehicle before it (``pcu x 3600 / (saturation flow per lane x lanes)``), (3) inside
an effective green window of its signal group, and (4) when its next link has room.

Departures are computed in bulk as soon as the green window is known, not by one simpy event
per vehicle: the signal head publishes a cycle's windows at the cycle start and every lane
group schedules its queue into them. A headway that runs past the end of a window is carried
into the next window's start, so the long-run discharge equals the saturation flow exactly
rather than losing a fraction of a headway every cycle.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from trafficsim.sim.network import LinkState
    from trafficsim.sim.world import World

QueueItem = tuple[float, int, float, "LinkState | None"]
"""(arrival at stop line s, vehicle id, link entry time s, next link or None)."""

_INF = float("inf")


class WindowSink(Protocol):
    """What a signal head publishes effective green into: a lane group, or one signal
    group's windows at a lane group shared by several groups (``sim.lanes.WindowTrack``)."""

    def add_windows(
        self, windows: list[tuple[float, float]], known_until_s: float | None = None
    ) -> None: ...

    def serve(self, now_s: float) -> None: ...


class GreenWindows:
    """Effective green windows as a signal head publishes them, in order: a lane group's,
    or one signal group's at a lane group shared by several (``sim.lane_rules.WindowTrack``).
    """

    __slots__ = ("carry_s", "known_until_s", "wi", "windows")

    def __init__(self, *, always_green: bool) -> None:
        self.windows: list[tuple[float, float]] = [(0.0, _INF)] if always_green else []
        self.wi = 0
        self.carry_s = 0.0
        # Up to when the signal's display is known (windows published so far cover it).
        self.known_until_s = _INF if always_green else -_INF

    def add_windows(
        self, windows: list[tuple[float, float]], known_until_s: float | None = None
    ) -> None:
        """Append effective green windows (absolute times, in order); ``known_until_s``:
        the head has now decided its display up to then (green or not)."""
        if known_until_s is not None and known_until_s > self.known_until_s:
            self.known_until_s = known_until_s
        wins = self.windows
        if self.wi > 32:
            del wins[: self.wi]
            self.wi = 0
        for s, e in windows:
            if self.carry_s > 0.0:
                # A headway longer than the window (short pieces of a green published step
                # by step) uses the window up and carries on into the next one.
                s2 = s + self.carry_s
                if s2 >= e:
                    self.carry_s = s2 - e
                    continue
                s = s2
                self.carry_s = 0.0
            wins.append((s, e))


class LaneGroup(GreenWindows):
    """One queue at a stop line (or at a network entry, for vehicles waiting to enter)."""

    __slots__ = (
        "group",
        "h_per_pcu_s",
        "hold_s",
        "incidents",
        "index",
        "is_source",
        "link",
        "next_free_s",
        "node",
        "observers",
        "queue",
        "world",
    )

    def __init__(
        self,
        world: World,
        index: int,
        link: LinkState | None,
        node: str,
        group: str | None,
        h_per_pcu_s: float,
        *,
        always_green: bool,
        is_source: bool = False,
    ) -> None:
        super().__init__(always_green=always_green)
        self.world = world
        self.index = index
        self.link = link
        self.node = node
        self.group = group
        self.h_per_pcu_s = h_per_pcu_s
        # (start s, end s, capacity factor): departures in [start, end) take 1/factor longer.
        self.incidents: list[tuple[float, float, float]] = []
        self.is_source = is_source
        self.queue: deque[QueueItem] = deque()
        self.next_free_s = 0.0
        # Earliest departure of a waiting head when a general lane group knows it
        # (sim.lanes); the plain one here never sets it.
        self.hold_s = -_INF
        # Buffers of detection points watching this stop line (see sim.observe).
        self.observers: list[list[tuple[int, float, float, float]]] = []

    def serve(self, now_s: float) -> None:
        """Schedule departures for as many queued vehicles as the known windows allow."""
        q = self.queue
        if not q:
            return
        world = self.world
        veh_pcu = world.veh_pcu
        wins = self.windows
        nwin = len(wins)
        link = self.link
        observers = self.observers
        while q:
            t_stop, vid, t_in, nxt = q[0]
            pcu = veh_pcu[vid]
            t = t_stop if t_stop > self.next_free_s else self.next_free_s
            if t < now_s:
                t = now_s
            while True:
                # Map t into the first window that ends after it.
                wi = self.wi
                while wi < nwin and t >= wins[wi][1]:
                    wi += 1
                if wi == nwin:
                    self.wi = wi
                    return  # beyond the known plan: the next cycle start retries
                if wi != self.wi:
                    self.wi = wi
                s, e = wins[wi]
                if t < s:
                    t = s
                if nxt is None or nxt.has_room_for(vid, pcu):
                    break
                te = nxt.earliest_entry_for(vid, t, pcu, now_s)
                if te is None:
                    nxt.waiters[self] = None
                    return
                if te <= t:
                    break
                t = te
            q.popleft()
            h = pcu * self.h_per_pcu_s
            if self.incidents:
                for t0, t1, factor in self.incidents:
                    if t0 <= t < t1:
                        h /= factor
            nf = t + h
            if nf > e:
                # Carry the headway that overran the window into the next window's start.
                over = nf - e
                j = wi + 1
                while over > 0.0 and j < nwin:
                    s2, e2 = wins[j]
                    if s2 + over < e2:
                        wins[j] = (s2 + over, e2)
                        over = 0.0
                    else:  # the overrun covers this whole window
                        over -= e2 - s2
                        wins[j] = (e2, e2)
                        j += 1
                if over > 0.0:
                    self.carry_s = over
            self.next_free_s = nf
            world.rec_append((vid, self.index, t_in, t_stop, t))
            if observers:
                for buf in observers:
                    buf.append((vid, t_in, t_stop, t))
            if link is not None:
                link.commit_exit(t, pcu, now_s, self)
            elif self.is_source:
                world.veh_t_in[vid] = t
            if nxt is not None:
                nxt.enter(vid, t)
