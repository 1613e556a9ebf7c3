"""Read-only observation hooks: what a detector placed in the simulated city would see.

Sensors (``sensors.devices``) build their readings on these, adding their own errors and
faults; the truth itself is computed here because it depends on how the engine moves
vehicles. Nothing here changes the world.

A :class:`DetectionPoint` watches one lane group at ``distance_m`` upstream of its stop line
(0 for a stop-line loop or a camera looking at the stop line). In the engine's vertical-queue
model a vehicle reaches the point at free speed, at ``t_free = t_stop - distance / v``, unless
the queue in front of it reaches back over the point; then it creeps over the point as the
queue discharges, ``x_hold = distance / jam_spacing x lane headway`` before it leaves the
stop line, at the queue discharge speed ``jam_spacing / lane headway`` (7.5 m / 2 s = 13.5
km/h with the defaults). The point is *occupied* while a vehicle passes over it
(``(vehicle length + loop length) / speed``) and while the standing queue reaches it
(queued PCU >= ``distance x lanes / jam_spacing``).

Readings cover ``[previous read, t)`` and only use what has happened by ``t``. A vehicle
whose crossing falls in a period but whose departure was not yet scheduled at the end of it
(held by spillback, say) is counted in the period in which it becomes known, so every
vehicle is counted exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from trafficsim.sim.world import LaneGroupKind

if TYPE_CHECKING:
    from trafficsim.sim.world import World

PassRecord = tuple[int, float, float, float]
"""(vehicle id, link entry s, stop-line arrival s, stop-line departure s)."""

LOOP_LENGTH_M = 2.0
"""Length of the detection zone of a standard inductive loop (6 ft = 1.83 m square loops are
the US standard, FHWA Traffic Detector Handbook, 3rd ed., 2006); used for occupancy."""


@dataclass(frozen=True, slots=True)
class PointTruth:
    """Ground truth at a detection point over ``[t0_s, t1_s)``."""

    t0_s: float
    t1_s: float
    count: int
    count_by_class: tuple[int, ...]
    mean_speed_mps: float  # arithmetic mean of spot speeds; nan when nothing passed
    mean_length_m: float  # nan when nothing passed
    occupancy: float  # 0..1
    queue_veh: int  # standing at the stop line at t1
    queue_pcu: float
    queue_length_m: float  # physical length of that queue per lane


class DetectionPoint:
    """Truth at ``distance_m`` upstream of a lane group's stop line. Create it before the
    period it should see; it sees nothing that happened before it was created."""

    def __init__(self, world: World, lane_group_id: str, distance_m: float = 0.0) -> None:
        info = next((i for i in world.lane_group_info if i.id == lane_group_id), None)
        if info is None or not info.kind.at_stop_line:
            known = [i.id for i in world.lane_group_info if i.kind.at_stop_line]
            raise KeyError(
                f"no approach lane group {lane_group_id!r}; known: {', '.join(known[:20])}"
                + (" ..." if len(known) > 20 else "")
            )
        if not 0.0 <= distance_m < info.length_m:
            raise ValueError(
                f"distance_m must be in [0, {info.length_m:g}) m (the link's length), "
                f"got {distance_m:g}"
            )
        self.world = world
        self.lane_group_id = lane_group_id
        self.info = info
        self.distance_m = distance_m
        self._lg = world.lane_groups[info.index]
        self._buf: list[PassRecord] = []
        self._lg.observers.append(self._buf)
        spacing = world.scenario.jam_spacing_m_per_pcu
        lane_headway_s = self._lg.h_per_pcu_s * info.lanes  # per PCU in one lane
        self._x_hold_s = distance_m / spacing * lane_headway_s
        self._creep_mps = spacing / lane_headway_s
        self._reach_pcu = max(distance_m * info.lanes / spacing, 1e-9)
        self._spacing = spacing
        classes = world.scenario.classes
        self._n_classes = len(classes)
        self._len_by_class = [c.length_m for c in classes]
        self._pending: list[tuple[float, int, float]] = []  # (t_cross, vid, speed)
        self._active: list[tuple[float, float, float]] = []  # (t_stop, t_dep, pcu) delayed
        self.t_last_s = world.now_s

    def read(self, t1_s: float) -> PointTruth:
        """What the point saw since the last read, up to ``t1_s`` (at most the world's now)."""
        world = self.world
        if t1_s > world.now_s + 1e-9:
            raise ValueError(f"cannot observe the future: now {world.now_s:g} s, asked {t1_s:g} s")
        t0 = self.t_last_s
        d = self.distance_m
        veh_pcu = world.veh_pcu
        for vid, t_in, t_stop, t_dep in self._buf:
            v = self.info.length_m / (t_stop - t_in) if t_stop > t_in else 1.0
            t_free = t_stop - d / v
            t_hold = t_dep - self._x_hold_s
            if t_hold > t_free:
                self._pending.append((t_hold, vid, self._creep_mps if d > 0 else v))
            else:
                self._pending.append((t_free, vid, v))
            if t_dep > t_stop:
                self._active.append((t_stop, t_dep, veh_pcu[vid]))
        self._buf.clear()

        crossed = [p for p in self._pending if p[0] < t1_s]
        self._pending = [p for p in self._pending if p[0] >= t1_s]
        by_class = [0] * self._n_classes
        speed_sum = length_sum = passing_s = 0.0
        veh_class = world.veh_class
        for _, vid, speed in crossed:
            c = veh_class[vid]
            by_class[c] += 1
            length = self._len_by_class[c]
            speed_sum += speed
            length_sum += length
            passing_s += (length + LOOP_LENGTH_M) / speed

        # Standing queue: delayed vehicles scheduled, plus those not yet scheduled.
        waiting = [
            (t_stop, float("inf"), veh_pcu[vid])
            for t_stop, vid, _, _ in self._lg.queue
            if t_stop < t1_s
        ]
        spans = [s for s in self._active if s[0] < t1_s and s[1] > t0] + waiting
        standing_s = _time_at_or_above(spans, t0, t1_s, self._reach_pcu)
        at_end = [s for s in spans if s[0] <= t1_s < s[1]]
        queue_pcu = sum(s[2] for s in at_end)
        self._active = [s for s in self._active if s[1] > t1_s]
        self.t_last_s = t1_s

        n = len(crossed)
        width = t1_s - t0
        occ = min(1.0, (standing_s + passing_s) / width) if width > 0 else 0.0
        return PointTruth(
            t0_s=t0,
            t1_s=t1_s,
            count=n,
            count_by_class=tuple(by_class),
            mean_speed_mps=speed_sum / n if n else float("nan"),
            mean_length_m=length_sum / n if n else float("nan"),
            occupancy=occ,
            queue_veh=len(at_end),
            queue_pcu=queue_pcu,
            queue_length_m=queue_pcu * self._spacing / self.info.lanes,
        )


def _time_at_or_above(
    spans: list[tuple[float, float, float]], t0: float, t1: float, level: float
) -> float:
    """Time within [t0, t1) during which the summed weight of open spans is >= level."""
    if not spans or t1 <= t0:
        return 0.0
    events: list[tuple[float, float]] = []
    for a, b, w in spans:
        events.append((max(a, t0), w))
        if b < t1:
            events.append((b, -w))
    events.sort(key=lambda e: (e[0], e[1]))
    total = 0.0
    q = 0.0
    last = t0
    for t, w in events:
        if q >= level - 1e-9 and t > last:
            total += t - last
        q += w
        last = max(last, t)
    if q >= level - 1e-9:
        total += t1 - last
    return total


@dataclass(frozen=True, slots=True)
class Traversal:
    """One vehicle's drive along one link: entry to leaving its stop line (or its end)."""

    vid: int
    link: str
    t_in_s: float
    t_out_s: float
    length_m: float


class TraversalFeed:
    """Completed link traversals, in the order they become known (for probe vehicles)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._cursor = len(world._records)
        self._pending: list[tuple[int, int, float, float, float]] = []
        self._link_of = [
            i.link if i.kind is not LaneGroupKind.ENTRY else "" for i in world.lane_group_info
        ]
        self._len_of = [
            world.links[i.link].length_m if i.kind is not LaneGroupKind.ENTRY else 0.0
            for i in world.lane_group_info
        ]

    def read(self, t1_s: float) -> list[Traversal]:
        """Traversals finished by ``t1_s`` and not returned before."""
        recs = self.world._records
        self._pending.extend(r for r in recs[self._cursor :] if self._link_of[r[1]])
        self._cursor = len(recs)
        done = [r for r in self._pending if r[4] <= t1_s]
        self._pending = [r for r in self._pending if r[4] > t1_s]
        return [
            Traversal(
                vid=r[0],
                link=self._link_of[r[1]],
                t_in_s=r[2],
                t_out_s=r[4],
                length_m=self._len_of[r[1]],
            )
            for r in done
        ]
