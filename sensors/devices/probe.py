"""Probe vehicles: a share of vehicles (ride-hailing GPS) reporting link travel times."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from trafficsim.sensors.deployment import DeviceSpec
from trafficsim.sensors.devices.faults import FaultState, Outcome
from trafficsim.sensors.readings import DeviceInfo, Reading, StatusChange
from trafficsim.sim import TraversalFeed, World, lon_lat


class ProbeFleet:
    """Aggregates the travel times of probe vehicles per link and period.

    Which vehicles are probes is drawn once, up front, with probability ``share`` each. One
    reading per link with at least one probe traversal in the period: the number of probes,
    their mean travel time and the space-mean speed (length / mean travel time).
    """

    def __init__(
        self,
        world: World,
        spec: DeviceSpec,
        faults: FaultState,
        info: DeviceInfo,
        rng: np.random.Generator,
    ) -> None:
        self.spec = spec
        self.info = info
        self.faults = faults
        n = len(world.veh_t_gen)
        self.is_probe = (rng.random(n) < spec.share).tolist()
        self.feed = TraversalFeed(world)
        sc = world.scenario
        nodes = {n.id: n for n in sc.nodes}
        self._link_to = {ln.id: ln.to_node for ln in sc.links}
        self._link_pos: dict[str, tuple[float, float]] = {}
        for ln in sc.links:
            a, b = nodes[ln.from_node], nodes[ln.to_node]
            self._link_pos[ln.id] = lon_lat(
                sc.origin_lat, sc.origin_lon, (a.x_m + b.x_m) / 2, (a.y_m + b.y_m) / 2
            )
        self.seq = 0
        self._t_last = world.now_s

    def sample(self, t_s: float) -> list[Reading | StatusChange]:
        trips = [tr for tr in self.feed.read(t_s) if self.is_probe[tr.vid]]
        t0, self._t_last = self._t_last, t_s
        outcome, change = self.faults.step(t_s, self.spec.period_s)
        out: list[Reading | StatusChange] = []
        if change is not None:
            out.append(StatusChange(self.spec.device_id, t_s, change))
        if outcome is Outcome.OFFLINE:
            return out
        by_link: dict[str, list[float]] = defaultdict(list)
        lengths: dict[str, float] = {}
        for tr in trips:
            by_link[tr.link].append(tr.t_out_s - tr.t_in_s)
            lengths[tr.link] = tr.length_m
        for link in sorted(by_link):
            self.seq += 1
            if outcome is Outcome.DROPPED:
                continue
            tt = self.faults.noisy(float(np.mean(by_link[link])))
            lon, lat = self._link_pos[link]
            out.append(
                Reading(
                    device_id=self.spec.device_id,
                    kind=self.spec.kind,
                    seq=self.seq,
                    t0_s=t0,
                    t1_s=t_s,
                    intersection=self._link_to[link],
                    link=link,
                    lane_group=None,
                    count=len(by_link[link]),
                    lon=lon,
                    lat=lat,
                    travel_time_s=tt,
                    speed_mps=lengths[link] / tt if tt > 0 else None,
                )
            )
        return out
