"""Lane groups whose vehicles do not all obey one signal group: shared lanes and movements
that give way.

Why lane-level queues rather than HCM's shared-lane method. HCM (6th ed., Ch. 19 and 31)
folds a shared lane into a lane group whose saturation flow is reduced by factors for the
turning share; that is an average over a period and cannot show a through vehicle standing
behind a left-turner whose arrow is red, which is what happens on 26 of cologne8's 33
approach lanes. Here the lanes of a link that serve the same set of movements form one
queue (a :class:`~trafficsim.sim.queues.LaneGroup`, discharging at the lanes' saturation
flow); a vehicle entering the link picks, among the lane groups its movement may use, the
one where it expects to leave first (``sim.lane_estimates.pick_lane_group``: drivers
choose the lane that moves, as mesoscopic lane-choice models do); and each queue is FIFO,
its head leaving on *its own* movement's terms, so a head waiting for red (or for a gap)
holds everyone behind it. A link whose lanes each serve one signal group keeps the plain
lane group and exactly today's results.

:class:`MixedLaneGroup` is the general queue: per movement a
:class:`~trafficsim.sim.lane_rules.MovementRule` (whose green windows apply, which
:class:`~trafficsim.sim.gaps.ConflictStream` it yields to, with which headways, and whether
it may go on red after yielding), and per signal group a
:class:`~trafficsim.sim.lane_rules.WindowTrack` that the signal head fills as it fills a
lane group.

Gap acceptance needs to know the conflicting passages up to ``t + t_c``. Departures are
scheduled ahead, in bulk, so usually they are known; a lower bound on the next departure
of each conflicting lane group (``sim.lane_estimates.departure_bound``: its queue head,
its next free time, and vehicles that could still enter its link, traced two links
upstream) says how far. When that is not far enough the head waits (a wake-up is set for
when it will be), and at the latest it decides at the moment it would go, with the
passages known then: a conflicting vehicle scheduled later inside the gap is not seen.
That happens when the conflicting vehicle is standing (a queue held by spillback, or on a
link shorter than ``t_c`` of driving); it never stops the simulation, whatever the pattern
of yields.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from trafficsim.sim.lane_estimates import departure_bound
from trafficsim.sim.lane_rules import MovementRule, WindowTrack
from trafficsim.sim.queues import LaneGroup

if TYPE_CHECKING:
    from trafficsim.sim.gaps import ConflictStream
    from trafficsim.sim.network import LinkState
    from trafficsim.sim.world import World

_INF = math.inf
_BLOCKED = -1.0  # _gap: the head must wait (a wake-up is set)
WAKE_STEP_S = 1.0
"""Shortest wait before a yielding head looks again (doubling for the same head): a later
look changes no decision, since it is made before the vehicle would go either way and with
at least as much known; looking often only costs events."""


class MixedLaneGroup(LaneGroup):
    """A FIFO queue whose head leaves on its own movement's windows and gaps."""

    __slots__ = ("default_rule", "published", "retries", "rules", "tracks", "wake_s")

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
        super().__init__(
            world, index, link, node, group, h_per_pcu_s, always_green=always_green,
            is_source=is_source,
        )  # fmt: skip
        self.rules: dict[LinkState, MovementRule] = {}
        # For a vehicle whose next link no rule names: its first movement's rule once there
        # is one (until then: go whenever the line and the next link allow).
        self.default_rule = MovementRule(None, (), 0.0, 0.0, on_red=False, publish=None)
        self.tracks: dict[str, WindowTrack] = {}
        self.wake_s = _INF
        self.retries = 0  # blocked looks of the current head
        self.published: list[ConflictStream] = []

    def track(self, group: str) -> WindowTrack:
        """The windows of ``group`` here (what its signal head publishes into)."""
        tr = self.tracks.get(group)
        if tr is None:
            tr = self.tracks[group] = WindowTrack(self, always_green=False)
        return tr

    def add_rule(self, nxt: LinkState, rule: MovementRule) -> None:
        if not self.rules:
            self.default_rule = rule
        self.rules[nxt] = rule
        if rule.publish is not None and rule.publish not in self.published:
            self.published.append(rule.publish)

    def add_windows(
        self, windows: list[tuple[float, float]], known_until_s: float | None = None
    ) -> None:
        for tr in self.tracks.values():
            tr.add_windows(windows, known_until_s)

    # -- discharge ---------------------------------------------------------------------------
    def serve(self, now_s: float) -> None:
        q = self.queue
        if not q:
            return
        world = self.world
        veh_pcu = world.veh_pcu
        link = self.link
        hold_before = self.hold_s
        self.hold_s = -_INF  # found again below if the head has to wait
        served = False
        while q:
            t_stop, vid, t_in, nxt = q[0]
            rule = self.rules.get(nxt) if nxt is not None else None
            if rule is None:
                rule = self.default_rule
            pcu = veh_pcu[vid]
            t = t_stop if t_stop > self.next_free_s else self.next_free_s
            if t < now_s:
                t = now_s
            found = self._departure(rule, vid, t, t_stop, pcu, nxt, now_s)
            if found is None:
                break
            t, h_per_pcu, wi = found
            q.popleft()
            h = pcu * h_per_pcu
            for t0, t1, factor in self.incidents:
                if t0 <= t < t1:
                    h /= factor
            nf = t + h
            if wi >= 0 and rule.track is not None and nf > rule.track.windows[wi][1]:
                rule.track.carry(wi, nf)
            self.next_free_s = nf
            self.hold_s = -_INF
            self.retries = 0
            served = True
            world.rec_append((vid, self.index, t_in, t_stop, t))
            for buf in self.observers:
                buf.append((vid, t_in, t_stop, t))
            if rule.publish is not None:
                rule.publish.add(t, now_s)
            if link is not None:
                link.commit_exit(t, pcu, now_s, self)
            elif self.is_source:
                world.veh_t_in[vid] = t
            if nxt is not None:
                nxt.enter(vid, t)
        if served or self.hold_s > hold_before + 1e-9:
            for stream in self.published:
                for lg in stream.listeners:
                    world.kick(lg)

    def _departure(
        self,
        rule: MovementRule,
        vid: int,
        t: float,
        t_stop: float,
        pcu: float,
        nxt: LinkState | None,
        now_s: float,
    ) -> tuple[float, float, int] | None:
        """(departure s, headway per PCU after it, window index or -1), or None: the head
        waits (for windows, a gap's horizon or room downstream; who wakes it is arranged)."""
        while True:
            gap = False
            wi = -1
            track = rule.track
            if track is None:
                if rule.streams:
                    r = self._gap(rule, t, _INF, now_s)
                    if r == _BLOCKED:
                        return None
                    t, gap = r, True
            else:
                if rule.sneakers:
                    sneak = self._sneak(rule, track, vid, t, t_stop, pcu, nxt, now_s)
                    if sneak is not None:
                        return sneak if sneak[0] >= 0.0 else None
                wi = track.locate(t)
                green = wi >= 0 and t >= track.windows[wi][0]
                if not green:
                    if rule.on_red:
                        red_end = track.windows[wi][0] if wi >= 0 else track.known_until_s
                        r = self._gap(rule, t, red_end, now_s) if t < red_end else _INF
                        if r == _BLOCKED:
                            return None
                        if r < _INF:
                            t, gap, wi = r, True, -1
                        elif wi >= 0:
                            t, green = track.windows[wi][0], True
                        else:
                            self._hold(max(t, track.known_until_s))
                            return None  # the head publishes the next windows and kicks
                    elif wi < 0:
                        self._hold(max(t, track.known_until_s))
                        return None
                    else:
                        t, green = track.windows[wi][0], True
                if green and rule.streams and not rule.on_red:
                    # Permitted: on green too it gives way (on_red movements do so on red).
                    e = track.windows[wi][1]
                    r = self._gap(rule, t, e, now_s)
                    if r == _BLOCKED:
                        return None
                    if r == _INF:  # no gap in this window: try the next one
                        t = e
                        continue
                    t, gap = r, True
                    wi = -1
            if nxt is None or nxt.has_room_for(vid, pcu):
                break
            te = nxt.earliest_entry_for(vid, t, pcu, now_s)
            if te is None:
                nxt.waiters[self] = None
                self._hold(t)
                return None
            if te <= t:
                break
            t = te
        if gap and rule.follow_up_per_pcu_s > self.h_per_pcu_s:
            return t, rule.follow_up_per_pcu_s, wi
        return t, self.h_per_pcu_s, wi

    def _sneak(
        self,
        rule: MovementRule,
        track: WindowTrack,
        vid: int,
        t: float,
        t_stop: float,
        pcu: float,
        nxt: LinkState | None,
        now_s: float,
    ) -> tuple[float, float, int] | None:
        """A permitted vehicle that reached the line during the current green but would
        only leave after it: it clears at the green's end, if fewer than ``sneakers`` have
        and no conflicting vehicle comes within ``t_c`` of it. (end, 0, -1) if so (they
        clear together); (-1, 0, -1) if that is not known yet; None otherwise."""
        wins = track.windows
        w0 = track.wi
        if w0 >= len(wins):
            return None
        e0 = wins[w0][1]
        if t < e0 or t_stop >= e0 or e0 < now_s:
            return None
        if self.next_free_s - self.h_per_pcu_s * pcu >= e0:
            return None
        if w0 + 1 < len(wins):
            if wins[w0 + 1][0] <= e0 + 1e-9:
                return None  # the green goes on (a cabinet publishes it step by step)
        elif track.known_until_s <= e0 + 1e-9:
            self._hold(e0)
            return (-1.0, 0.0, -1)  # is it the green's end? the next step will tell
        if rule.sneak_end_s != e0:
            rule.sneak_end_s, rule.sneak_count = e0, 0
        if rule.sneak_count >= rule.sneakers or not (nxt is None or nxt.has_room_for(vid, pcu)):
            return None
        r = self._gap(rule, e0, e0 + 1e-9, now_s)
        if r == _BLOCKED:
            return (-1.0, 0.0, -1)
        if r == _INF:
            return None
        rule.sneak_count += 1
        return (e0, 0.0, -1)

    def _hold(self, t_s: float) -> None:
        if t_s > self.hold_s:
            self.hold_s = t_s

    def _gap(self, rule: MovementRule, t: float, limit: float, now_s: float) -> float:
        """Earliest ``t' >= t`` before ``limit`` with no conflicting passage in
        ``(t', t' + t_c)``; inf if there is none; _BLOCKED if it cannot be known yet."""
        tc = rule.critical_gap_s
        streams = rule.streams
        for s in streams:
            s.prune(now_s)
        horizon = -_INF
        while t < limit:
            nxt_pass = _INF
            for s in streams:
                p = s.next_after(t)
                if p < nxt_pass:
                    nxt_pass = p
            if nxt_pass < t + tc:
                t = nxt_pass  # go right behind it, if the gap after it is long enough
                continue
            if horizon < t + tc:
                horizon = self._horizon(rule, now_s, t + tc)
            if t + tc <= horizon or t <= now_s:
                return t
            self._hold(t)
            # Entries upstream push the horizon on as time passes; a standing conflicting
            # queue does not (it kicks its listeners when it moves), so the same head looks
            # again ever less often, and at t at the latest.
            step = WAKE_STEP_S * (1 << min(self.retries, 6))
            self.retries += 1
            self._wake_at(min(t, now_s + max(t + tc - horizon, step)))
            return _BLOCKED
        return _INF

    def _horizon(self, rule: MovementRule, now_s: float, need_s: float) -> float:
        """Up to when the conflicting streams' passages are all known (exactly enough to
        tell whether that reaches ``need_s``)."""
        h = _INF
        for s in rule.streams:
            for src in s.sources:
                b = departure_bound(src, now_s, 2, need_s)
                if b < h:
                    h = b
                    if h < need_s:
                        return h
        return h

    def _wake_at(self, t_s: float) -> None:
        if t_s >= self.wake_s:
            return  # an earlier wake-up is already set
        env = self.world.env
        self.wake_s = t_s
        ev = env.timeout(max(0.0, t_s - env.now))
        ev.callbacks.append(self._on_wake)

    def _on_wake(self, _event: simpy.Event) -> None:
        self.wake_s = _INF
        world = self.world
        world.events_processed += 1
        world.kick(self)
        world.drain()
