"""What a lane group's queue will do next, as far as the departures already scheduled tell:
for a vehicle choosing its lane (:func:`pick_lane_group`) and for a yielding vehicle that
needs to know how far ahead its conflicting streams are known (:func:`departure_bound`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trafficsim.sim.queues import LaneGroup

_INF = math.inf


def departure_bound(lg: LaneGroup, now_s: float, depth: int, need_s: float = _INF) -> float:
    """A time before which ``lg`` will schedule no more departures: its waiting head, its
    next free time, and the earliest a vehicle not yet on its link could reach the stop
    line (through the lane groups that feed the link, ``depth`` links upstream).

    Only whether the bound reaches ``need_s`` matters to the caller, so the search stops
    as soon as that is settled: a result below ``need_s`` may then be above the exact bound
    (never below it), a result at or above ``need_s`` is exact enough.
    """
    link = lg.link
    if link is None:  # a network entry: the next vehicle may come at any time
        entr = now_s
    else:
        tt = link.tt_min_s
        entr = now_s + tt
        if entr < need_s and depth > 0 and link.feeders:
            up = _INF
            for f in link.feeders:
                b = departure_bound(f, now_s, depth - 1, need_s - tt)
                if b < up:
                    up = b
                    if up + tt < need_s:
                        break  # not far enough whatever the others say
            if up + tt > entr:
                entr = up + tt
    b = entr
    if lg.queue:
        head = _head_earliest(lg)
        if head < b:
            b = head
    if lg.next_free_s > b:
        b = lg.next_free_s
    return b if b > now_s else now_s


def _head_earliest(lg: LaneGroup) -> float:
    """Earliest departure of ``lg``'s waiting head as far as it is known."""
    head = lg.queue[0][0]
    if lg.hold_s > head:
        head = lg.hold_s
    if lg.wi >= len(lg.windows) and lg.known_until_s > head:
        head = lg.known_until_s  # waiting for a green not yet published
    return head


def pick_lane_group(
    options: tuple[LaneGroup, ...], t_stop_s: float, veh_pcu: list[float]
) -> LaneGroup:
    """The lane group where a vehicle reaching the stop line at ``t_stop_s`` expects to
    leave first (ties: the rightmost, listed first): after the departures already scheduled
    and the PCU waiting, with a waiting head's own wait when it is known."""
    best = options[0]
    best_t = _INF
    for lg in options:
        t = lg.next_free_s
        q = lg.queue
        if q:
            head = _head_earliest(lg)
            if head > t:
                t = head
            pcu = 0.0
            for n, item in enumerate(q, 1):
                pcu += veh_pcu[item[1]]
                if n == 64:  # long enough to be sure; extrapolate the rest
                    pcu *= len(q) / n
                    break
            t += pcu * lg.h_per_pcu_s
        if t < t_stop_s:
            t = t_stop_s
        if t < best_t - 1e-9:
            best, best_t = lg, t
    return best
