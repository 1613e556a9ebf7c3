"""Space-mean speed on a network's main roads by time of day, as route planners measure it.

The observed speeds of the HCMC core (HCMC_FACTS row 21) are car driving times between major
intersections: the sum of the routes' distances over the sum of their times, every signal's
delay included. The model's counterpart is the same ratio over the passes of vehicles along
the main roads inside the observed box: the length of each link driven over the time from
entering it to leaving its stop line (so the wait at the signal counts), summed over the
passes that entered in the time window. It differs from ``network_speed_kmh`` of
``summary.json``, which spreads over every street, alleys and entries included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trafficsim.sim.config import Scenario
from trafficsim.sim.geo import lon_lat
from trafficsim.sim.units import mps_to_kmh
from trafficsim.sim.world import ON_LINKS, World

MAIN_ROAD_CLASSES = ("trunk", "primary", "secondary", "tertiary")
"""OpenStreetMap classes of the roads between the observation's major intersections (and
their ``_link`` ramps): the routes of row 21 run along them."""


@dataclass(frozen=True, slots=True)
class Box:
    """A WGS84 box, degrees."""

    south: float
    west: float
    north: float
    east: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east


ROW_21_BOX = Box(10.770, 106.680, 10.796, 106.706)
"""The D1/D3 core box of the observed routes (HCMC_FACTS row 21)."""


def main_links(
    sc: Scenario, box: Box = ROW_21_BOX, classes: Sequence[str] = MAIN_ROAD_CLASSES
) -> frozenset[str]:
    """Links of the main road classes with both ends inside ``box``."""
    where = {n.id: lon_lat(sc.origin_lat, sc.origin_lon, n.x_m, n.y_m) for n in sc.nodes}
    wanted = set(classes)

    def inside(node: str) -> bool:
        lon, lat = where[node]
        return box.holds(lat, lon)

    return frozenset(
        ln.id
        for ln in sc.links
        if ln.road_class.removesuffix("_link") in wanted
        and inside(ln.from_node)
        and inside(ln.to_node)
    )


@dataclass(frozen=True, slots=True)
class WindowSpeed:
    start_s: float
    end_s: float
    speed_kmh: float | None
    """None: no pass entered the links in the window and left them by the run's end."""
    vehicle_km: float
    passes: int


def speeds_by_window(
    world: World, links: frozenset[str], windows: Sequence[tuple[float, float]]
) -> list[WindowSpeed]:
    """Σ length / Σ time of the passes along ``links`` that entered in each window
    ``[start_s, end_s)`` and had left the stop line by the world's time."""
    info = world.lane_group_info
    chosen = np.array([i.link in links and i.kind in ON_LINKS for i in info], dtype=bool)
    length = np.array([i.length_m for i in info])
    rec = world.records()
    lg = rec["lane_group"]
    t_in, t_dep = rec["t_in_s"], rec["t_dep_s"]
    ok = chosen[lg] & (t_dep <= world.now_s) if len(rec) else np.zeros(0, dtype=bool)
    out = []
    for a, b in windows:
        sel = ok & (t_in >= a) & (t_in < b)
        dist_m = float(length[lg[sel]].sum())
        time_s = float((t_dep[sel] - t_in[sel]).sum())
        speed = round(mps_to_kmh(dist_m / time_s), 3) if time_s > 0 else None
        out.append(WindowSpeed(a, b, speed, round(dist_m / 1000.0, 3), int(sel.sum())))
    return out
